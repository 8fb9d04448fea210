"""``DjangoStore``: the storage protocol on a host's own Django model.

The twin of :class:`scimcore.contrib.sqlalchemy.MappedStore`: each call is one
``transaction.atomic()`` on the store's database alias; a search is compiled
by the evaluator first, planned onto the model's fields by the
:class:`~scimcore.mapping.AttributeMap`, rendered as a ``Q``, and paged by the
shipped stores' one page assembly (:func:`scimcore.stores.paging`) over
querysets ordered by ``(missing, value, pk)``. Writes lock the row
(``select_for_update`` where the database has it), compare the version, and
raise it; the model's unique constraints become ``409 uniqueness``.
Case-insensitive text is compared through ``scimcore_fold()``
(:mod:`scimcore.contrib.django._fold`); a PostgreSQL database without it
raises :class:`~scimcore.mapping.FoldMissing`.
"""

from __future__ import annotations

import datetime
from collections.abc import Generator
from typing import Any, TypeVar

from django.db import DataError, IntegrityError, ProgrammingError, connections, transaction
from django.db.models import Case, F, IntegerField, Q, Value, When

from scimcore._drive import drive
from scimcore.codecs.v2 import encode
from scimcore.contrib.django._fold import register_open
from scimcore.contrib.django._render import QRenderer
from scimcore.contrib.django._rows import Reader
from scimcore.errors import InvalidValue, NotFound, PreconditionFailed, Uniqueness
from scimcore.mapping import AttributeMap, Const, Folding, FoldMissing, is_missing_fold
from scimcore.schema import Schema
from scimcore.storage import CursorCodec, Page, Query, SortKey, resolve_sort, versions_match
from scimcore.storage._change import Change, apply_change, same_but_meta
from scimcore.stores import Found, Rows, paging
from scimcore.stores._skeleton import Clock, NativeUpdate, new_id, predicate, search_policy, utcnow

__all__ = ["DjangoStore"]

R = TypeVar("R")


