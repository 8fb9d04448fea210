"""MemoryStore: the reference store, in memory, filtering with the evaluator."""

from __future__ import annotations

import itertools
import re
import struct
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import attrs

from scimcore.errors import NotFound, PreconditionFailed, Uniqueness
from scimcore.policy import Policy
from scimcore.schema import TEXT_TYPES, AttributeRef
from scimcore.storage._cursor import CursorCodec, SortKey
from scimcore.storage._query import (
    Page,
    Query,
    registry_of,
    resolve_sorts,
    resource_type_of,
)
from scimcore.storage._values import comparable, versions_match
from scimcore.stores._common import (
    Clock,
    UniqueRule,
    check_models,
    new_id,
    order_key,
    page_of,
    python_sort_value,
    shown,
    stamp,
    unique_rules,
    unique_values,
    unknown_model,
    utcnow,
)
from scimcore.stores.sql._document import document_keys, search_document, singular_value

__all__ = ["MemoryStore", "default_models", "predicate"]

R = TypeVar("R")


def default_models() -> tuple[type[Any], ...]:
    """``(User, Group)``: what a store keeps unless told otherwise."""
    from scimcore.models import Group, User

    return (User, Group)


#: What was compiled lately for a filter: by the node's identity (parse_filter returns
#: the same node for the same text) and the rest of the key; each entry keeps its node
#: alive. Not by equality: ``active eq true`` and ``active eq 1`` are equal nodes.
_COMPILED: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def _for_node(node: Any, key: tuple[Any, ...], make: Callable[[], R]) -> R:
    """``make()``, remembered for ``node`` (by identity) and ``key``."""
    full_key = (id(node), *key)
    cached = _COMPILED.get(full_key)
    if cached is not None and cached[0] is node:
        return cached[1]  # type: ignore[no-any-return]
    made = make()
    if len(_COMPILED) >= 512:
        _COMPILED.clear()
    _COMPILED[full_key] = (node, made)
    return made


def predicate(node: Any, model: type[Any], policy: Policy) -> Callable[[Any], bool]:
    """The evaluator's predicate for a filter on a model (``scimcore.filter.compile_filter``)."""
    from scimcore.filter import compile_filter

    return _for_node(
        node, ("predicate", model, policy), lambda: compile_filter(node, model, policy=policy)
    )


def search_policy(query: Query) -> Policy:
    """The policy a search runs under: a search over several types treats unknown as absent."""
    if len(query.models) > 1 and query.policy.unknown_filter_attribute != "matches_nothing":
        return attrs.evolve(query.policy, unknown_filter_attribute="matches_nothing")
    return query.policy


@attrs.define
class _Row:
    resource: Any
    #: ``encode(resource, full=True)``: what get_document and search_documents copy.
    full: dict[str, Any]
    #: The search document (folded values), which narrowing, sorting and unique values read.
    document: dict[str, Any]
    seq: int


#: One cell of a hash column: the low 16 bits of a value's ``hash()`` (at 5,000 rows, a
#: search meets a stray collision about once in 13; the evaluator turns it away).
_CELL = struct.Struct("<H")
_MASK = 0xFFFF
#: The cell of a deleted row (any value does: a row found there is skipped).
_HOLE = _CELL.pack(0)


