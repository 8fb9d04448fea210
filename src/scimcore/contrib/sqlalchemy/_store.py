"""``MappedStore``: the storage protocol on a host's own SQLAlchemy table.

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
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError
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

__all__ = ["MappedStore"]

R = TypeVar("R")

_UNFIT = "A value does not fit the host's column (too long, or not of its type)."
_KEY_NAME = re.compile(r"(?:UNIQUE constraint failed: |Key \()([^)]*)")


class MappedStore(NativeUpdate):
    """A SCIM store on a host's mapped class, its attributes placed by an attribute map.

    ``bind`` is an :class:`~sqlalchemy.Engine` or a session factory; the map's model
    (``User``) is the one resource type this store keeps. ``cursor_secret`` signs
    RFC 9865 cursors (give one to every process of a server). ``folding="ascii"``
    compares case-insensitive text with the database's ``lower()`` instead of
    ``scimcore_fold`` (exact only while the host's text is ASCII).
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
        else:
            self.sessions = sessionmaker(bind, expire_on_commit=False)
            engine = bind
        self.mapped_class = mapped_class
        self.map = attribute_map
        self.model = attribute_map.model
        self.render = Renderer(mapped_class, engine.dialect.name, folding)
        register_on_connect(engine)
        self.locks = engine.dialect.name != "sqlite"
        self.codec = CursorCodec(cursor_secret, timeout=cursor_timeout)
        self.clock = clock
        self.key = attribute_map.id.name
        self.key_type = self.render.python_type(self.key)

    def served_schema(self, schema: Schema) -> Schema:
        """The schema as this store keeps it (the attribute map's attributes only)."""
        return self.map.served_schema(schema)

    # -- plumbing --------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            try:
                yield session
                session.flush()
            except IntegrityError as exc:
                raise self._refused(exc) from None
            except DataError:  # a value too long for its column, or not of its type
                raise InvalidValue(_UNFIT) from None
            except ProgrammingError as exc:
                if missing_fold(exc):
                    raise FoldMissing from None
                raise

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

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> R:
        """Insert a host row for ``resource``; its ``id`` is the row's key."""
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
        with self._transaction() as session:
            session.add(row)
            session.flush()
            stored: R = self.map.read(row)
        return stored

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource with this ``id``."""
        self._check(model)
        with self._transaction() as session:
            found: R = self.map.read(self._row(session, resource_id))
        return found

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Write ``resource`` over the row with its ``id``."""
        self._check(type(resource))
        resource_id = getattr(resource, "id", None)
        if resource_id is None:
            raise NotFound("A resource without an id cannot be replaced.")
        with self._transaction() as session:
            row = self._row(session, resource_id, lock=True)
            if not versions_match(expected_version, self.map.etag(row)):
                raise PreconditionFailed("The resource has changed on the server.")
            self.map.write(row, resource, now=self.clock(), new=False)
            session.flush()
            stored: R = self.map.read(row)
        return stored

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the row with this ``id``."""
        self._check(model)
        with self._transaction() as session:
            row = self._row(session, resource_id, lock=True)
            if not versions_match(expected_version, self.map.etag(row)):
                raise PreconditionFailed("The resource has changed on the server.")
            session.delete(row)

    def _update(
        self, model: type[R], resource_id: str, change: Change[R], expected_version: str | None
    ) -> R:
        self._check(model)
        with self._transaction() as session:
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

    def search(self, query: Query) -> Page[Any]:
        """Filter, sort and page in the database (see the module)."""
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

        def fetch(ask: Rows) -> Generator[None, None, Found[Any]]:
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
            total = 0
            if ask.counted:
                counting = select(func.count()).select_from(self.mapped_class)
                if where is not None:
                    counting = counting.where(where)
                total = session.scalar(counting) or 0
            rows = list(session.execute(statement).all())
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

        with self._transaction() as session:
            return drive(paging(query, self.codec, fetch, key_of, load), _nothing)

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

    def close(self) -> None:
        """Nothing to release: the engine belongs to the host."""


def _nothing(step: None) -> None:
    return None