class DjangoStore(NativeUpdate):
    """A SCIM store on a host's Django model, its attributes placed by an attribute map.

    ``using`` is the database alias; the map's model (``User``) is the one
    resource type this store keeps. ``folding="ascii"`` compares case-insensitive
    text with ``Lower()`` instead of ``scimcore_fold()`` (exact only while the
    host's text is ASCII).
    """

    def __init__(
        self,
        model: type[Any],
        attribute_map: AttributeMap,
        *,
        using: str = "default",
        cursor_secret: bytes | None = None,
        cursor_timeout: float | None = 3600.0,
        clock: Clock = utcnow,
        folding: Folding = "unicode",
    ) -> None:
        self.host_model = model
        self.folding = folding
        self.map = attribute_map
        self.model = attribute_map.model
        self.using = using
        self.codec = CursorCodec(cursor_secret, timeout=cursor_timeout)
        self.clock = clock
        self.key = attribute_map.id.name
        register_open(using)
        self.reader = Reader(model, attribute_map, using)
        #: Whether the key column holds integers (an id of anything else is found nowhere).
        self.integer_key = self.reader.integer

    @property
    def objects(self) -> Any:
        """The model's manager on the store's database."""
        return self.host_model._default_manager.db_manager(self.using)

    @property
    def render(self) -> QRenderer:
        """The ``Q`` renderer for the store's database."""
        return QRenderer(self.host_model, connections[self.using].vendor, self.folding)

    def served_schema(self, schema: Schema) -> Schema:
        """The schema as this store keeps it (the attribute map's attributes only)."""
        return self.map.served_schema(schema)

    # -- plumbing --------------------------------------------------------------------------

    def _refused(self, exc: IntegrityError) -> InvalidValue | Uniqueness:
        cause = exc.__cause__ or exc
        text = str(cause)
        if getattr(cause, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in text:
            return Uniqueness("A value that must be unique is already taken.")
        return InvalidValue("The host's table refused the resource (a required value is missing).")

    def _check(self, model: type[Any]) -> None:
        if model is not self.model:
            raise InvalidValue(f"This store does not keep {model.__name__} resources.")

    def _key_of(self, resource_id: str) -> Any:
        if self.integer_key:
            if not resource_id.isascii() or not resource_id.isdigit():
                return None
            return int(resource_id)
        return resource_id

    def _locked_row(self, resource_id: str) -> Any:
        """The model instance with this ``id``, locked for a write."""
        key = self._key_of(resource_id)
        rows = self.objects.all()
        if connections[self.using].features.has_select_for_update:
            rows = rows.select_for_update()
        elif key is not None:
            # SQLite has no row locks: a write that changes nothing takes the database's write
            # lock before the read, so two read-change-writes neither interleave nor deadlock.
            rows.filter(**{self.key: key}).update(**{self.key: F(self.key)})
        row = None if key is None else rows.filter(**{self.key: key}).first()
        if row is None:
            raise NotFound(f"{self.model.__name__} {resource_id!r} not found.")
        return row

    def _save(self, row: Any, *, new: bool) -> None:
        try:
            with transaction.atomic(using=self.using):
                row.save(using=self.using, force_insert=new)
        except IntegrityError as exc:
            raise self._refused(exc) from None
        except DataError:  # a value too long for its column, or not of its type
            raise InvalidValue(
                "A value does not fit the host's column (too long, or not of its type)."
            ) from None

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> R:
        """Insert a host row for ``resource``; its ``id`` is the row's key."""
        self._check(type(resource))
        row = self.host_model()
        given = getattr(resource, "id", None)
        if given is not None:
            key = self._key_of(given)
            if key is None:
                raise InvalidValue(f"{given!r} is not an id of this server.")
            setattr(row, self.key, key)
        elif not self.integer_key:
            setattr(row, self.key, new_id())
        self.map.write(row, resource, now=self.clock(), new=True)
        with transaction.atomic(using=self.using):
            self._save(row, new=True)
            stored: R = self.map.read(row)
        return stored

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource with this ``id``."""
        self._check(model)
        key = self._key_of(resource_id)
        row = None if key is None else self.reader.by_key(key)
        if row is None:
            raise NotFound(f"{self.model.__name__} {resource_id!r} not found.")
        found: R = self.map.read(row)
        return found

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Write ``resource`` over the row with its ``id``."""
        self._check(type(resource))
        resource_id = getattr(resource, "id", None)
        if resource_id is None:
            raise NotFound("A resource without an id cannot be replaced.")
        with transaction.atomic(using=self.using):
            row = self._locked_row(resource_id)
            if not versions_match(expected_version, self.map.etag(row)):
                raise PreconditionFailed("The resource has changed on the server.")
            self.map.write(row, resource, now=self.clock(), new=False)
            self._save(row, new=False)
            stored: R = self.map.read(row)
        return stored

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the row with this ``id``."""
        self._check(model)
        with transaction.atomic(using=self.using):
            row = self._locked_row(resource_id)
            if not versions_match(expected_version, self.map.etag(row)):
                raise PreconditionFailed("The resource has changed on the server.")
            row.delete(using=self.using)

    def _update(
        self, model: type[R], resource_id: str, change: Change[R], expected_version: str | None
    ) -> R:
        self._check(model)
        with transaction.atomic(using=self.using):
            row = self._locked_row(resource_id)
            current = self.map.read(row)
            before = encode(current, full=True)
            new = apply_change(change, current, expected_version)
            if new is None or same_but_meta(encode(new, full=True), before):
                unchanged: R = self.map.read(row)
                return unchanged
            self.map.write(row, new, now=self.clock(), new=False)
            self._save(row, new=False)
            stored: R = self.map.read(row)
        return stored

    def search(self, query: Query) -> Page[Any]:
        """Filter, sort and page in the database (see the module)."""
        if self.model not in query.models:
            if len(query.models) == 1:
                self._check(query.models[0])
            return Page(resources=[], total=0, start_index=query.start_index)
        policy = search_policy(query)
        render = self.render
        rows = self.objects.all()
        if query.filter is not None:
            predicate(query.filter, self.model, policy)  # refuses what the evaluator refuses
            plan = self.map.plan(query.filter, policy)
            if isinstance(plan, Const):
                rows = rows if plan.value else rows.none()
            else:
                rows = rows.filter(render.render(plan))
        sorted_by = False
        datetimes = False
        if query.sort_by is not None:
            ref = resolve_sort(query.sort_by, self.model)
            if ref is None:
                raise InvalidValue(f"sortBy names an unknown attribute: {query.sort_by!r}.")
            sort = self.map.sort_plan(ref)
            field = self.host_model._meta.get_field(sort.columns[0])
            datetimes = field.get_internal_type() == "DateTimeField"
            rows = rows.annotate(scim_sort=render.sort_value(sort)).annotate(
                scim_missing=Case(
                    When(scim_sort__isnull=True, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
            sorted_by = True
        key = self.key

        def fetch(ask: Rows) -> Generator[None, None, Found[Any]]:
            yield from ()
            found = rows
            if ask.after is not None:
                found = found.filter(self._after(ask, sorted_by, datetimes))
            names = ["scim_missing", "scim_sort", key] if sorted_by else [key]
            found = found.order_by(*(f"-{n}" if ask.descending else n for n in names))
            stop = None if ask.limit is None else ask.offset + ask.limit
            page = self.reader.rows(found, names[:-1], ask.offset, stop)
            total = ask.known_total(page) if ask.counted else 0
            if total is None:
                total = rows.count()
            return total, page

        def key_of(row: Any) -> SortKey:
            seq = getattr(row, key)
            if not sorted_by:
                return (True, None, seq)
            value = row.scim_sort
            if isinstance(value, datetime.datetime):
                value = value.isoformat()
            return (bool(row.scim_missing), value, seq)

        def load(found: list[Any]) -> list[Any]:
            return [self.map.read(row) for row in found]

        try:
            with transaction.atomic(using=self.using):
                return drive(paging(query, self.codec, fetch, key_of, load), _nothing)
        except ProgrammingError as exc:
            if is_missing_fold(exc.__cause__ or exc):
                raise FoldMissing from None
            raise

    def _after(self, ask: Rows, sorted_by: bool, datetimes: bool) -> Q:
        assert ask.after is not None
        gone, at, seq = ask.after
        way = "lt" if ask.descending else "gt"
        key = self.key
        after_key = Q(**{f"{key}__{way}": seq})
        if not sorted_by:
            return after_key
        if datetimes and isinstance(at, str):
            at = datetime.datetime.fromisoformat(at)
        same = Q(scim_missing=1 if gone else 0)
        if gone:
            earlier = Q(scim_missing=0)
            return (earlier | (same & after_key)) if ask.descending else (same & after_key)
        later = Q(**{f"scim_sort__{way}": at}) | (Q(scim_sort=at) & after_key)
        if ask.descending:
            return same & later
        return Q(scim_missing=1) | (same & later)

    def close(self) -> None:
        """Nothing to release: the connections belong to Django."""


def _nothing(step: None) -> None:
    return None
