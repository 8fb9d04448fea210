"""PostgresStore and AsyncPostgresStore: the operations, driven on psycopg connection pools.

Every operation is written once, as a generator of statements
(:mod:`._writes`, :mod:`._search`, :mod:`._schema`);
:class:`PostgresStore` drives it on a psycopg connection pool and
:class:`AsyncPostgresStore` on an async pool, both with
:func:`scimcore._drive.drive` (a database error is thrown back into the
operation at the statement that failed). A serialization failure or a deadlock
is retried, the whole operation from its start; a unique violation is the
:class:`~scimcore.errors.Uniqueness` error of the rule it breaks. Statements are
bound client-side (psycopg's ``ClientCursor``): values stay parameters for the
code that writes SQL, and the server sees constants, which it needs to match
expression and partial indexes; the hot reads (a search, a GET by ``id``) write
their constants into the SQL and bind only their values on the server, so that
each is prepared once per connection and not planned on every call. psycopg is
imported on first use.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from scimcore._drive import drive, drive_async
from scimcore.errors import InternalServerError
from scimcore.models import Meta
from scimcore.patch import PatchResult
from scimcore.storage._change import Change
from scimcore.storage._deadline import Deadline
from scimcore.storage._query import Page, Query
from scimcore.stores._skeleton import Clock, NativeUpdate, ShapeCache, utcnow
from scimcore.stores.postgres import _schema, _search, _writes
from scimcore.stores.postgres._config import PostgresConfig
from scimcore.stores.postgres._statement import Ops, Statement

__all__ = ["AsyncPostgresStore", "PostgresStore"]

R = TypeVar("R")
T = TypeVar("T")

#: An operation to run: a fresh generator on each attempt.
_Op = Callable[[], Ops[T]]


def _connect_kwargs(schema: str | None, asynchronous: bool) -> dict[str, Any]:
    import psycopg

    kwargs: dict[str, Any] = {
        "cursor_factory": psycopg.AsyncClientCursor if asynchronous else psycopg.ClientCursor,
        "autocommit": True,  # reads are single statements; writes open a transaction
    }
    if schema is not None:
        kwargs["options"] = f"-c search_path={schema}"
    return kwargs


@contextlib.contextmanager
def _attempt(config: PostgresConfig, last: bool) -> Iterator[None]:
    """One attempt at an operation: a unique violation is a Uniqueness error; a
    serialization failure or deadlock ends the attempt, to be retried (an error on
    the ``last``)."""
    from psycopg import errors

    try:
        yield
    except errors.UniqueViolation as exc:
        raise config.unique_error(exc.diag.constraint_name, exc.diag.message_detail or "") from None
    except (errors.SerializationFailure, errors.DeadlockDetected):
        if last:
            raise InternalServerError("The database kept refusing the write.") from None


@contextlib.contextmanager
def _bounded(deadline: Deadline | None, connection: Any = None) -> Iterator[None]:
    """Stop the statement running on ``connection`` (a sync connection; an async one needs
    nothing: psycopg cancels the statement of a cancelled task) if ``deadline`` is cancelled;
    a statement stopped by ``statement_timeout`` or a cancel is the deadline's 400 ``tooMany``.

    A cancel request that reaches the server between two statements cancels nothing, so it
    is repeated until the block is over; and a connection that was sent cancel requests is
    closed, not handed back to the pool, where a late one could stop another request's
    statement."""
    if deadline is None:
        yield
        return
    from psycopg import errors

    deadline.check()
    done = threading.Event()
    cancelling: list[threading.Thread] = []

    def keep_cancelling() -> None:
        while not done.is_set():
            connection.cancel_safe()
            done.wait(0.1)

    def on_cancel() -> None:
        thread = threading.Thread(target=keep_cancelling, daemon=True)
        cancelling.append(thread)
        thread.start()

    try:
        with deadline.on_cancel(on_cancel) if connection is not None else contextlib.nullcontext():
            yield
    except errors.QueryCanceled:
        raise deadline.error() from None
    finally:
        done.set()
        for thread in cancelling:
            thread.join()
            connection.close()


def _timed(op: _Op[T], deadline: Deadline | None) -> _Op[T]:
    """``op`` with its statements limited to the time ``deadline`` leaves (``SET LOCAL
    statement_timeout``: it needs the transaction :meth:`PostgresStore._run` then opens)."""
    if deadline is None:
        return op

    def timed() -> Ops[T]:
        milliseconds = max(1, int(deadline.remaining() * 1000))
        yield Statement("SELECT set_config('statement_timeout', %s, true)", (str(milliseconds),))
        steps = op()
        rows: Any = None
        error: Exception | None = None
        while True:  # each statement is sent only if the deadline has not passed meanwhile
            try:
                statement = steps.send(rows) if error is None else steps.throw(error)
            except StopIteration as stop:
                result: T = stop.value
                return result
            deadline.check()
            try:
                rows, error = (yield statement), None
            except Exception as exc:  # thrown back by the driver: the operation's to handle
                rows, error = None, exc

    return timed


def _has_rows(cursor: Any) -> bool:
    """Whether the statement just run returned rows (its result's status: cheaper than
    ``description``, which makes a column object per column)."""
    from psycopg.pq import ExecStatus

    result = cursor.pgresult
    return result is not None and result.status == ExecStatus.TUPLES_OK


def _execute(conn: Any, statement: Statement) -> list[Any]:
    import psycopg

    with (psycopg.Cursor if statement.server else psycopg.ClientCursor)(conn) as cursor:
        cursor.execute(statement.text, statement.params)
        return cursor.fetchall() if _has_rows(cursor) else []


async def _execute_async(conn: Any, statement: Statement) -> list[Any]:
    import psycopg

    async with (psycopg.AsyncCursor if statement.server else psycopg.AsyncClientCursor)(
        conn
    ) as cursor:
        await cursor.execute(statement.text, statement.params)
        return await cursor.fetchall() if _has_rows(cursor) else []


class _Operations:
    """What both stores run, each operation as an :data:`_Op` (see :mod:`._writes`)."""

    _config: PostgresConfig
    #: The SQL of searches by filter shape: a lookup of a shape seen before binds its values.
    _searches: ShapeCache

    def quick_search(self, query: Query) -> bool:
        """Whether the indexes answer ``query``, a few rows examined (``userName eq``, ``id
        eq``, a page without ``sortBy``): see :meth:`StoreConfig.quick
        <scimcore.stores._skeleton.StoreConfig.quick>`."""
        return self._config.quick(query)

    def _deadline(self, query: Query) -> Deadline | None:
        """The deadline a search runs under: none for one the indexes answer."""
        return None if self._config.quick(query) else query.deadline

    def _create(self, resource: R) -> _Op[R]:
        return functools.partial(_writes.create, self._config, resource)

    def _create_many(self, resources: Iterable[R]) -> _Op[list[R]]:
        return functools.partial(_writes.create_many, self._config, resources)

    def _get(self, model: type[R], resource_id: str) -> _Op[R]:
        return functools.partial(_writes.get, self._config, model, resource_id)

    def _replace(self, resource: R, expected_version: str | None) -> _Op[R]:
        return functools.partial(
            _writes.write,
            self._config,
            type(resource),
            getattr(resource, "id", None),
            lambda _: resource,
            expected_version,
            unless_same=False,
        )

    def _update_op(
        self, model: type[R], resource_id: str, change: Change[R], expected_version: str | None
    ) -> _Op[R]:
        return functools.partial(
            _writes.write,
            self._config,
            model,
            resource_id,
            change,
            expected_version,
            unless_same=True,
        )

    def _update_members(
        self,
        model: type[Any],
        resource_id: str,
        values: Collection[str],
        change: Callable[[Any], PatchResult[Any]],
        expected_version: str | None,
    ) -> _Op[Meta | None]:
        return functools.partial(
            _writes.update_members,
            self._config,
            model,
            resource_id,
            values,
            change,
            expected_version,
        )

    def _delete(
        self, model: type[Any], resource_id: str, expected_version: str | None
    ) -> _Op[None]:
        return functools.partial(_writes.delete, self._config, model, resource_id, expected_version)

    def _setup(self, create: bool, upgrade: bool) -> _Op[bytes]:
        reindex = functools.partial(_writes.reindex, self._config)
        return functools.partial(
            _schema.setup, self._config, reindex, create=create, upgrade=upgrade
        )


class PostgresStore(_Operations, NativeUpdate):
    """A store in PostgreSQL (psycopg 3, the ``postgres`` extra); several servers can share it.

    ``dsn`` is a libpq connection string or URL. ``schema`` (a lower-case
    identifier) keeps the tables apart from others in one database; by default
    they go where the connection's ``search_path`` says. The tables are created
    on first use (``create=True``) or by ``scimcore db init``. ``models``,
    ``unique`` and ``lookups`` are as in :class:`~scimcore.stores.SQLiteStore`;
    ``delta`` names the multi-valued attributes kept one element per row and
    written as deltas (default ``Group.members``); ``sorts`` the attributes with
    a sort index (default ``userName``, Group ``displayName``). ``pool_size``
    bounds the connection pool. ``create=False`` refuses a database without
    the tables; ``upgrade=True`` migrates an older layout (``scimcore db
    upgrade`` does both from the command line).

    >>> import os, secrets
    >>> from scimcore.models import User
    >>> from scimcore.storage import Query
    >>> store = PostgresStore(os.environ.get("SCIMCORE_POSTGRES_DSN",
    ...     "postgresql://postgres@127.0.0.1:5432/test"), schema=f"doctest_{secrets.token_hex(4)}")
    >>> _ = store.create(User(user_name="Straße"))
    >>> store.search(Query(models=User, filter='userName eq "STRASSE"')).total
    1
    >>> store.drop(); store.close()
    """

    def __init__(
        self,
        dsn: str,
        models: Iterable[type[Any]] | None = None,
        *,
        schema: str | None = None,
        unique: Mapping[str, Sequence[str]] | None = None,
        lookups: Mapping[str, Sequence[str]] | None = None,
        delta: Mapping[str, Sequence[str]] | None = None,
        sorts: Mapping[str, Sequence[str]] | None = None,
        clock: Clock = utcnow,
        cursor_timeout: float | None = 3600.0,
        pool_size: int = 10,
        create: bool = True,
        upgrade: bool = False,
    ) -> None:
        from psycopg_pool import ConnectionPool

        self.dsn = dsn
        self._config = PostgresConfig(
            schema,
            models,
            unique=unique,
            lookups=lookups,
            delta=delta,
            sorts=sorts,
            clock=clock,
            cursor_timeout=cursor_timeout,
        )
        self.schema = schema
        self.models = self._config.models
        self._searches = ShapeCache()
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs=_connect_kwargs(schema, False),
            open=True,
            name=f"scimcore-{schema or 'default'}",
        )
        try:
            secret = self._run(self._setup(create, upgrade))
        except BaseException:
            self._pool.close()
            raise
        self.cursors = self._config.cursors(secret)

    def _run(self, op: _Op[T], *, transaction: bool = True, deadline: Deadline | None = None) -> T:
        """Run an operation on a pooled connection (in a transaction unless told not to),
        within ``deadline`` if one is given."""
        op = _timed(op, deadline)
        for attempt in range(8):
            with _attempt(self._config, last=attempt == 7):
                # getconn and putconn rather than the pool's ``connection()``, whose
                # ``with conn`` commits (nothing, in autocommit) under the connection's
                # lock on every call: a transaction is committed or rolled back by its
                # own block, and putconn rolls back, or discards, a connection handed
                # back in a transaction, broken, closed or still running a statement.
                conn = self._pool.getconn()
                try:
                    with (
                        _bounded(deadline, conn),
                        conn.transaction() if transaction or deadline else contextlib.nullcontext(),
                    ):
                        return drive(op(), functools.partial(_execute, conn))
                finally:
                    self._pool.putconn(conn)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> R:
        """Store a new resource (see :class:`~scimcore.storage.ResourceStore`)."""
        return self._run(self._create(resource))

    def create_many(self, resources: Iterable[R]) -> list[R]:
        """Store many new resources in one transaction: all of them, or none on an error.

        For imports: a few statements per thousand resources instead of several each.
        """
        return self._run(self._create_many(resources))

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource with this ``id``, or :class:`~scimcore.errors.NotFound`."""
        return self._run(self._get(model, resource_id), transaction=False)

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Replace the stored resource with ``resource.id``; delta attributes are diffed."""
        return self._run(self._replace(resource, expected_version))

    def _update(
        self, model: type[R], resource_id: str, change: Change[R], expected_version: str | None
    ) -> R:
        """Run the change on the locked resource and write what changed (see
        :class:`NativeUpdate`): delta attributes as the difference."""
        return self._run(self._update_op(model, resource_id, change, expected_version))

    def update_members(
        self,
        model: type[R],
        resource_id: str,
        values: Collection[str],
        change: Callable[[R], PatchResult[R]],
        *,
        expected_version: str | None = None,
    ) -> Meta | None:
        """Change a group's members as a delta (see
        :class:`~scimcore.storage.SupportsMemberUpdate`): the row locked, only the
        ``members`` rows with those values read, element rows deleted and inserted."""
        return self._run(self._update_members(model, resource_id, values, change, expected_version))

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the resource with this ``id``."""
        self._run(self._delete(model, resource_id, expected_version))

    def search(self, query: Query) -> Page[Any]:
        """Filter, sort and page in SQL (see :class:`~scimcore.storage.Query`).

        A search the indexes answer (:meth:`quick_search`) is one statement on its
        own: its ``deadline`` would cost a transaction and a ``statement_timeout``,
        three more round trips, to bound what an index seek bounds already.
        """
        return self._run(
            functools.partial(_search.search, self._config, query, self.cursors, self._searches),
            transaction=False,
            deadline=self._deadline(query),
        )

    def reindex(self) -> None:
        """Rebuild the search documents, elements and lookups (after a schema change)."""
        self._run(functools.partial(_writes.reindex, self._config))

    def drop(self) -> None:
        """Drop this store's tables (its whole ``schema`` when it has one): for tests."""
        self._run(functools.partial(_schema.drop, self.schema))

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.close()