class _Table:
    """The rows of one resource type, by ``id`` and in creation order, with hash
    columns of their search-document values for fast scans.

    ``candidates(keys, probe)`` returns the rows whose search document may hold
    a value at ``keys``: every row where it does, and perhaps a few more (two
    values may share a hash). A hash column is a ``bytearray`` of each row's
    ``hash(value)`` in 2 bytes, in creation order, built on the first scan of
    those keys and then kept current by every write; the scan is a literal
    search of the value's 2 bytes over it (``probe``, from :func:`_probe`).
    Still a scan of every row, not an index, but at memory speed: 5,000 rows in
    a few microseconds, instead of a dict lookup a row in Python. Deleted rows
    leave holes, closed up once they are half the table.

    For groups, ``listing(member)`` gives the rows whose ``members`` hold that
    value, from a map (member value → row ids) built on first use and kept
    current by writes (computed ``User.groups`` reads it on every read of a user).
    """

    def __init__(self) -> None:
        self.by_id: dict[str, _Row] = {}
        self._order: list[_Row | None] = []
        self._position: dict[str, int] = {}
        self._columns: dict[tuple[str, ...], bytearray] = {}
        self._holes = 0
        self._listed: dict[Any, dict[str, None]] | None = None

    def put(self, resource_id: str, row: _Row) -> None:
        """Add a new row, or replace the row with this id in its place."""
        old = self.by_id.get(resource_id)
        self.by_id[resource_id] = row
        if self._listed is not None:
            if old is not None:
                self._unlist(resource_id, old)
            self._list(resource_id, row)
        position = self._position.get(resource_id)
        if position is None:
            self._position[resource_id] = len(self._order)
            self._order.append(row)
            for keys, column in self._columns.items():
                column += _cell(row.document, keys)
        else:
            self._order[position] = row
            at = position * _CELL.size
            for keys, column in self._columns.items():
                column[at : at + _CELL.size] = _cell(row.document, keys)

    def remove(self, resource_id: str) -> None:
        """Remove the row with this id."""
        old = self.by_id.pop(resource_id)
        if self._listed is not None:
            self._unlist(resource_id, old)
        position = self._position.pop(resource_id)
        self._order[position] = None
        at = position * _CELL.size
        for column in self._columns.values():
            column[at : at + _CELL.size] = _HOLE
        self._holes += 1
        if self._holes > 64 and 2 * self._holes > len(self._order):
            kept = [row for row in self._order if row is not None]
            self._position = {row.resource.id: i for i, row in enumerate(kept)}
            self._order = [*kept]
            self._columns.clear()
            self._holes = 0

    def listing(self, member: Any) -> list[_Row]:
        """The rows whose ``members`` hold ``member``, in creation order."""
        if self._listed is None:
            self._listed = {}
            for resource_id, row in self.by_id.items():
                self._list(resource_id, row)
        listed = self._listed.get(member)
        if not listed:
            return []
        return sorted((self.by_id[i] for i in listed), key=lambda row: row.seq)

    def _list(self, resource_id: str, row: _Row) -> None:
        assert self._listed is not None
        for member in getattr(row.resource, "members", None) or ():
            self._listed.setdefault(member.value, {})[resource_id] = None

    def _unlist(self, resource_id: str, row: _Row) -> None:
        assert self._listed is not None
        for member in getattr(row.resource, "members", None) or ():
            listed = self._listed.get(member.value)
            if listed is not None:
                listed.pop(resource_id, None)
                if not listed:
                    del self._listed[member.value]

    def candidates(self, keys: tuple[str, ...], probe: re.Pattern[bytes]) -> list[_Row]:
        """The rows whose search document may hold a value at ``keys`` (every row that
        does, and maybe a few that don't), in creation order; ``probe`` is
        :func:`_probe` of that value."""
        column = self._columns.get(keys)
        if column is None:
            column = self._columns[keys] = bytearray().join(
                _HOLE if row is None else _cell(row.document, keys) for row in self._order
            )
        found: list[_Row] = []
        search = probe.search  # SRE's literal search beats bytearray.find by a third here
        match = search(column)
        while match is not None:
            at = match.start()
            position, misaligned = divmod(at, _CELL.size)
            if misaligned:  # the bytes straddle two cells
                match = search(column, at + 1)
                continue
            row = self._order[position]
            if row is not None:
                found.append(row)
            match = search(column, at + _CELL.size)
        return found


def _probe(needle: str) -> re.Pattern[bytes]:
    """What :meth:`_Table.candidates` looks for: the cell of ``needle``."""
    return re.compile(re.escape(_cell_of(needle)))


def _cell(document: Mapping[str, Any], keys: tuple[str, ...]) -> bytes:
    """A row's cell in the hash column of ``keys``."""
    return _cell_of(singular_value(document, keys))


def _cell_of(value: Any) -> bytes:
    return _CELL.pack(hash(value) & _MASK if isinstance(value, str) else 0)


