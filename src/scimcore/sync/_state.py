"""What a sync remembers between runs, in a SQLite file: links, marks and the runs themselves.

- ``links``: which source resource is which target resource, one row per pair, written the
  moment a create, an adoption or a match is made (so a run killed half-way has kept every
  link it made: the next run, planned afresh, finds them and repeats nothing);
- ``marks``: per resource type and side, the ``meta.lastModified`` an incremental run reads
  from, moved only by a run that ended without a failure;
- ``runs``: when each run started and ended, and its counts;
- ``ends``: the names of the two ends, so that a state file is never used for another pair.
"""

from __future__ import annotations

import datetime
import json
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path

__all__ = ["Links", "StateMismatch", "SyncState"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ends (side TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    kind TEXT NOT NULL, source_id TEXT NOT NULL, target_id TEXT NOT NULL,
    PRIMARY KEY (kind, source_id), UNIQUE (kind, target_id)
);
CREATE TABLE IF NOT EXISTS marks (
    kind TEXT NOT NULL, side TEXT NOT NULL, last_modified TEXT NOT NULL,
    PRIMARY KEY (kind, side)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT, mode TEXT NOT NULL,
    outcome TEXT, counts TEXT
);
"""


class StateMismatch(ValueError):
    """The state file belongs to another pair of ends."""


class Links:
    """Source id ↔ target id of one resource type, both ways.

    >>> links = Links({"s1": "t1"})
    >>> links.target_of("s1"), links.source_of("t1"), links.source_of("t2")
    ('t1', 's1', None)
    """

    def __init__(self, pairs: Mapping[str, str] | None = None) -> None:
        self.forward: dict[str, str] = dict(pairs or {})
        self.backward: dict[str, str] = {t: s for s, t in self.forward.items()}

    def __len__(self) -> int:
        return len(self.forward)

    def target_of(self, source_id: str) -> str | None:
        return self.forward.get(source_id)

    def source_of(self, target_id: str) -> str | None:
        return self.backward.get(target_id)

    def add(self, source_id: str, target_id: str) -> None:
        self.drop(source_id=source_id)
        self.drop(target_id=target_id)
        self.forward[source_id] = target_id
        self.backward[target_id] = source_id

    def drop(self, *, source_id: str | None = None, target_id: str | None = None) -> None:
        if source_id is not None and source_id in self.forward:
            self.backward.pop(self.forward.pop(source_id), None)
        if target_id is not None and target_id in self.backward:
            self.forward.pop(self.backward.pop(target_id), None)


class SyncState:
    """The state of one pair of ends, kept in a SQLite file (``":memory:"`` for none).

    >>> state = SyncState(":memory:")
    >>> state.bind("hr", "app")
    >>> state.link("User", "s1", "t1")
    >>> state.links("User").target_of("s1")
    't1'
    >>> state.bind("hr", "other")
    Traceback (most recent call last):
    ...
    scimcore.sync._state.StateMismatch: this state file syncs 'hr' to 'app', not 'hr' to 'other'
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            if self.path != ":memory:":
                # WAL, synchronous NORMAL: a committed link survives the process being killed
                # (not a power cut), at a fraction of a full sync's cost per commit.
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def bind(self, source: str, target: str) -> None:
        """Record the names of the two ends, or refuse a state file made for another pair."""
        with self._lock:
            rows = dict(self._db.execute("SELECT side, name FROM ends").fetchall())
            if not rows:
                self._db.executemany(
                    "INSERT INTO ends VALUES (?, ?)", [("source", source), ("target", target)]
                )
                return
        if rows != {"source": source, "target": target}:
            raise StateMismatch(
                f"this state file syncs {rows.get('source')!r} to {rows.get('target')!r},"
                f" not {source!r} to {target!r}"
            )

    def links(self, kind: str) -> Links:
        """Every link of one resource type."""
        with self._lock:
            rows = self._db.execute(
                "SELECT source_id, target_id FROM links WHERE kind = ?", (kind,)
            ).fetchall()
        return Links(dict(rows))

    def link(self, kind: str, source_id: str, target_id: str) -> None:
        """Link two resources (replacing any link either had), committed at once."""
        with self._lock:
            self._db.execute(
                "DELETE FROM links WHERE kind = ? AND (source_id = ? OR target_id = ?)",
                (kind, source_id, target_id),
            )
            self._db.execute("INSERT INTO links VALUES (?, ?, ?)", (kind, source_id, target_id))

    def link_many(self, kind: str, pairs: list[tuple[str, str]]) -> None:
        """Link each ``(source id, target id)``, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                for source_id, target_id in pairs:
                    self._db.execute(
                        "DELETE FROM links WHERE kind = ? AND (source_id = ? OR target_id = ?)",
                        (kind, source_id, target_id),
                    )
                    self._db.execute(
                        "INSERT INTO links VALUES (?, ?, ?)", (kind, source_id, target_id)
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def unlink(
        self, kind: str, *, source_id: str | None = None, target_id: str | None = None
    ) -> None:
        """Forget the link of a source or target resource."""
        with self._lock:
            self._db.execute(
                "DELETE FROM links WHERE kind = ? AND (source_id = ? OR target_id = ?)",
                (kind, source_id, target_id),
            )

    def mark(self, kind: str, side: str) -> datetime.datetime | None:
        """Where the next incremental run of ``kind`` reads ``side`` from, ``None``: all."""
        with self._lock:
            row = self._db.execute(
                "SELECT last_modified FROM marks WHERE kind = ? AND side = ?", (kind, side)
            ).fetchone()
        return None if row is None else datetime.datetime.fromisoformat(row[0])

    def set_mark(self, kind: str, side: str, when: datetime.datetime) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO marks VALUES (?, ?, ?) ON CONFLICT (kind, side)"
                " DO UPDATE SET last_modified = excluded.last_modified",
                (kind, side, when.isoformat()),
            )

    def start_run(self, mode: str) -> int:
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO runs (started, mode) VALUES (?, ?)", (_now(), mode)
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run: int, outcome: str, counts: Mapping[str, int]) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE runs SET finished = ?, outcome = ?, counts = ? WHERE id = ?",
                (_now(), outcome, json.dumps(dict(counts), sort_keys=True), run),
            )

    def runs(self) -> list[tuple[str, str | None, str | None]]:
        """``(mode, outcome, counts)`` of every run, oldest first (unfinished: outcome ``None``)."""
        with self._lock:
            rows = self._db.execute("SELECT mode, outcome, counts FROM runs ORDER BY id").fetchall()
        return [(str(m), o, c) for m, o, c in rows]


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()