class AsyncPostgresStore(_Operations):
    """The async twin of :class:`PostgresStore` (psycopg's async pool); same SQL, same rules.

    Open it with ``await AsyncPostgresStore.open(dsn, ...)`` (the tables are
    created then), and close it with ``await store.aclose()``.
    """

    def __init__(self, config: PostgresConfig, pool: Any) -> None:
        self._config = config
        self._searches = ShapeCache()
        self._pool = pool
        self.schema = config.schema
        self.models = config.models
        self.cursors = config.cursors(None)

    @classmethod
    async def open(
        cls,
        dsn: str,
        models: Iterable[type[Any]] | None = None,
        *,
        schema: str | None = None,
        unique: Mapping[str, Sequence[str]] | None = None,
        lookups: Mapping[str, Sequence[str]] | None = None,
        delta: Mapping[str, Sequence[str]] | None = None,
        sorts: Mapping[str, Sequence[str]] | None = None,
        clock: Clock = utcnow,
        cursor_timeout: float | None = 3600.0,
        pool_size: int = 10,
        create: bool = True,
        upgrade: bool = False,
    ) -> AsyncPostgresStore:
        """Open the pool and create (or check) the tables."""
        from psycopg_pool import AsyncConnectionPool

        config = PostgresConfig(
            schema,
            models,
            unique=unique,
            lookups=lookups,
            delta=delta,
            sorts=sorts,
            clock=clock,
            cursor_timeout=cursor_timeout,
        )
        pool = AsyncConnectionPool(
            dsn,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs=_connect_kwargs(schema, True),
            open=False,
        )
        await pool.open()
        store = cls(config, pool)
        try:
            store.cursors = config.cursors(await store._run(store._setup(create, upgrade)))
        except BaseException:
            await pool.close()
            raise
        return store

    async def _run(
        self, op: _Op[T], *, transaction: bool = True, deadline: Deadline | None = None
    ) -> T:
        """Run an operation on a pooled connection (in a transaction unless told not to),
        within ``deadline`` if one is given."""
        op = _timed(op, deadline)
        for attempt in range(8):
            with _attempt(self._config, last=attempt == 7):
                conn = await self._pool.getconn()  # as PostgresStore._run does
                try:
                    async with (
                        conn.transaction() if transaction or deadline else contextlib.nullcontext()
                    ):
                        with _bounded(deadline, None):
                            return await drive_async(op(), functools.partial(_execute_async, conn))
                finally:
                    await self._pool.putconn(conn)
        raise AssertionError("unreachable")  # pragma: no cover

    async def create(self, resource: R) -> R:
        """See :meth:`PostgresStore.create`."""
        return await self._run(self._create(resource))

    async def create_many(self, resources: Iterable[R]) -> list[R]:
        """See :meth:`PostgresStore.create_many`."""
        return await self._run(self._create_many(resources))

    async def get(self, model: type[R], resource_id: str) -> R:
        """See :meth:`PostgresStore.get`."""
        return await self._run(self._get(model, resource_id), transaction=False)

    async def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """See :meth:`PostgresStore.replace`."""
        return await self._run(self._replace(resource, expected_version))

    async def update(
        self,
        model: type[R],
        resource_id: str,
        change: Change[R],
        *,
        expected_version: str | None = None,
    ) -> R:
        """See :meth:`PostgresStore.update`."""
        return await self._run(self._update_op(model, resource_id, change, expected_version))

    async def update_members(
        self,
        model: type[R],
        resource_id: str,
        values: Collection[str],
        change: Callable[[R], PatchResult[R]],
        *,
        expected_version: str | None = None,
    ) -> Meta | None:
        """See :meth:`PostgresStore.update_members`."""
        return await self._run(
            self._update_members(model, resource_id, values, change, expected_version)
        )

    async def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """See :meth:`PostgresStore.delete`."""
        await self._run(self._delete(model, resource_id, expected_version))

    async def search(self, query: Query) -> Page[Any]:
        """See :meth:`PostgresStore.search`."""
        return await self._run(
            functools.partial(_search.search, self._config, query, self.cursors, self._searches),
            transaction=False,
            deadline=self._deadline(query),
        )

    async def aclose(self) -> None:
        """Close the pool."""
        await self._pool.close()
