"""SQLiteStore: the embedded default store (stdlib ``sqlite3``, WAL, filters in SQL).

Theory of operation:

- One row per resource in ``scim_resources``: ``rid`` (an ``AUTOINCREMENT``
  creation sequence, never reused, the final tie-break of every order), the
  resource type, ``id``, a version, ``doc`` (the JSON of
  ``encode(resource, full=True)``, read back with ``decode``) and ``sdoc``, the
  search document (:mod:`scimcore.stores.sql`), which multi-valued and complex
  conditions read.
- One narrow row per resource in ``scim_search``, which every search scans:
  columns ``s0``, ``s1``… hold the comparable value of every singular simple
  attribute (the slots of :func:`~scimcore.stores._common.scalar_paths`, per
  resource type), so that most comparisons and sorts read a column, not JSON,
  and a scan reads little. A condition that needs the search document reads
  it by ``rid``.
- ``scim_lookup (key, value, rid)`` holds the comparable values of the indexed
  paths (``user/username``, ``user/emails/value``…): an ``eq`` on one of them is
  an index seek. ``scim_unique (key, value, rid)`` holds the values that must be
  unique; its primary key makes a duplicate impossible even between processes.
- ``scim_meta`` holds the schema version (migrations run on open), the
  version counter (every write takes the next number: ``W/"n"``), the cursor
  secret (cursors survive a restart) and a digest of what the index tables
  were built with (lookups, unique rules, Unicode version): on a change, the
  store rebuilds them on open.
- Threads: one connection per thread (WAL lets readers run beside a writer);
  writes take an in-process lock and ``BEGIN IMMEDIATE``; a search reads its
  count and its page in one transaction.
- Checkpoints: a commit only appends to the write-ahead log; copying the log
  back into the database (two ``fsync`` calls) is done by a background thread
  (:class:`_Checkpointer`) a moment after writes, not by the commit that
  happens to cross SQLite's threshold (which made one create in ~100 wait
  ~17 ms). SQLite's own automatic checkpoint stays on at a high threshold, as
  a safety net should the thread fall behind. ``scim_fold`` (NFC + casefold) is
  registered on every connection for ad-hoc SQL; the store itself compares
  pre-folded values and never calls it per row.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from scimcore._json import compact
from scimcore.errors import (
    InternalServerError,
    InvalidValue,
    NotFound,
    PreconditionFailed,
    ScimError,
    Uniqueness,
)
from scimcore.filter import And, Compare, Filter, Not, Or, ValuePath
from scimcore.storage._cursor import CursorCodec, Position, SortKey
from scimcore.storage._memberships import search_memberships
from scimcore.storage._query import Page, Query, registry_of, resolve_sorts, resource_type_of
from scimcore.storage._values import comparable, fold, versions_match
from scimcore.stores._common import (
    DEFAULT_LOOKUPS,
    Clock,
    UniqueRule,
    check_models,
    lookup_refs,
    new_id,
    scalar_paths,
    shown,
    stamp,
    unique_rules,
    unique_values,
    unknown_model,
    utcnow,
)
from scimcore.stores._memory import default_models, predicate, search_policy
from scimcore.stores.sql._compiler import FilterCompiler, Slot
from scimcore.stores.sql._dialect import SQLiteDialect
from scimcore.stores.sql._document import search_document, search_values, singular_value

__all__ = ["SCHEMA_VERSION", "SQLiteStore"]

R = TypeVar("R")

#: The version of the database layout this code writes; older files are migrated.
SCHEMA_VERSION = 2

_CREATE = """
CREATE TABLE IF NOT EXISTS scim_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scim_resources (
    rid INTEGER PRIMARY KEY AUTOINCREMENT,
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    sdoc TEXT NOT NULL,
    UNIQUE (resource_type, id)
);
CREATE TABLE IF NOT EXISTS scim_search (rid INTEGER PRIMARY KEY, resource_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scim_lookup (
    key TEXT NOT NULL, value NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (key, value, rid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scim_unique (
    key TEXT NOT NULL, value NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (key, value)
) WITHOUT ROWID;
"""

#: The search document of the row being filtered (``r`` is ``scim_search``).
_DOCUMENT = "(SELECT sdoc FROM scim_resources WHERE rid = r.rid)"

#: Migrations: ``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``.
MIGRATIONS: dict[int, str] = {
    # 2: index rows are removed by their keys (from the stored search document), so the
    # two indexes by rid, two more B-trees written by every write, are gone.
    1: "DROP INDEX IF EXISTS scim_lookup_rid; DROP INDEX IF EXISTS scim_unique_rid",
}


#: SQLite's own automatic checkpoint threshold (pages of log): a safety net only.
_AUTOCHECKPOINT_PAGES = 16384
#: The size the log file is cut back to after a checkpoint (bytes).
_JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


class _Checkpointer:
    """Copies the write-ahead log back into the database, off the request path.

    A write calls :meth:`wrote`; the thread (started on the first write, ended
    after a while without writes or by :meth:`stop`) waits ``delay`` seconds so
    that one checkpoint covers every write of that moment, then runs a
    ``PASSIVE`` checkpoint on its own connection, which never blocks readers
    or writers. The thread holds no reference to the store.
    """

    def __init__(self, path: str, busy_timeout: float, delay: float = 0.2) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.delay = delay
        self.idle = 5.0
        self._pending = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wrote(self) -> None:
        """Note a commit; start the thread if it is not running."""
        self._pending.set()
        thread = self._thread
        if thread is None or not thread.is_alive():  # not started, idle, or lost in a fork
            with self._lock:
                thread = self._thread
                if (thread is None or not thread.is_alive()) and not self._stopped.is_set():
                    self._thread = threading.Thread(
                        target=self._run, name="scimcore-sqlite-checkpoint", daemon=True
                    )
                    self._thread.start()

    def stop(self) -> None:
        """Checkpoint what is pending and end the thread."""
        with self._lock:
            self._stopped.set()
            self._pending.set()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            while True:
                if not self._pending.wait(self.idle):
                    with self._lock:
                        if not self._pending.is_set():  # idle: end; the next write restarts it
                            self._thread = None
                            return
                self._stopped.wait(self.delay)  # gather the writes of this moment
                self._pending.clear()
                if db is None:
                    db = sqlite3.connect(self.path, isolation_level=None, timeout=self.busy_timeout)
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                if self._stopped.is_set():
                    return
        finally:
            if db is not None:
                db.close()


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _dumps(value: Any) -> str:
    return _valid_text(compact(value))


def _valid_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue("A string holds a lone surrogate, which is not valid Unicode.") from None
    return text


class SQLiteStore:
    """A store in one SQLite file; filters and sorts run in SQL.

    ``path`` is a file (created if missing) or ``":memory:"`` (one connection,
    for tests). ``models``: the resource models kept (default ``User``,
    ``Group``). ``unique``: unique attributes per resource type beyond the
    schema's own, such as ``{"User": ["externalId"]}``. ``lookups``: the
    attribute paths indexed for ``eq`` per resource type (default
    :data:`~scimcore.stores._common.DEFAULT_LOOKUPS`: ``userName``, ``externalId``,
    ``emails.value``; Group ``displayName``, ``externalId``, ``members.value``); ``id`` is
    always indexed.

    >>> from scimcore.models import User
    >>> from scimcore.storage import Query
    >>> store = SQLiteStore(":memory:")
    >>> _ = store.create(User(user_name="bjensen"))
    >>> page = store.search(Query(models=User, filter='userName eq "BJENSEN"'))
    >>> page.total, page.resources[0].user_name
    (1, 'bjensen')
    >>> store.close()
    """

    #: Its calls are local and short (a point read is tens of µs, less than a hand-off to
    #: a worker thread), so the async adapters call it on the event loop; a scan of a
    #: very large table blocks the loop while it runs (pass ``sync_to_thread=True``).
    short_calls = True

    def __init__(
        self,
        path: str | Path,
        models: Iterable[type[Any]] | None = None,
        *,
        unique: Mapping[str, Sequence[str]] | None = None,
        lookups: Mapping[str, Sequence[str]] | None = None,
        clock: Clock = utcnow,
        cursor_timeout: float | None = 3600.0,
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = str(path)
        self.models = tuple(models) if models is not None else default_models()
        self._by_name = check_models(self.models)
        extra = {k.casefold(): tuple(v) for k, v in (unique or {}).items()}
        self._rules: dict[str, tuple[UniqueRule, ...]] = {
            name: unique_rules(model, extra.get(name, ())) for name, model in self._by_name.items()
        }
        wanted = {k.casefold(): tuple(v) for k, v in (lookups or DEFAULT_LOOKUPS).items()}
        self._lookups: dict[str, dict[str, tuple[str, ...]]] = {
            # ``id`` is always indexed: ``id eq`` (Entra's membership check starts with one)
            # must be a seek, not a scan of every row.
            name: lookup_refs(model, dict.fromkeys(("id", *wanted.get(name, ()))))
            for name, model in self._by_name.items()
        }
        self._slots: dict[str, dict[str, tuple[str, ...]]] = {
            name: scalar_paths(model) for name, model in self._by_name.items()
        }
        self._columns: dict[str, dict[str, str]] = {
            name: {key: f"r.s{i}" for i, key in enumerate(slots)}
            for name, slots in self._slots.items()
        }
        self._slot_plans = {name: _slot_plan(slots) for name, slots in self._slots.items()}
        # Per group type: the members.value lookup key and attribute (see memberships()).
        self._member_lookups: dict[str, tuple[str | None, Any]] = {}
        self._width = max((len(slots) for slots in self._slots.values()), default=0)
        self._insert_search: dict[str, str] = {
            name: "INSERT OR REPLACE INTO scim_search (rid, resource_type"
            + "".join(f", s{i}" for i in range(len(slots)))
            + ") VALUES (?, ?"
            + ", ?" * len(slots)
            + ")"
            for name, slots in self._slots.items()
        }
        self._cache: dict[tuple[Any, ...], _Compiled] = {}
        self._clock = clock
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._memory = self.path == ":memory:"
        self._closed = False
        self._checkpointer = None if self._memory else _Checkpointer(self.path, busy_timeout)
        with self._write() as db:
            secret = self._setup(db)
        self.cursors = CursorCodec(secret, timeout=cursor_timeout)

    # -- connections -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,  # used by one thread (or under a lock); closed by any
            timeout=self._busy_timeout,
        )
        db.create_function("scim_fold", 1, _scim_fold, deterministic=True)
        db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        db.execute("PRAGMA cache_size = -32768")  # 32 MiB
        if not self._memory:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA mmap_size = 268435456")
            # The background checkpointer copies the log back; this is the safety net.
            db.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_PAGES}")
            db.execute(f"PRAGMA journal_size_limit = {_JOURNAL_SIZE_LIMIT}")
        with self._connections_lock:
            self._connections.append(db)
        return db

    def _db(self) -> sqlite3.Connection:
        if self._closed:
            raise InternalServerError("The store is closed.")
        if self._memory:
            with self._connections_lock:
                shared = self._connections[0] if self._connections else None
            return shared if shared is not None else self._connect()
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._write_lock, _database_errors():
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")
                if self._checkpointer is not None:
                    self._checkpointer.wrote()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        if self._memory:
            with self._write_lock, _database_errors():
                yield self._db()
            return
        with _database_errors():
            db = self._db()
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("COMMIT")

    @contextlib.contextmanager
    def _read_one(self) -> Iterator[sqlite3.Connection]:
        """For a read of one statement, which needs no explicit transaction."""
        if self._memory:
            with self._write_lock, _database_errors():
                yield self._db()
            return
        with _database_errors():
            yield self._db()

    def _fetch_one_statement(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """The rows of one read statement (its own transaction): :meth:`_read_one`
        without a context manager, for the hot reads."""
        if self._memory:
            with self._read_one() as db:
                return db.execute(sql, params).fetchall()
        try:
            return self._db().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise InternalServerError("The database failed; try again later.") from exc

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
            self._closed = True
        if self._checkpointer is not None:
            self._checkpointer.stop()
        for db in connections:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    # -- schema ----------------------------------------------------------------------------

    def _setup(self, db: sqlite3.Connection) -> bytes:
        for statement in _CREATE.split(";"):
            if statement.strip():
                db.execute(statement)
        meta = dict(db.execute("SELECT key, value FROM scim_meta").fetchall())
        version = meta.get("schema_version")
        if version is None:
            db.execute("INSERT INTO scim_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            version = SCHEMA_VERSION
        if version > SCHEMA_VERSION:
            raise InternalServerError(
                f"The database {self.path} has layout {version}; "
                f"this scimcore knows {SCHEMA_VERSION}."
            )
        while version < SCHEMA_VERSION:
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    db.execute(statement)
            version += 1
            db.execute("UPDATE scim_meta SET value = ? WHERE key = 'schema_version'", (version,))
        columns = {row[1] for row in db.execute("PRAGMA table_info(scim_search)")}
        for i in range(self._width):
            if f"s{i}" not in columns:
                db.execute(f"ALTER TABLE scim_search ADD COLUMN s{i}")
        if "version" not in meta:
            db.execute("INSERT INTO scim_meta VALUES ('version', 0)")
        secret = meta.get("cursor_secret")
        if secret is None:
            secret = secrets.token_bytes(32)
            db.execute("INSERT INTO scim_meta VALUES ('cursor_secret', ?)", (secret,))
        digest = self._index_digest()
        if meta.get("index_digest") != digest:
            self._reindex(db)
            db.execute("INSERT OR REPLACE INTO scim_meta VALUES ('index_digest', ?)", (digest,))
        return bytes(secret)

    def _index_digest(self) -> str:
        data = {
            "unicode": unicodedata.unidata_version,
            "lookups": {name: sorted(keys) for name, keys in self._lookups.items()},
            "unique": {name: sorted(r.key for r in rules) for name, rules in self._rules.items()},
            "slots": {name: list(slots) for name, slots in self._slots.items()},
            "documents": 1,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def _reindex(self, db: sqlite3.Connection) -> None:
        """Rebuild search documents, lookups and unique values from the stored documents."""
        db.execute("DELETE FROM scim_lookup")
        db.execute("DELETE FROM scim_unique")
        db.execute("DELETE FROM scim_search")
        rows = db.execute("SELECT rid, resource_type, doc FROM scim_resources").fetchall()
        for rid, name, doc in rows:
            model = self._by_name.get(name)
            if model is None:
                continue
            document = search_document(json.loads(doc), resource_type_of(model), registry_of(model))
            db.execute("UPDATE scim_resources SET sdoc = ? WHERE rid = ?", (_dumps(document), rid))
            self._index(db, name, rid, document)

    def reindex(self) -> None:
        """Rebuild the search documents and index tables (after a schema change)."""
        with self._write() as db:
            self._reindex(db)

    # -- helpers ---------------------------------------------------------------------------

    def _name(self, model: type[Any]) -> str:
        name = resource_type_of(model).name.casefold()
        if self._by_name.get(name) is not model:
            raise unknown_model(model)
        return name

    def _next_version(self, db: sqlite3.Connection) -> int:
        row = db.execute(
            "UPDATE scim_meta SET value = value + 1 WHERE key = 'version' RETURNING value"
        ).fetchone()
        return int(row[0])

    def _index_rows(
        self, name: str, document: Mapping[str, Any] | None
    ) -> tuple[dict[tuple[str, Any], UniqueRule], set[tuple[str, Any]]]:
        """A search document's unique values (with their rules) and lookup values."""
        if document is None:
            return {}, set()
        unique = unique_values(self._rules[name], document)
        lookups = {
            (key, value)
            for key, keys in self._lookups[name].items()
            for value in search_values(document, keys)
        }
        return unique, lookups

    def _index(
        self,
        db: sqlite3.Connection,
        name: str,
        rid: int,
        document: Mapping[str, Any],
        resource: Any = None,
        old: Mapping[str, Any] | None = None,
    ) -> None:
        """Write a resource's search row, unique values and lookups.

        ``old`` is the search document the resource had (on a replace): only the
        unique and lookup rows that differ are deleted and inserted, so adding a
        member to a large group writes one lookup row, not all of them again.
        """
        values = _row(document, self._slot_plans[name])
        db.execute(self._insert_search[name], (rid, name, *values))
        unique, lookups = self._index_rows(name, document)
        old_unique, old_lookups = self._index_rows(name, old)
        gone = [(key, value, rid) for key, value in old_unique.keys() - unique.keys()]
        if gone:
            db.executemany("DELETE FROM scim_unique WHERE key = ? AND value = ? AND rid = ?", gone)
        for (key, value), rule in unique.items():
            if (key, value) in old_unique:
                continue
            try:
                db.execute(
                    "INSERT INTO scim_unique (key, value, rid) VALUES (?, ?, ?)", (key, value, rid)
                )
            except sqlite3.IntegrityError:
                taken = value if resource is None else shown(resource, rule.ref)
                raise Uniqueness(f"{rule.name} {taken!r} is already taken.") from None
        gone = [(key, value, rid) for key, value in old_lookups - lookups]
        if gone:
            db.executemany("DELETE FROM scim_lookup WHERE key = ? AND value = ? AND rid = ?", gone)
        added = [(key, value, rid) for key, value in lookups - old_lookups]
        if added:
            db.executemany("INSERT INTO scim_lookup (key, value, rid) VALUES (?, ?, ?)", added)

    def _unindex(self, db: sqlite3.Connection, name: str, rid: int, old: Mapping[str, Any]) -> None:
        """Delete a resource's search row, unique values and lookups (``old``: its search
        document)."""
        db.execute("DELETE FROM scim_search WHERE rid = ?", (rid,))
        unique, lookups = self._index_rows(name, old)
        db.executemany(
            "DELETE FROM scim_unique WHERE key = ? AND value = ? AND rid = ?",
            [(key, value, rid) for key, value in unique],
        )
        db.executemany(
            "DELETE FROM scim_lookup WHERE key = ? AND value = ? AND rid = ?",
            [(key, value, rid) for key, value in lookups],
        )

    def _documents(self, resource: Any) -> tuple[str, str, dict[str, Any]]:
        from scimcore.codecs.v2 import encode

        model = type(resource)
        doc = encode(resource, full=True)
        document = search_document(doc, resource_type_of(model), registry_of(model))
        # JSON text spells U+0000 as \u0000: only then is the document walked. A lone
        # surrogate fails _dumps; the NUL check still comes first, as it always did.
        text = compact(document)
        if "\\u0000" in text and _has_nul(document):
            raise InvalidValue("SQLiteStore cannot store U+0000 in a string.")
        return _dumps(doc), _valid_text(text), document

    def _stored(
        self, db: sqlite3.Connection, name: str, resource_id: str | None
    ) -> tuple[int, Any, dict[str, Any]]:
        """The row id, the resource and its search document."""
        row = db.execute(
            "SELECT rid, doc, sdoc FROM scim_resources WHERE resource_type = ? AND id = ?",
            (name, resource_id or ""),
        ).fetchone()
        if row is None:
            raise NotFound(f"{self._by_name[name].__name__} {resource_id!r} not found.")
        return row[0], self._decode(name, row[1]), json.loads(row[2])

    def _decode(self, name: str, doc: str) -> Any:
        from scimcore.codecs.v2 import decode

        return decode(json.loads(doc), self._by_name[name])

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> R:
        """Store a new resource (see :class:`~scimcore.storage.ResourceStore`)."""
        name = self._name(type(resource))
        # The stamped copy is what is written: decoding the JSON back would give an
        # equal resource (the contract suite checks that a later get() does).
        with self._write() as db:
            return self._insert(db, name, resource)  # type: ignore[no-any-return]

    def get_document(self, model: type[Any], resource_id: str) -> dict[str, Any]:
        """``encode(get(model, resource_id), full=True)``, without building the model.

        >>> from scimcore.models import User
        >>> store = SQLiteStore(":memory:")
        >>> user = store.create(User(user_name="bjensen"))
        >>> store.get_document(User, user.id)["userName"]
        'bjensen'
        >>> store.close()
        """
        name = self._name(model)
        rows = self._fetch_one_statement(
            "SELECT doc FROM scim_resources WHERE resource_type = ? AND id = ?", (name, resource_id)
        )
        if not rows:
            raise NotFound(f"{model.__name__} {resource_id!r} not found.")
        document: dict[str, Any] = json.loads(rows[0][0])
        return document

    def create_many(self, resources: Iterable[R]) -> list[R]:
        """Store many new resources in one transaction: all of them, or none on an error.

        For imports: much faster than one :meth:`create` per resource.
        """
        with self._write() as db:
            return [self._insert(db, self._name(type(r)), r) for r in resources]

    def _insert(self, db: sqlite3.Connection, name: str, resource: Any) -> Any:
        resource_id = getattr(resource, "id", None) or new_id()
        version = self._next_version(db)
        stored = stamp(
            resource, resource_id=resource_id, version=f'W/"{version}"', now=self._clock()
        )
        doc, sdoc, document = self._documents(stored)
        try:
            rid = db.execute(
                "INSERT INTO scim_resources (resource_type, id, version, doc, sdoc) "
                "VALUES (?, ?, ?, ?, ?) RETURNING rid",
                (name, resource_id, version, doc, sdoc),
            ).fetchone()[0]
        except sqlite3.IntegrityError:
            raise Uniqueness(f"id {resource_id!r} is already taken.") from None
        self._index(db, name, rid, document, stored)
        return stored

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource with this ``id``, or :class:`~scimcore.errors.NotFound`."""
        name = self._name(model)
        rows = self._fetch_one_statement(  # one statement: its own transaction
            "SELECT doc FROM scim_resources WHERE resource_type = ? AND id = ?", (name, resource_id)
        )
        if not rows:
            raise NotFound(f"{model.__name__} {resource_id!r} not found.")
        return self._decode(name, rows[0][0])  # type: ignore[no-any-return]

    def _replace(
        self,
        db: sqlite3.Connection,
        name: str,
        rid: int,
        current: tuple[str, Any],
        old: dict[str, Any],
        resource: Any,
    ) -> Any:
        resource_id, created = current
        version = self._next_version(db)
        stored = stamp(
            resource,
            resource_id=resource_id,
            version=f'W/"{version}"',
            now=self._clock(),
            created=created,
        )
        doc, sdoc, document = self._documents(stored)
        db.execute(
            "UPDATE scim_resources SET version = ?, doc = ?, sdoc = ? WHERE rid = ?",
            (version, doc, sdoc, rid),
        )
        self._index(db, name, rid, document, stored, old)
        return stored

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Replace the stored resource with ``resource.id``."""
        name = self._name(type(resource))
        with self._write() as db:
            rid, current, old = self._stored(db, name, getattr(resource, "id", None))
            if not versions_match(expected_version, current.meta.version):
                raise PreconditionFailed()
            return self._replace(  # type: ignore[no-any-return]
                db, name, rid, (current.id, current.meta.created), old, resource
            )

    def update(
        self,
        model: type[R],
        resource_id: str,
        change: Callable[[R], R],
        *,
        expected_version: str | None = None,
    ) -> R:
        """Read, change and write one resource in one transaction (store-native PATCH)."""
        name = self._name(model)
        with self._write() as db:
            rid, current, old = self._stored(db, name, resource_id)
            if not versions_match(expected_version, current.meta.version):
                raise PreconditionFailed()
            kept = (current.id, current.meta.created)  # before ``change`` sees ``current``
            return self._replace(  # type: ignore[no-any-return]
                db, name, rid, kept, old, change(current)
            )

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the resource with this ``id``."""
        name = self._name(model)
        with self._write() as db:
            rid, current, old = self._stored(db, name, resource_id)
            if not versions_match(expected_version, current.meta.version):
                raise PreconditionFailed()
            self._unindex(db, name, rid, old)
            db.execute("DELETE FROM scim_resources WHERE rid = ?", (rid,))

    # -- search ----------------------------------------------------------------------------

    def _where(self, query: Query, params: dict[str, Any], slots: list[Slot] | None = None) -> str:
        policy = search_policy(query)
        parts = []
        for model in query.models:
            name = self._name(model)
            type_param = f"t{len(params)}"
            params[type_param] = name
            condition = f"r.resource_type = :{type_param}"
            if query.filter is not None:
                predicate(query.filter, model, policy)  # the evaluator's validation, first
                compiler = FilterCompiler(
                    resource_type_of(model),
                    registry_of(model),
                    dialect=SQLiteDialect(),
                    policy=policy,
                    lookups=self._lookups[name],
                    columns=self._columns[name],
                    document=_DOCUMENT,
                )
                sql = compiler.compile(query.filter, params, slots=slots).sql
                # SQLite tests the terms of an AND in order: a test of columns alone is
                # cheaper than the type's text comparison, and rules out more rows; one
                # that reads the JSON document comes after it.
                condition = (
                    f"{condition} AND {sql}" if _DOCUMENT in sql else f"{sql} AND {condition}"
                )
            parts.append(f"({condition})")
        return " OR ".join(parts)

    def _sort_key(self, query: Query, params: dict[str, Any]) -> str | None:
        sorts = resolve_sorts(query)
        if not sorts:
            return None
        cases = []
        for model, ref in sorts.items():
            if ref is None:
                continue
            name = self._name(model)
            compiler = FilterCompiler(
                resource_type_of(model),
                registry_of(model),
                columns=self._columns[name],
                document=_DOCUMENT,
            )
            key = compiler.sort_key(ref, params)
            type_param = f"t{len(params)}"
            params[type_param] = name
            cases.append((type_param, key))
        if len(cases) == 1 and len(query.models) == 1:
            return f"NULLIF({cases[0][1]}, '')"
        whens = " ".join(f"WHEN :{t} THEN {key}" for t, key in cases)
        return f"NULLIF(CASE r.resource_type {whens} END, '')"

    def _compiled(self, query: Query) -> tuple[str, str | None, dict[str, Any]]:
        """The WHERE, the sort key and their parameters, cached per filter shape.

        The SQL text depends on the filter's shape (its tree, paths, operators and
        the types of its values), the resource types, the policy and the sort, never
        on a value: values are parameters. A filter of a shape seen before only
        binds its values (``members.value eq "<id>"`` on every read of a user).
        """
        leaves = _leaves(query.filter) if query.filter is not None else []
        shape = _shape(query.filter) if query.filter is not None else None
        cache_key = (shape, query.models, query.policy, query.sort_by)
        cached = self._cache.get(cache_key)
        if cached is not None:
            where, key, base, binds = cached
            params = dict(base)
            try:
                for name, index, bind in binds:
                    params[name] = bind(leaves[index].value)
            except ScimError:
                pass  # a value this shape cannot take: compiled below, which explains it
            else:
                return where, key, params
        params = {}
        slots: list[Slot] = []
        where = self._where(query, params, slots)
        key = self._sort_key(query, params)
        position = {id(leaf): index for index, leaf in enumerate(leaves)}
        if len(position) == len(leaves):  # a node object used twice cannot be rebound
            binds = tuple((slot.name, position[id(slot.node)], slot.bind) for slot in slots)
            if len(self._cache) >= 512:
                self._cache.clear()
            self._cache[cache_key] = (where, key, params, binds)
        return where, key, params

    def search(self, query: Query) -> Page[Any]:
        """Filter, sort and page in SQL (see :class:`~scimcore.storage.Query`)."""
        return self._search(query, self._load)

    def memberships(
        self, group_model: type[Any], member_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, str | None]]]:
        """The groups that list each of ``member_ids`` in ``members``: member id →
        ``[(group id, displayName)]`` in creation order (computed ``User.groups``).

        With ``members.value`` among the lookups (the default) this is one index
        seek per id, reading no member list; otherwise it searches.

        >>> from scimcore.models import Group, GroupMember, User
        >>> store = SQLiteStore(":memory:")
        >>> user = store.create(User(user_name="bjensen"))
        >>> group = store.create(Group(display_name="Staff", members=[GroupMember(value=user.id)]))
        >>> store.memberships(Group, [user.id]) == {user.id: [(group.id, "Staff")]}
        True
        >>> store.close()
        """
        name = self._name(group_model)
        found: dict[str, list[tuple[str, str | None]]] = {m: [] for m in member_ids}
        lookup = self._member_lookups.get(name)
        if lookup is None:
            ref = registry_of(group_model).resolve(
                "members.value", resource_type=resource_type_of(group_model)
            )
            key = next(
                (k for k, keys in self._lookups[name].items() if keys == ("members", "value")),
                None,
            )
            lookup = self._member_lookups[name] = (key, None if ref is None else ref.target)
        key, target = lookup
        if key is None or target is None or not member_ids:
            return search_memberships(self, group_model, member_ids)
        wanted: dict[Any, list[str]] = {}
        for member_id in member_ids:
            wanted.setdefault(comparable(member_id, target), []).append(member_id)
        values = list(wanted)
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            rows = self._fetch_one_statement(
                "SELECT l.value, r.id, json_extract(r.doc, '$.displayName') "
                "FROM scim_lookup AS l JOIN scim_resources AS r ON r.rid = l.rid "
                f"WHERE l.key = ? AND l.value IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY r.rid",
                (key, *chunk),
            )
            for value, group_id, display in rows:
                for member_id in wanted.get(value, ()):
                    if all(g != group_id for g, _ in found[member_id]):
                        found[member_id].append((group_id, display))
        return found

    def search_documents(self, query: Query) -> Page[dict[str, Any]]:
        """:meth:`search`, each resource as ``encode(resource, full=True)``.

        The models are never built: a service answering a list serves these
        documents as they are (after ``returned`` and the projection).
        """
        return self._search(query, self._load_documents)

    def _search(
        self, query: Query, load: Callable[[sqlite3.Connection, list[Any]], list[Any]]
    ) -> Page[Any]:
        where, key, params = self._compiled(query)
        position: Position | None = None
        fingerprint = "" if query.cursor is None else query.fingerprint()
        if query.cursor:
            position = self.cursors.decode(fingerprint, query.cursor)
        count_sql = f"SELECT count(*) FROM scim_search AS r WHERE {where}"
        if query.cursor is None:
            # One statement (its own read transaction): the page with each row's
            # document, and the total as a window over every match.
            with self._read_one() as db:
                rows = self._fetch(
                    db,
                    where,
                    key,
                    params,
                    query.descending,
                    None,
                    query.count,
                    query.start_index - 1,
                    with_total=True,
                )
                if rows:
                    total = rows[0][3]
                elif query.start_index == 1 and query.count != 0:
                    total = 0  # no row from the first one on: nothing matches
                else:
                    total = db.execute(count_sql, params).fetchone()[0]
                resources = load(db, rows)
            return Page(resources=resources, total=total, start_index=query.start_index)
        with self._read() as db:
            total = db.execute(count_sql, params).fetchone()[0]
            if query.count == 0:
                return Page(resources=[], total=total)
            limit = None if query.count is None else query.count + 1
            if position is None or position.direction == "next":
                rows = self._fetch(db, where, key, params, query.descending, position, limit, 0)
                more_after = query.count is not None and len(rows) > query.count
                rows = rows[: query.count]
                more_before = (
                    bool(rows)
                    and position is not None
                    and self._exists(
                        db, where, key, params, query.descending, _key_of(rows[0]), "before"
                    )
                )
            else:
                # Walking back from a ``previous`` cursor: the reverse order, then reversed.
                rows = self._fetch(db, where, key, params, not query.descending, position, limit, 0)
                more_before = query.count is not None and len(rows) > query.count
                rows = rows[: query.count][::-1]
                more_after = bool(rows) and self._exists(
                    db, where, key, params, query.descending, _key_of(rows[-1]), "after"
                )
            resources = load(db, rows)
        next_cursor = previous_cursor = None
        if rows and more_after:
            next_cursor = self.cursors.encode(fingerprint, Position("next", _key_of(rows[-1])))
        if rows and more_before:
            previous_cursor = self.cursors.encode(
                fingerprint, Position("previous", _key_of(rows[0]))
            )
        return Page(
            resources=resources,
            total=total,
            next_cursor=next_cursor,
            previous_cursor=previous_cursor,
        )

    def _docs(self, db: sqlite3.Connection, rows: list[Any]) -> dict[int, str]:
        if rows and len(rows[0]) == 5:  # fetched with_total: the document is in the row
            return {row[0]: row[4] for row in rows}
        docs: dict[int, str] = {}
        rids = [row[0] for row in rows]
        for start in range(0, len(rids), 500):
            chunk = rids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            docs.update(
                db.execute(f"SELECT rid, doc FROM scim_resources WHERE rid IN ({marks})", chunk)
            )
        return docs

    def _load(self, db: sqlite3.Connection, rows: list[Any]) -> list[Any]:
        """The resources of the page's rows, in order."""
        docs = self._docs(db, rows)
        return [self._decode(row[1], docs[row[0]]) for row in rows]

    def _load_documents(self, db: sqlite3.Connection, rows: list[Any]) -> list[Any]:
        """The stored JSON of the page's rows, in order."""
        docs = self._docs(db, rows)
        return [json.loads(docs[row[0]]) for row in rows]

    def _fetch(
        self,
        db: sqlite3.Connection,
        where: str,
        key: str | None,
        params: dict[str, Any],
        descending: bool,
        position: Position | None,
        limit: int | None,
        offset: int,
        *,
        with_total: bool = False,
    ) -> list[Any]:
        """Matching rows in order (reversed when ``descending``), after a position.

        Rows are ``(rid, resource_type, sort value)``, plus the number of every
        match and the stored document when ``with_total`` (a window, so one
        statement gives page, documents and total).
        """
        params = dict(params)
        direction = "DESC" if descending else "ASC"
        inner = (
            f"SELECT r.rid AS rid, r.resource_type AS resource_type, "
            f"{key or 'NULL'} AS k FROM scim_search AS r WHERE {where}"
        )
        condition = ""
        if position is not None:
            condition = "WHERE " + _keyset(descending, params, position.key)
        params["limit"] = -1 if limit is None else limit
        params["offset"] = offset
        if key is None:
            order = "{t}.rid " + direction
        else:
            order = f"({{t}}.k IS NULL) {direction}, {{t}}.k {direction}, {{t}}.rid {direction}"
        total = ", count(*) OVER () AS total" if with_total else ""
        sql = (
            f"SELECT s.rid, s.resource_type, s.k{total} FROM ({inner}) AS s {condition} "
            f"ORDER BY {order.format(t='s')} LIMIT :limit OFFSET :offset"
        )
        if with_total:
            # The page's documents in the same statement (so that no transaction is
            # needed around two), joined after the LIMIT: only the page's rows are read.
            sql = (
                f"SELECT p.rid, p.resource_type, p.k, p.total, d.doc FROM ({sql}) AS p "
                f"JOIN scim_resources AS d ON d.rid = p.rid ORDER BY {order.format(t='p')}"
            )
        return db.execute(sql, params).fetchall()

    def _exists(
        self,
        db: sqlite3.Connection,
        where: str,
        key: str | None,
        params: dict[str, Any],
        descending: bool,
        anchor: SortKey,
        side: str,
    ) -> bool:
        """Whether a match lies after (or before) ``anchor`` in the query's order."""
        rows = self._fetch(
            db,
            where,
            key,
            params,
            descending if side == "after" else not descending,
            Position("next", anchor),
            1,
            0,
        )
        return bool(rows)


_Compiled = tuple[
    str, str | None, dict[str, Any], tuple[tuple[str, int, Callable[[Any], Any]], ...]
]


def _leaves(node: Filter) -> list[Compare]:
    """The comparisons of a filter, in a fixed order (the order :func:`_shape` walks)."""
    if isinstance(node, Compare):
        return [node]
    if isinstance(node, And | Or):
        return [leaf for operand in node.operands for leaf in _leaves(operand)]
    if isinstance(node, Not):
        return _leaves(node.operand)
    if isinstance(node, ValuePath):
        return _leaves(node.filter)
    return []


def _shape(node: Filter) -> Any:
    """A filter with each value replaced by its type: what its SQL text depends on."""
    if isinstance(node, Compare):
        return (node.path, node.op, type(node.value))
    if isinstance(node, And | Or):
        return (type(node), tuple(_shape(operand) for operand in node.operands))
    if isinstance(node, Not):
        return (Not, _shape(node.operand))
    if isinstance(node, ValuePath):
        return (ValuePath, node.path, _shape(node.filter))
    return node


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    """A database failure (locked past the busy timeout, disk full…) is a 500, not a traceback."""
    try:
        yield
    except sqlite3.Error as exc:
        raise InternalServerError("The database failed; try again later.") from exc


def _key_of(row: tuple[int, str, Any]) -> SortKey:
    rid, _, k = row
    return (k is None, k, rid)


_SlotPlan = tuple[int, dict[str, list[tuple[int, tuple[str, ...]]]]]


def _slot_plan(slots: Mapping[str, tuple[str, ...]]) -> _SlotPlan:
    """The search row's slots grouped by their first document key (see :func:`_row`)."""
    by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for index, keys in enumerate(slots.values()):
        by_first.setdefault(keys[0], []).append((index, keys[1:]))
    return len(slots), by_first


def _row(document: Mapping[str, Any], plan: _SlotPlan) -> list[Any]:
    """The column values of a search row: the singular value of every slot, walking the
    document's own keys (a handful) rather than every slot (dozens)."""
    width, by_first = plan
    values: list[Any] = [None] * width
    for key, top in document.items():
        for index, rest in by_first.get(key, ()):
            values[index] = singular_value(top, rest)
    return values


def _keyset(descending: bool, params: dict[str, Any], key: SortKey) -> str:
    """Rows strictly after ``key`` in the order (k missing last, k, rid), reversed if descending."""
    missing, value, rid = key
    params["pm"] = 1 if missing else 0
    params["pk"] = None if missing else value
    params["pr"] = rid
    gt = "<" if descending else ">"
    return (
        f"((s.k IS NULL) {gt} :pm OR ((s.k IS NULL) = :pm AND "
        f"(s.k {gt} :pk OR (s.k IS :pk AND s.rid {gt} :pr))))"
    )


def _scim_fold(value: Any) -> Any:
    """``scim_fold(text)``: NFC + Unicode case fold, the evaluator's case-insensitive form."""
    return fold(value) if isinstance(value, str) else value
