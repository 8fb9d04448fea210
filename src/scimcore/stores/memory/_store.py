"""MemoryStore: the reference store, in memory, filtering with the evaluator."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Collection, Generator, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from scimcore._drive import drive
from scimcore.errors import Uniqueness
from scimcore.models import Meta
from scimcore.patch import PatchResult
from scimcore.storage._change import Change, apply_change, check_version, same_but_meta
from scimcore.storage._cursor import SortKey
from scimcore.storage._query import Page, Query, registry_of, resolve_sorts, resource_type_of
from scimcore.stores._skeleton import (
    Clock,
    Found,
    NativeUpdate,
    Rows,
    StoreConfig,
    member_delta,
    new_id,
    paging,
    predicate,
    search_policy,
    shown,
    sort_key,
    stamp,
    unique_values,
    utcnow,
)
from scimcore.stores.memory._copies import clone, json_copy
from scimcore.stores.memory._search import (
    narrowed,
    narrows,
    order_key,
    rows_in_memory,
    sort_value,
)
from scimcore.stores.memory._table import Elements, Row, Table
from scimcore.stores.sql._document import document_keys, search_document

__all__ = ["MemoryStore"]

R = TypeVar("R")


class MemoryStore(NativeUpdate):
    """The reference store: dicts in memory behind one lock; search runs the evaluator.

    ``models`` are the resource models it keeps (default ``User`` and ``Group``);
    ``unique`` adds unique attributes per resource type to the schema's own
    (``{"User": ["externalId"], "Group": ["displayName"]}``). ``scan_columns``
    (default on) narrows an ``eq`` on a singular text attribute with a hash
    column before the evaluator decides (see docs/storage.md); off, every search
    runs the evaluator on every row: the plain reference, as an oracle or a
    baseline. The answers are the same either way.

    >>> from scimcore.models import User
    >>> store = MemoryStore()
    >>> bjensen = store.create(User(user_name="bjensen"))
    >>> bjensen.meta.version, store.get(User, bjensen.id).user_name
    ('W/"1"', 'bjensen')
    >>> store.create(User(user_name="BJENSEN"))
    Traceback (most recent call last):
    scimcore.errors.Uniqueness: userName 'BJENSEN' is already taken.
    """

    #: Every call is short: the async adapters call it on the event loop.
    short_calls = True

    def __init__(
        self,
        models: Iterable[type[Any]] | None = None,
        *,
        unique: Mapping[str, Sequence[str]] | None = None,
        clock: Clock = utcnow,
        cursor_secret: bytes | None = None,
        cursor_timeout: float | None = 3600.0,
        scan_columns: bool = True,
    ) -> None:
        self.config = StoreConfig(models, unique=unique, clock=clock, cursor_timeout=cursor_timeout)
        self.models = self.config.models
        self.scan_columns = scan_columns
        self._name = self.config.name
        self._rows: dict[str, Table] = {name: Table() for name in self.config.by_name}
        self._owners: dict[tuple[str, Any], str] = {}
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._versions = itertools.count(1)
        self.cursors = self.config.cursors(cursor_secret)

    # -- helpers ---------------------------------------------------------------------------

    def _row(self, name: str, resource_id: str | None) -> Row:
        row = self._rows[name].get(resource_id or "")
        if row is None:
            raise self.config.not_found(name, resource_id)
        return row

    def _claim(self, name: str, resource: Any, document: Mapping[str, Any], owner: str) -> None:
        """Check then take the unique values of a resource (the lock is held)."""
        claims = unique_values(self.config.rules[name], document)
        for claim, rule in claims.items():
            holder = self._owners.get(claim)
            if holder is not None and holder != owner:
                raise Uniqueness(f"{rule.name} {shown(resource, rule.ref)!r} is already taken.")
        self._release(name, owner)
        for claim in claims:
            self._owners[claim] = owner

    def _release(self, name: str, owner: str) -> None:
        row = self._rows[name].get(owner)
        if row is not None:
            for claim in unique_values(self.config.rules[name], row.search):
                if self._owners.get(claim) == owner:
                    del self._owners[claim]

    def _stamped(self, resource: Any, resource_id: str, old: Row | None) -> Row:
        """A stamped copy of ``resource`` (new, or in place of ``old``) as a row."""
        stored = stamp(
            clone(resource),
            resource_id=resource_id,
            version=f'W/"{next(self._versions)}"',
            now=self.config.clock(),
            created=None if old is None else old.resource.meta.created,
        )
        wire, search = _documents(stored)
        return Row(stored, wire, search, next(self._seq) if old is None else old.seq)

    def _keep(self, name: str, row: Row) -> Any:
        """Keep a stamped row (the lock is held); a copy of its resource."""
        resource_id = row.resource.id
        self._claim(name, row.resource, row.search, resource_id)
        self._rows[name].put(resource_id, row)
        return clone(row.resource)

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> R:
        """Store a new resource (see :class:`~scimcore.storage.ResourceStore`)."""
        name = self._name(type(resource))
        with self._lock:
            resource_id = getattr(resource, "id", None) or new_id()
            if resource_id in self._rows[name]:
                raise Uniqueness(f"id {resource_id!r} is already taken.")
            return self._keep(name, self._stamped(resource, resource_id, None))  # type: ignore[no-any-return]

    def create_many(self, resources: Iterable[R]) -> list[R]:
        """Store many new resources: all of them, or none when one fails."""
        with self._lock:
            created: list[R] = []
            try:
                for resource in resources:
                    created.append(self.create(resource))
            except BaseException:
                for done in created:
                    self.delete(type(done), done.id)  # type: ignore[attr-defined]
                raise
            return created

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource with this ``id``, or :class:`~scimcore.errors.NotFound`."""
        name = self._name(model)
        with self._lock:
            return clone(self._row(name, resource_id).resource)  # type: ignore[no-any-return]

    def get_document(self, model: type[Any], resource_id: str) -> dict[str, Any]:
        """``encode(get(model, resource_id), full=True)``."""
        name = self._name(model)
        with self._lock:
            return json_copy(self._row(name, resource_id).wire)

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Replace the stored resource with ``resource.id``."""
        name = self._name(type(resource))
        with self._lock:
            resource_id: str | None = getattr(resource, "id", None)
            row = self._row(name, resource_id)
            assert resource_id is not None
            check_version(expected_version, row.resource.meta.version)
            return self._keep(name, self._stamped(resource, resource_id, row))  # type: ignore[no-any-return]

    def _update(
        self, model: type[R], resource_id: str, change: Change[R], expected_version: str | None
    ) -> R:
        """Read, change and write one resource under the lock (see :class:`NativeUpdate`)."""
        name = self._name(model)
        with self._lock:
            row = self._row(name, resource_id)
            # A function gets a copy, which it may alter; a PatchResult is only compared.
            current = clone(row.resource) if callable(change) else row.resource
            new = apply_change(change, current, expected_version)
            if new is not None:
                stamped = self._stamped(new, resource_id, row)
                if not same_but_meta(stamped.wire, row.wire):
                    return self._keep(name, stamped)  # type: ignore[no-any-return]
            return clone(row.resource)  # type: ignore[no-any-return]

    def update_members(
        self,
        model: type[R],
        resource_id: str,
        values: Collection[str],
        change: Callable[[R], PatchResult[R]],
        *,
        expected_version: str | None = None,
    ) -> Meta | None:
        """Change a group's members as a delta: the cost of a member add does not grow with
        the group (see :class:`~scimcore.storage.SupportsMemberUpdate`).

        >>> from scimcore.models import Group, GroupMember
        >>> from scimcore.patch import patch_result
        >>> store = MemoryStore()
        >>> group = store.create(Group(display_name="g", members=[GroupMember(value="u1")]))
        >>> add = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        ...        "Operations": [{"op": "add", "path": "members", "value": [{"value": "u2"}]}]}
        >>> store.update_members(Group, group.id, ["u2"], lambda g: patch_result(g, add)).version
        'W/"2"'
        >>> [m.value for m in store.get(Group, group.id).members]
        ['u1', 'u2']
        """
        name = self._name(model)
        with self._lock:
            table = self._rows[name]
            row = table.get(resource_id, settled=False)  # an open row stays open
            if row is None:
                raise self.config.not_found(name, resource_id)
            check_version(expected_version, row.resource.meta.version)
            elements = row.elements = row.elements or Elements.of(row)
            if elements is None:
                return None
            touched = {key for key in map(str.casefold, values) if key in elements.resource}
            members = [elements.resource[key] for key in touched]
            result = change(clone(attrs.evolve(row.resource, members=members)))
            if not result.changed:
                return clone(row.resource.meta)  # type: ignore[no-any-return]
            delta = member_delta(result, touched, str.casefold)
            if delta is None:
                return None  # the same value twice: the whole-resource PATCH decides
            added, new_keys, gone = delta.added, delta.added_keys, delta.removed_keys
            removed_values = [elements.resource[key].value for key in gone]
            small = stamp(
                clone(attrs.evolve(result.resource, members=added)),  # type: ignore[misc]
                resource_id=resource_id,
                version=f'W/"{next(self._versions)}"',
                now=self.config.clock(),
                created=row.resource.meta.created,
            )
            wire, search = _documents(small)
            new_wire = wire.get("members", [])
            new_search = search.get("members", [])
            if not len(new_keys) == len(small.members) == len(new_wire) == len(new_search):
                return None  # pragma: no cover - encode keeps one element per member
            # Nothing below fails: the elements change in place, and the new row is open
            # (its member lists are made when it is first read, not by every delta). The
            # old row's lists, if it has any, are left to the searches reading them.
            for key in gone:
                del elements.resource[key], elements.wire[key], elements.search[key]
            for key, member, wire_member, search_member in zip(
                new_keys, small.members, new_wire, new_search, strict=True
            ):
                elements.resource[key] = member
                elements.wire[key] = wire_member
                elements.search[key] = search_member
            row.elements = None  # the new row owns them
            new = Row(
                attrs.evolve(small, members=None),
                wire,  # its members are the added ones until settled, where they stay
                search,
                row.seq,
                elements,
                open=True,
            )
            table.put_delta(resource_id, new, [m.value for m in added], removed_values)
            return clone(new.resource.meta)  # type: ignore[no-any-return]

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the resource with this ``id``."""
        name = self._name(model)
        with self._lock:
            row = self._row(name, resource_id)
            check_version(expected_version, row.resource.meta.version)
            self._release(name, resource_id)
            self._rows[name].remove(resource_id)

    def quick_search(self, query: Query) -> bool:
        """Whether ``query`` examines a few rows: a page in creation order (no filter, no
        ``sortBy``), or a filter a hash column narrows (an ``eq`` on a singular text
        attribute, alone or in an ``and``): the service then runs it on the event loop.

        >>> from scimcore.models import User
        >>> store = MemoryStore()
        >>> store.quick_search(Query(models=User, filter='title eq "Guide"'))
        True
        >>> store.quick_search(Query(models=User, filter='title co "Guide"'))
        False
        """
        if query.filter is None:
            return not resolve_sorts(query)
        return self.scan_columns and all(narrows(query.filter, model) for model in query.models)

    def quick_memberships(self, group_model: type[Any]) -> bool:
        """:meth:`memberships` reads a map (member → groups): the service runs it on the
        event loop."""
        return True

    def memberships(
        self, group_model: type[Any], member_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, str | None]]]:
        """The groups listing each of ``member_ids``: id → ``[(group id, displayName)]``."""
        name = self._name(group_model)
        with self._lock:
            table = self._rows[name]
            return {
                member_id: [
                    (row.resource.id, row.resource.display_name) for row in table.listing(member_id)
                ]
                for member_id in member_ids
            }

    def search_documents(self, query: Query) -> Page[dict[str, Any]]:
        """:meth:`search`, each resource as ``encode(resource, full=True)``."""
        return self._page(query, _wire_documents)

    def search(self, query: Query) -> Page[Any]:
        """Filter with the evaluator, sort, page (see :class:`~scimcore.storage.Query`)."""
        return self._page(query, _resources)

    def _page(self, query: Query, load: Callable[[list[Row]], list[R]]) -> Page[R]:
        """The page a query asks for, its rows made resources (or documents) by ``load``."""
        for model in query.models:
            self._name(model)
        policy = search_policy(query)
        predicates = {
            model: None if query.filter is None else predicate(query.filter, model, policy)
            for model in query.models
        }
        sorts = resolve_sorts(query)
        with self._lock:
            if (
                len(query.models) == 1
                and query.filter is None
                and not sorts
                and query.cursor is None
                and not query.descending
            ):
                fetch = self._in_creation_order(self._rows[self._name(query.models[0])])
                return drive(paging(query, self.cursors, fetch, _seq_key, load), _no_steps)
            # The candidates are taken under the lock; the evaluator runs without it, so
            # that a long search never holds up the writes and reads beside it (a write
            # puts a new Row, never changes one a reader holds, and the table settles an
            # open row before handing it out: the rows taken stay as they were).
            candidates: dict[type[Any], list[Row]] = {}
            for model in query.models:
                table = self._rows[self._name(model)]
                if query.filter is not None and self.scan_columns:
                    candidates[model] = list(narrowed(table, query.filter, model))
                else:
                    candidates[model] = list(table.rows())
        deadline = query.deadline
        if deadline is not None:
            deadline.check()
        rows: list[tuple[Any, Row]] = []
        for model in query.models:
            test = predicates[model]
            ref = sorts.get(model)
            keys = () if ref is None else document_keys(ref, resource_type_of(model))
            for n, row in enumerate(candidates[model]):
                if deadline is not None and not n % _ROWS_BETWEEN_CHECKS:
                    deadline.check()
                if test is not None and not test(row.resource):
                    continue
                value = None if ref is None else sort_value(row.search, ref, keys)
                rows.append((sort_key(value, row.seq), row))
        if sorts or len(query.models) > 1:
            rows.sort(key=lambda pair: order_key(pair[0]), reverse=query.descending)
        elif query.descending:
            rows.reverse()  # one type, no sortBy: the rows are in creation order already
        in_memory = rows_in_memory(rows, query.descending)
        steps = paging(query, self.cursors, in_memory, _pair_key, _pair_load(load))
        return drive(steps, _no_steps)

    @staticmethod
    def _in_creation_order(table: Table) -> Callable[[Rows], Generator[None, None, Found[Row]]]:
        """The pager's ``fetch`` of a page of one type in creation order, no filter, no
        cursor (``GET /Users?count=100``, how identity providers list): taken without
        looking at the other rows."""

        def fetch(ask: Rows) -> Generator[None, None, Found[Row]]:
            yield from ()
            stop = None if ask.limit is None else ask.offset + ask.limit
            return len(table), table.page(ask.offset, stop)

        return fetch

    def close(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        with self._lock:
            return sum(len(table) for table in self._rows.values())


#: Rows the evaluator tests between two looks at the search's deadline.
_ROWS_BETWEEN_CHECKS = 256


def _no_steps(step: None) -> None:
    raise AssertionError("the memory store performs no steps")  # pragma: no cover


def _documents(resource: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The wire document of a resource and its search document."""
    from scimcore.codecs.v2 import encode

    model = type(resource)
    wire = encode(resource, full=True)
    return wire, search_document(wire, resource_type_of(model), registry_of(model))


def _seq_key(row: Row) -> SortKey:
    """The sort key of a row in creation order."""
    return sort_key(None, row.seq)


def _pair_key(pair: tuple[SortKey, Row]) -> SortKey:
    return pair[0]


def _pair_load(
    load: Callable[[list[Row]], list[R]],
) -> Callable[[list[tuple[SortKey, Row]]], list[R]]:
    """``load`` for rows found with their sort keys."""
    return lambda pairs: load([row for _, row in pairs])


def _resources(rows: list[Row]) -> list[Any]:
    """Copies of the rows' resources."""
    return [clone(row.resource) for row in rows]


def _wire_documents(rows: list[Row]) -> list[dict[str, Any]]:
    """Copies of the rows' wire documents."""
    return [json_copy(row.wire) for row in rows]
