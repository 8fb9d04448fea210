"""The SQLite store's connections: one per thread, transactions, and the checkpoints.

Threads: one connection per thread (WAL lets readers run beside a writer);
writes take an in-process lock and ``BEGIN IMMEDIATE``; a read of several
statements runs in one transaction, a read of one statement in its own.
``":memory:"`` is one shared connection, used under the lock.

Checkpoints: a commit only appends to the write-ahead log; copying the log
back into the database (two ``fsync`` calls) is done by a background thread
(:class:`Checkpointer`) a moment after writes, not by the commit that happens
to cross SQLite's threshold (which made one create in ~100 wait ~17 ms).
SQLite's own automatic checkpoint stays on at a high threshold, as a safety
net should the thread fall behind. ``scim_fold`` (NFC + casefold) is
registered on every connection for ad-hoc SQL; the store itself compares
pre-folded values and never calls it per row.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from scimcore.errors import InternalServerError
from scimcore.storage._deadline import Deadline
from scimcore.storage._values import fold

__all__ = ["Checkpointer", "Database", "bounded", "database_errors"]

#: SQLite virtual-machine instructions between two looks at a search's deadline
#: (a few hundred microseconds of work).
_PROGRESS_STEPS = 20_000


#: SQLite's own automatic checkpoint threshold (pages of log): a safety net only.
_AUTOCHECKPOINT_PAGES = 16384
#: The size the log file is cut back to after a checkpoint (bytes).
_JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


class Checkpointer:
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


class Database:
    """The connections to one SQLite file (``path``, or ``":memory:"``)."""

    def __init__(self, path: str, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.memory = path == ":memory:"
        self.checkpointer = None if self.memory else Checkpointer(path, busy_timeout)
        if not self.memory:
            # A new database file is readable by its owner only (SQLite gives the -wal and
            # -shm files the same mode): it holds every user's data.
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,  # used by one thread (or under a lock); closed by any
            timeout=self.busy_timeout,
        )
        db.create_function("scim_fold", 1, _scim_fold, deterministic=True)
        db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        db.execute("PRAGMA cache_size = -32768")  # 32 MiB
        if not self.memory:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA mmap_size = 268435456")
            # The background checkpointer copies the log back; this is the safety net.
            db.execute(f"PRAGMA wal_autocheckpoint = {_AUTOCHECKPOINT_PAGES}")
            db.execute(f"PRAGMA journal_size_limit = {_JOURNAL_SIZE_LIMIT}")
        with self._connections_lock:
            self._connections.append(db)
        return db

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (the shared one for ``":memory:"``)."""
        if self._closed:
            raise InternalServerError("The store is closed.")
        if self.memory:
            with self._connections_lock:
                shared = self._connections[0] if self._connections else None
            return shared if shared is not None else self._connect()
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``, under the lock), committed on success."""
        with self._write_lock, database_errors():
            db = self.connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            else:
                db.execute("COMMIT")
                if self.checkpointer is not None:
                    self.checkpointer.wrote()

    @contextlib.contextmanager
    def read(self, *, transaction: bool = True) -> Iterator[sqlite3.Connection]:
        """A read transaction (several statements, one snapshot), or with
        ``transaction=False`` none, for a read of one statement (its own)."""
        if self.memory:
            with self._write_lock, database_errors():
                yield self.connection()
            return
        with database_errors():
            db = self.connection()
            if not transaction:
                yield db
                return
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("COMMIT")

    def fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """The rows of one read statement (its own transaction): :meth:`read` without a
        transaction or a context manager, for the hot reads."""
        if self.memory:
            with self.read(transaction=False) as db:
                return db.execute(sql, params).fetchall()
        try:
            return self.connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise InternalServerError("The database failed; try again later.") from exc

    def close(self) -> None:
        """Close every connection opened, after the last checkpoint."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
            self._closed = True
        if self.checkpointer is not None:
            self.checkpointer.stop()
        for db in connections:
            with contextlib.suppress(sqlite3.Error):
                db.close()


@contextlib.contextmanager
def bounded(db: sqlite3.Connection, deadline: Deadline | None) -> Iterator[None]:
    """Stop the statements run in the block once ``deadline`` passes (or is cancelled):
    SQLite's progress handler interrupts them, and the block raises
    :meth:`Deadline.error <scimcore.storage.Deadline.error>` (400 ``tooMany``)."""
    if deadline is None:
        yield
        return
    deadline.check()
    db.set_progress_handler(deadline.expired, _PROGRESS_STEPS)
    try:
        yield
    except InternalServerError as error:
        if deadline.expired() and isinstance(error.__cause__, sqlite3.OperationalError):
            raise deadline.error() from None
        raise
    except sqlite3.OperationalError:
        if deadline.expired():
            raise deadline.error() from None
        raise
    finally:
        db.set_progress_handler(None, 0)


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """A database failure (locked past the busy timeout, disk full…) is a 500, not a traceback."""
    try:
        yield
    except sqlite3.Error as exc:
        raise InternalServerError("The database failed; try again later.") from exc


def _scim_fold(value: Any) -> Any:
    """``scim_fold(text)``: NFC + Unicode case fold, the evaluator's case-insensitive form."""
    return fold(value) if isinstance(value, str) else value
