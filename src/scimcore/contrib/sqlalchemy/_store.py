"""``MappedStore`` and ``AsyncMappedStore``: the storage protocol on a host's own SQLAlchemy table.

Theory of operation: each call is one transaction of a session from the
session factory (``sessionmaker(engine)`` when given an engine). A search is
compiled by the evaluator first (so it refuses exactly what a search in memory
refuses), then planned onto the host's columns by the
:class:`~scimcore.mapping.AttributeMap` and rendered as a ``WHERE``; sorting,
offsets and RFC 9865 cursors are the one page assembly of the shipped stores
(:func:`scimcore.stores.paging`), fed by keyset ``SELECT`` s ordered by
``(missing, value, key)``. Writes lock the row (``FOR UPDATE`` where the
database has it; on SQLite a write that changes nothing takes the write lock
before the row is read), compare the version (:func:`~scimcore.storage.versions_match`),
and raise it; the host's unique constraints become ``409 uniqueness``.
Case-insensitive text is compared through ``scimcore_fold``: registered on
SQLite connections by the store, installed in PostgreSQL by
:func:`~scimcore.contrib.sqlalchemy.install_fold` (without it, a search that
needs it raises :class:`~scimcore.mapping.FoldMissing`).

Every operation is written once, as a function of a sync
:class:`~sqlalchemy.orm.Session` (``_MappedTable``). ``MappedStore`` runs it in
a session of its own; ``AsyncMappedStore``, the async twin on an
:class:`~sqlalchemy.ext.asyncio.AsyncEngine`, runs the same function through
:meth:`AsyncSession.run_sync <sqlalchemy.ext.asyncio.AsyncSession.run_sync>`,
which gives it a sync session whose I/O the async driver (aiosqlite, psycopg,
asyncpg) performs, awaited on the event loop.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker

from scimcore._drive import drive
from scimcore.codecs.v2 import encode
from scimcore.contrib.sqlalchemy._fold import missing_fold, register_on_connect
from scimcore.contrib.sqlalchemy._render import Renderer
from scimcore.errors import InvalidValue, NotFound, PreconditionFailed, Uniqueness
from scimcore.mapping import AttributeMap, Folding, FoldMissing
from scimcore.schema import Schema
from scimcore.storage import CursorCodec, Page, Query, SortKey, resolve_sort, versions_match
from scimcore.storage._change import Change, apply_change, same_but_meta
from scimcore.stores import Found, Rows, paging
from scimcore.stores._skeleton import (
    Clock,
    NativeUpdate,
    new_id,
    predicate,
    search_policy,
    utcnow,
)

__all__ = ["AsyncMappedStore", "MappedStore"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_UNFIT = "A value does not fit the host's column (too long, or not of its type)."
_KEY_NAME = re.compile(r"(?:UNIQUE constraint failed: |Key \()([^)]*)")


class _MappedTable:
    """What :class:`MappedStore` and :class:`AsyncMappedStore` share: the plumbing, and
    every operation as a function of a sync :class:`~sqlalchemy.orm.Session`, which the
    store runs in one transaction."""

    def __init__(
        self,
        dialect: str,
        mapped_class: type[Any],
        attribute_map: AttributeMap,
        *,
        cursor_secret: bytes | None,
        cursor_timeout: float | None,
        clock: Clock,
        folding: Folding,
    ) -> None:
        self.mapped_class = mapped_class
        self.map = attribute_map
        self.model = attribute_map.model
        self.render = Renderer(mapped_class, dialect, folding)
        self.locks = dialect != "sqlite"
        self.codec = CursorCodec(cursor_secret, timeout=cursor_timeout)
        self.clock = clock
        self.key = attribute_map.id.name
        self.key_type = self.render.python_type(self.key)

    def served_schema(self, schema: Schema) -> Schema:
        """The schema as this store keeps it (the attribute map's attributes only)."""
        return self.map.served_schema(schema)

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """The database's refusals of a transaction, as SCIM errors."""
        try:
            yield
        except IntegrityError as exc:
            raise self._refused(exc) from None
        except DataError:  # a value too long for its column, or not of its type
            raise InvalidValue(_UNFIT) from None
        except ProgrammingError as exc:
            if missing_fold(exc):
                raise FoldMissing from None
            raise

    @staticmethod
    def _flushed(
        session: Session,
        op: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``op(session, *args)``, its changes flushed (so the database refuses them here)."""
        result = op(session, *args, **kwargs)
        session.flush()
        return result

    def _refused(self, exc: IntegrityError) -> InvalidValue | Uniqueness:
        text = str(exc.orig)
        code = getattr(exc.orig, "sqlstate", None)
        if code == "23505" or "UNIQUE constraint failed" in text:
            names: list[str] = []
            found = _KEY_NAME.search(text)
            if found is not None:
                for part in found.group(1).split(","):
                    column = part.strip().rsplit(".", 1)[-1]
                    names.extend(
                        ".".join(single.keys)
                        for single in self.map.singles.values()
                        if single.column.name == column
                    )
            if names:
                return Uniqueness(f"{', '.join(names)}: the value is already taken.")
            return Uniqueness("A value that must be unique is already taken.")
        return InvalidValue("The host's table refused the resource (a required value is missing).")

    def _check(self, model: type[Any]) -> None:
        if model is not self.model:
            raise InvalidValue(f"This store does not keep {model.__name__} resources.")

    def _key_of(self, resource_id: str) -> Any:
        if self.key_type is int:
            if not resource_id.isascii() or not resource_id.isdigit():
                return None
            return int(resource_id)
        return resource_id

    def _row(self, session: Session, resource_id: str, *, lock: bool = False) -> Any:
        key = self._key_of(resource_id)
        row = None
        if key is not None:
            if lock and not self.locks:
                # SQLite has no row locks and pysqlite begins a transaction at its first write:
                # a write that changes nothing takes the database's write lock before the read,
                # so that two read-change-writes never interleave (no lost update).
                column = getattr(self.mapped_class, self.key)
                session.execute(
                    update(self.mapped_class).where(column == key).values({self.key: column}),
                    execution_options={"synchronize_session": False},
                )
            row = session.get(self.mapped_class, key, with_for_update=lock and self.locks)
        if row is None:
            raise NotFound(f"{self.model.__name__} {resource_id!r} not found.")
        return row

    # -- the operations, each in the session of one transaction -----------------------------

    def _create(self, session: Session, resource: R) -> R:
        self._check(type(resource))
        row = self.mapped_class()
        given = getattr(resource, "id", None)
        if given is not None:
            key = self._key_of(given)
            if key is None:
                raise InvalidValue(f"{given!r} is not an id of this server.")
            setattr(row, self.key, key)
        elif self.key_type is str:
            setattr(row, self.key, new_id())
        self.map.write(row, resource, now=self.clock(), new=True)
        session.add(row)
        session.flush()
        stored: R = self.map.read(row)
        return stored

    def _get(self, session: Session, model: type[R], resource_id: str) -> R:
        self._check(model)
        found: R = self.map.read(self._row(session, resource_id))
        return found

    def _replace(self, session: Session, resource: R, expected_version: str | None) -> R:
        self._check(type(resource))
        resource_id = getattr(resource, "id", None)
        if resource_id is None:
            raise NotFound("A resource without an id cannot be replaced.")
        row = self._row(session, resource_id, lock=True)
        if not versions_match(expected_version, self.map.etag(row)):
            raise PreconditionFailed("The resource has changed on the server.")
        self.map.write(row, resource, now=self.clock(), new=False)
        session.flush()
        stored: R = self.map.read(row)
        return stored

    def _delete(
        self, session: Session, model: type[Any], resource_id: str, expected_version: str | None
    ) -> None:
        self._check(model)
        row = self._row(session, resource_id, lock=True)
        if not versions_match(expected_version, self.map.etag(row)):
            raise PreconditionFailed("The resource has changed on the server.")
        session.delete(row)

    def _change(
        self,
        session: Session,
        model: type[R],
        resource_id: str,
        change: Change[R],
        expected_version: str | None,
    ) -> R:
        self._check(model)
        row = self._row(session, resource_id, lock=True)
        current = self.map.read(row)
        before = encode(current, full=True)
        new = apply_change(change, current, expected_version)
        if new is None or same_but_meta(encode(new, full=True), before):
            unchanged: R = self.map.read(row)
            return unchanged
        self.map.write(row, new, now=self.clock(), new=False)
        session.flush()
        stored: R = self.map.read(row)
        return stored

    def _searching(self, query: Query) -> Page[Any] | Callable[[Session], Page[Any]]:
        """A search planned: the page at once when the store keeps none of the query's
        models, else the operation that runs it (see the module)."""
        if self.model not in query.models:
            if len(query.models) == 1:
                self._check(query.models[0])
            return Page(resources=[], total=0, start_index=query.start_index)
        policy = search_policy(query)
        where = None
        if query.filter is not None:
            predicate(query.filter, self.model, policy)  # refuses what the evaluator refuses
            where = self.render.render(self.map.plan(query.filter, policy))
        key = getattr(self.mapped_class, self.key)
        value: Any = None
        datetimes = False
        if query.sort_by is not None:
            ref = resolve_sort(query.sort_by, self.model)
            if ref is None:
                raise InvalidValue(f"sortBy names an unknown attribute: {query.sort_by!r}.")
            plan = self.map.sort_plan(ref)
            value = self.render.sort_value(plan)
            datetimes = self.render.python_type(plan.columns[0]) is datetime.datetime
        missing = self.render.missing(value) if value is not None else None

        def fetch(session: Session, ask: Rows) -> Generator[None, None, Found[Any]]:
            yield from ()
            columns: list[Any] = [self.mapped_class]
            if value is not None:
                columns += [missing, value]
            statement = select(*columns)
            if where is not None:
                statement = statement.where(where)
            if ask.after is not None:
                statement = statement.where(self._after(ask, missing, value, key, datetimes))
            order = [missing, value, key] if value is not None else [key]
            statement = statement.order_by(*(c.desc() if ask.descending else c for c in order))
            statement = statement.offset(ask.offset or None).limit(ask.limit)
            rows = list(session.execute(statement).all())
            total = ask.known_total(rows) if ask.counted else 0
            if total is None:
                counting = select(func.count()).select_from(self.mapped_class)
                if where is not None:
                    counting = counting.where(where)
                total = session.scalar(counting) or 0
            return total, rows

        def key_of(row: Any) -> SortKey:
            seq = getattr(row[0], self.key)
            if value is None:
                return (True, None, seq)
            found = row[2]
            if isinstance(found, datetime.datetime):
                found = found.isoformat()
            return (bool(row[1]), found, seq)

        def load(rows: list[Any]) -> list[Any]:
            return [self.map.read(row[0]) for row in rows]

        def run(session: Session) -> Page[Any]:
            return drive(paging(query, self.codec, partial(fetch, session), key_of, load), _nothing)

        return run

    def _after(self, ask: Rows, missing: Any, value: Any, key: Any, datetimes: bool) -> Any:
        from sqlalchemy import and_, or_

        assert ask.after is not None
        gone, at, seq = ask.after
        if value is None:
            return key < seq if ask.descending else key > seq
        if datetimes and isinstance(at, str):
            at = datetime.datetime.fromisoformat(at)
        if not ask.descending:
            if gone:
                return and_(missing == 1, key > seq)
            later = or_(value > at, and_(value == at, key > seq))
            return or_(missing == 1, and_(missing == 0, later))
        if gone:
            return or_(missing == 0, and_(missing == 1, key < seq))
        return and_(missing == 0, or_(value < at, and_(value == at, key < seq)))


class MappedStore(_MappedTable, NativeUpdate):
    """A SCIM store on a host's mapped class, its attributes placed by an attribute map.

    ``bind`` is an :class:`~sqlalchemy.Engine` or a session factory; the map's model
    (``User``) is the one resource type this store keeps. ``cursor_secret`` signs
    RFC 9865 cursors (give one to every process of a server). ``folding="ascii"``
    compares case-insensitive text with the database's ``lower()`` instead of
    ``scimcore_fold`` (exact only while the host's text is ASCII). For an
    :class:`~sqlalchemy.ext.asyncio.AsyncEngine`, use :class:`AsyncMappedStore`.
    """

    def __init__(
        self,
        bind: Engine | sessionmaker[Session],
        mapped_class: type[Any],
        attribute_map: AttributeMap,
        *,
        cursor_secret: bytes | None = None,
        cursor_timeout: float | None = 3600.0,
        clock: Clock = utcnow,
        folding: Folding = "unicode",
    ) -> None:
        if isinstance(bind, sessionmaker):
            self.sessions = bind
            engine = bind.kw["bind"]
        elif isinstance(bind, Engine):
            self.sessions = sessionmaker(bind, expire_on_commit=False)
            engine = bind
        else:
            raise TypeError(
                f"MappedStore takes an Engine or a sessionmaker, not {type(bind).__name__}"
                " (for an AsyncEngine or an async_sessionmaker: AsyncMappedStore)"
            )
        register_on_connect(engine)
        super().__init__(
            engine.dialect.name,
            mapped_class,
            attribute_map,
            cursor_secret=cursor_secret,
            cursor_timeout=cursor_timeout,
            clock=clock,
            folding=folding,
        )

    def _run(
        self, op: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``op(session, *args)`` in one transaction of a new session."""
        with self._refusals(), self.sessions() as session, session.begin():
            return self._flushed(session, op, *args, **kwargs)

    def create(self, resource: R) -> R:
        """Insert a host row for ``resource``; its ``id`` is the row's key."""
        return self._run(self._create, resource)

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource with this ``id``."""
        return self._run(self._get, model, resource_id)

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Write ``resource`` over the row with its ``id``."""
        return self._run(self._replace, resource, expected_version)

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the row with this ``id``."""
        self._run(self._delete, model, resource_id, expected_version)

    def _update(
        self, model: type[R], resource_id: str, change: Change[R], expected_version: str | None
    ) -> R:
        return self._run(self._change, model, resource_id, change, expected_version)

    def search(self, query: Query) -> Page[Any]:
        """Filter, sort and page in the database (see the module)."""
        search = self._searching(query)
        return search if isinstance(search, Page) else self._run(search)

    def close(self) -> None:
        """Nothing to release: the engine belongs to the host."""


class AsyncMappedStore(_MappedTable):
    """:class:`MappedStore` on an :class:`~sqlalchemy.ext.asyncio.AsyncEngine` (or an
    :func:`~sqlalchemy.ext.asyncio.async_sessionmaker`): the same operations, awaited
    (an :class:`~scimcore.storage.AsyncResourceStore`, with ``update``).
    The package's docstring has an example on ``sqlite+aiosqlite``.
    """

    def __init__(
        self,
        bind: AsyncEngine | async_sessionmaker[AsyncSession],
        mapped_class: type[Any],
        attribute_map: AttributeMap,
        *,
        cursor_secret: bytes | None = None,
        cursor_timeout: float | None = 3600.0,
        clock: Clock = utcnow,
        folding: Folding = "unicode",
    ) -> None:
        if isinstance(bind, async_sessionmaker):
            self.sessions = bind
            engine = bind.kw["bind"]
        elif isinstance(bind, AsyncEngine):
            self.sessions = async_sessionmaker(bind, expire_on_commit=False)
            engine = bind
        else:
            raise TypeError(
                "AsyncMappedStore takes an AsyncEngine or an async_sessionmaker, not"
                f" {type(bind).__name__} (for an Engine or a sessionmaker: MappedStore)"
            )
        register_on_connect(engine.sync_engine)
        super().__init__(
            engine.dialect.name,
            mapped_class,
            attribute_map,
            cursor_secret=cursor_secret,
            cursor_timeout=cursor_timeout,
            clock=clock,
            folding=folding,
        )

    async def _run(
        self, op: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``op(session, *args)`` in one transaction of a new session, its I/O awaited."""
        with self._refusals():
            async with self.sessions() as session, session.begin():
                return await session.run_sync(self._flushed, op, *args, **kwargs)

    async def create(self, resource: R) -> R:
        """See :meth:`MappedStore.create`."""
        return await self._run(self._create, resource)

    async def get(self, model: type[R], resource_id: str) -> R:
        """See :meth:`MappedStore.get`."""
        return await self._run(self._get, model, resource_id)

    async def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """See :meth:`MappedStore.replace`."""
        return await self._run(self._replace, resource, expected_version)

    async def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """See :meth:`MappedStore.delete`."""
        await self._run(self._delete, model, resource_id, expected_version)

    async def update(
        self,
        model: type[R],
        resource_id: str,
        change: Change[R],
        *,
        expected_version: str | None = None,
    ) -> R:
        """See :meth:`MappedStore.update`: read, change and write in one transaction."""
        return await self._run(self._change, model, resource_id, change, expected_version)

    async def search(self, query: Query) -> Page[Any]:
        """See :meth:`MappedStore.search`."""
        search = self._searching(query)
        return search if isinstance(search, Page) else await self._run(search)

    async def aclose(self) -> None:
        """Nothing to release: the engine belongs to the host."""


def _nothing(step: None) -> None:
    return None