def _documents(resource: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The full JSON of a resource and its search document."""
    from scimcore.codecs.v2 import encode

    model = type(resource)
    full = encode(resource, full=True)
    return full, search_document(full, resource_type_of(model), registry_of(model))


def _json_copy(document: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON object (three times faster than encoding the model again)."""
    out = {}
    for key, value in document.items():
        kind = type(value)
        if kind is dict:
            value = _json_copy(value)
        elif kind is list:
            value = _json_list_copy(value)
        out[key] = value
    return out


def _json_list_copy(items: list[Any]) -> list[Any]:
    return [
        _json_copy(item)
        if type(item) is dict
        else _json_list_copy(item)
        if type(item) is list
        else item
        for item in items
    ]


class MemoryStore:
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
        self.models = tuple(models) if models is not None else default_models()
        self.scan_columns = scan_columns
        self._by_name = check_models(self.models)
        unique = unique or {}
        extra = {k.casefold(): tuple(v) for k, v in unique.items()}
        self._rules: dict[str, tuple[UniqueRule, ...]] = {
            name: unique_rules(model, extra.get(name, ())) for name, model in self._by_name.items()
        }
        self._rows: dict[str, _Table] = {name: _Table() for name in self._by_name}
        self._owners: dict[tuple[str, Any], str] = {}
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._versions = itertools.count(1)
        self._clock = clock
        self.cursors = CursorCodec(cursor_secret, timeout=cursor_timeout)

    # -- helpers ---------------------------------------------------------------------------

    def _name(self, model: type[Any]) -> str:
        name = resource_type_of(model).name.casefold()
        if self._by_name.get(name) is not model:
            raise unknown_model(model)
        return name

    def _row(self, name: str, resource_id: str | None) -> _Row:
        row = self._rows[name].by_id.get(resource_id or "")
        if row is None:
            raise NotFound(f"{self._by_name[name].__name__} {resource_id!r} not found.")
        return row

    def _claim(self, name: str, resource: Any, document: Mapping[str, Any], owner: str) -> None:
        """Check then take the unique values of a resource (the lock is held)."""
        claims = unique_values(self._rules[name], document)
        for claim, rule in claims.items():
            holder = self._owners.get(claim)
            if holder is not None and holder != owner:
                raise Uniqueness(f"{rule.name} {shown(resource, rule.ref)!r} is already taken.")
        self._release(name, owner)
        for claim in claims:
            self._owners[claim] = owner

    def _release(self, name: str, owner: str) -> None:
        row = self._rows[name].by_id.get(owner)
        if row is not None:
            for claim in unique_values(self._rules[name], row.document):
                if self._owners.get(claim) == owner:
                    del self._owners[claim]

    def _version(self) -> str:
        return f'W/"{next(self._versions)}"'

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> R:
        """Store a new resource (see :class:`~scimcore.storage.ResourceStore`)."""
        name = self._name(type(resource))
        with self._lock:
            resource_id = getattr(resource, "id", None) or new_id()
            if resource_id in self._rows[name].by_id:
                raise Uniqueness(f"id {resource_id!r} is already taken.")
            stored = stamp(
                _clone(resource),
                resource_id=resource_id,
                version=self._version(),
                now=self._clock(),
            )
            full, document = _documents(stored)
            self._claim(name, stored, document, resource_id)
            self._rows[name].put(resource_id, _Row(stored, full, document, next(self._seq)))
            return _clone(stored)  # type: ignore[no-any-return]

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
            return _clone(self._row(name, resource_id).resource)  # type: ignore[no-any-return]

    def get_document(self, model: type[Any], resource_id: str) -> dict[str, Any]:
        """``encode(get(model, resource_id), full=True)``."""
        name = self._name(model)
        with self._lock:
            return _json_copy(self._row(name, resource_id).full)

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Replace the stored resource with ``resource.id``."""
        name = self._name(type(resource))
        with self._lock:
            resource_id: str | None = getattr(resource, "id", None)
            row = self._row(name, resource_id)
            assert resource_id is not None
            if not versions_match(expected_version, row.resource.meta.version):
                raise PreconditionFailed()
            stored = stamp(
                _clone(resource),
                resource_id=resource_id,
                version=self._version(),
                now=self._clock(),
                created=row.resource.meta.created,
            )
            full, document = _documents(stored)
            self._claim(name, stored, document, resource_id)
            self._rows[name].put(resource_id, _Row(stored, full, document, row.seq))
            return _clone(stored)  # type: ignore[no-any-return]

    def update(
        self,
        model: type[R],
        resource_id: str,
        change: Callable[[R], R],
        *,
        expected_version: str | None = None,
    ) -> R:
        """Read, change and write one resource under the lock (store-native PATCH)."""
        name = self._name(model)
        with self._lock:
            row = self._row(name, resource_id)
            if not versions_match(expected_version, row.resource.meta.version):
                raise PreconditionFailed()
            changed = change(_clone(row.resource))
            changed = attrs.evolve(changed, id=resource_id)  # type: ignore[misc]
            return self.replace(changed)

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the resource with this ``id``."""
        name = self._name(model)
        with self._lock:
            row = self._row(name, resource_id)
            if not versions_match(expected_version, row.resource.meta.version):
                raise PreconditionFailed()
            self._release(name, resource_id)
            self._rows[name].remove(resource_id)

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
        return _mapped(self._page(query), lambda row: _json_copy(row.full))

    def search(self, query: Query) -> Page[Any]:
        """Filter with the evaluator, sort, page (see :class:`~scimcore.storage.Query`)."""
        return _mapped(self._page(query), lambda row: _clone(row.resource))

    def _page(self, query: Query) -> Page[_Row]:
        """The page of rows a query asks for."""
        for model in query.models:
            self._name(model)
        policy = search_policy(query)
        predicates = {
            model: None if query.filter is None else predicate(query.filter, model, policy)
            for model in query.models
        }
        sorts = resolve_sorts(query)
        with self._lock:
            if len(query.models) == 1 and query.filter is None and not sorts:
                plain = self._plain_page(query)
                if plain is not None:
                    return plain
            rows: list[tuple[SortKey, _Row]] = []
            for model in query.models:
                test = predicates[model]
                ref = sorts.get(model)
                keys = () if ref is None else document_keys(ref, resource_type_of(model))
                table = self._rows[self._name(model)]
                candidates: Iterable[_Row] = table.by_id.values()
                if query.filter is not None and self.scan_columns:
                    candidates = _narrowed(table, query.filter, model)
                for row in candidates:
                    if test is not None and not test(row.resource):
                        continue
                    value = None if ref is None else python_sort_value(row.document, ref, keys)
                    rows.append(((value is None, value, row.seq), row))
            if sorts or len(query.models) > 1:
                rows.sort(key=lambda pair: order_key(pair[0]), reverse=query.descending)
            elif query.descending:
                rows.reverse()  # one type, no sortBy: the rows are in creation order already
            return page_of(query, rows, self.cursors)

    def _plain_page(self, query: Query) -> Page[_Row] | None:
        """A page of one type in creation order, no filter, no cursor (``GET /Users?count=100``,
        how identity providers list): taken without looking at the other rows."""
        if query.cursor is not None or query.descending:
            return None
        rows = self._rows[self._name(query.models[0])].by_id
        start = query.start_index - 1
        stop = None if query.count is None else start + query.count
        page = list(itertools.islice(rows.values(), start, stop))
        return Page(resources=page, total=len(rows), start_index=query.start_index)

    def close(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        with self._lock:
            return sum(len(table.by_id) for table in self._rows.values())


def _mapped(page: Page[_Row], item: Callable[[_Row], R]) -> Page[R]:
    """The page with ``item(row)`` for each of its rows."""
    return Page(
        resources=[item(row) for row in page.resources],
        total=page.total,
        start_index=page.start_index,
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
    )


def _narrowed(table: _Table, node: Any, model: type[Any]) -> Iterable[_Row]:
    """The rows that can match ``node``, found with a column scan of their search
    documents; the evaluator still decides each of them.

    A filter that holds only where a singular text attribute equals a string
    (``title eq "x"``, alone or as a term of an ``and``) can only match rows whose
    search document holds that string's comparable form there (the evaluator folds
    exactly as :func:`~scimcore.storage.comparable` does), so the other rows are
    passed over by one scan of a hash column (:meth:`_Table.candidates`)
    instead of a run of the evaluator each.
    """
    narrowing = _for_node(node, ("narrowing", model), lambda: _narrowing(node, model))
    if narrowing is None:
        return table.by_id.values()
    return table.candidates(*narrowing)


def _narrowing(node: Any, model: type[Any]) -> tuple[tuple[str, ...], re.Pattern[bytes]] | None:
    """The search-document keys and the probe for the value a match must hold there."""
    found = _narrowing_term(node, model)
    if found is None:
        return None
    term, ref = found
    needle = comparable(term.value, ref.target)
    return document_keys(ref, resource_type_of(model)), _probe(needle)


def _narrowing_term(node: Any, model: type[Any]) -> tuple[Any, AttributeRef] | None:
    """An ``eq`` of a singular text attribute with a string that ``node`` needs to hold
    (``node`` itself, or a term of an ``and``) and the attribute it names, or ``None``."""
    from scimcore.filter import And, Compare

    if isinstance(node, And):
        terms = (_narrowing_term(operand, model) for operand in node.operands)
        return next((term for term in terms if term is not None), None)
    if not (isinstance(node, Compare) and node.op == "eq" and isinstance(node.value, str)):
        return None
    ref = registry_of(model).resolve(str(node.path), resource_type=resource_type_of(model))
    if (
        ref is None
        or ref.target.type not in TEXT_TYPES
        or ref.target.is_complex
        or any(attribute.multi_valued for attribute in ref.chain)
    ):
        return None
    return node, ref


#: Values a clone shares: immutable.
_ATOMS = frozenset({str, int, float, bool, type(None), bytes, datetime})
#: Per class: the (attribute, __init__ argument) of each init field; None: not attrs.
_CLONE_PLANS: dict[type[Any], tuple[tuple[str, str], ...] | None] = {}


def _clone(value: Any) -> Any:
    """A deep copy of a model value: attrs instances, lists and dicts are rebuilt.

    Faster than ``copy.deepcopy``, and right for attrs classes made at run time.
    """
    kind = type(value)
    if kind in _ATOMS:
        return value
    if isinstance(value, list):
        return [_clone(item) for item in value]
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    try:
        plan = _CLONE_PLANS[kind]
    except KeyError:
        plan = _CLONE_PLANS[kind] = (
            tuple((field.name, field.alias) for field in attrs.fields(kind) if field.init)
            if attrs.has(kind)
            else None
        )
    if plan is None:
        return value
    arguments = {}
    for name, alias in plan:
        item = getattr(value, name)
        arguments[alias] = item if type(item) in _ATOMS else _clone(item)
    return kind(**arguments)
