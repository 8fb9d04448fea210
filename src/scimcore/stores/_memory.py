"""MemoryStore: the reference store, in memory, filtering with the evaluator."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from scimcore.stores.sql._document import document_keys, search_document

__all__ = ["MemoryStore", "default_models", "predicate"]

R = TypeVar("R")


def default_models() -> tuple[type[Any], ...]:
    """``(User, Group)``: what a store keeps unless told otherwise."""
    from scimcore.models import Group, User

    return (User, Group)


def predicate(node: Any, model: type[Any], policy: Policy) -> Callable[[Any], bool]:
    """The evaluator's predicate for a filter on a model (``scimcore.filter.compile_filter``)."""
    from scimcore.filter import compile_filter

    return compile_filter(node, model, policy=policy)


def search_policy(query: Query) -> Policy:
    """The policy a search runs under: a search over several types treats unknown as absent."""
    if len(query.models) > 1 and query.policy.unknown_filter_attribute != "matches_nothing":
        return attrs.evolve(query.policy, unknown_filter_attribute="matches_nothing")
    return query.policy


@attrs.define
class _Row:
    resource: Any
    document: dict[str, Any]
    seq: int


def _document(resource: Any) -> dict[str, Any]:
    from scimcore.codecs.v2 import encode

    model = type(resource)
    return search_document(encode(resource, full=True), resource_type_of(model), registry_of(model))


class MemoryStore:
    """The reference store: dicts in memory behind one lock; search runs the evaluator.

    ``models`` are the resource models it keeps (default ``User`` and ``Group``);
    ``unique`` adds unique attributes per resource type to the schema's own
    (``{"User": ["externalId"], "Group": ["displayName"]}``).

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
    ) -> None:
        self.models = tuple(models) if models is not None else default_models()
        self._by_name = check_models(self.models)
        unique = unique or {}
        extra = {k.casefold(): tuple(v) for k, v in unique.items()}
        self._rules: dict[str, tuple[UniqueRule, ...]] = {
            name: unique_rules(model, extra.get(name, ())) for name, model in self._by_name.items()
        }
        self._rows: dict[str, dict[str, _Row]] = {name: {} for name in self._by_name}
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
        row = self._rows[name].get(resource_id or "")
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
        row = self._rows[name].get(owner)
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
            if resource_id in self._rows[name]:
                raise Uniqueness(f"id {resource_id!r} is already taken.")
            stored = stamp(
                _clone(resource),
                resource_id=resource_id,
                version=self._version(),
                now=self._clock(),
            )
            document = _document(stored)
            self._claim(name, stored, document, resource_id)
            self._rows[name][resource_id] = _Row(stored, document, next(self._seq))
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
        from scimcore.codecs.v2 import encode

        name = self._name(model)
        with self._lock:
            return encode(self._row(name, resource_id).resource, full=True)

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
            document = _document(stored)
            self._claim(name, stored, document, resource_id)
            self._rows[name][resource_id] = _Row(stored, document, row.seq)
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
            del self._rows[name][resource_id]

    def memberships(
        self, group_model: type[Any], member_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, str | None]]]:
        """The groups listing each of ``member_ids``: id → ``[(group id, displayName)]``."""
        name = self._name(group_model)
        found: dict[str, list[tuple[str, str | None]]] = {m: [] for m in member_ids}
        with self._lock:
            rows = sorted(self._rows[name].values(), key=lambda row: row.seq)
        for row in rows:
            group = row.resource
            for member in group.members:
                listed = found.get(member.value)
                if listed is not None and all(g != group.id for g, _ in listed):
                    listed.append((group.id, group.display_name))
        return found

    def search_documents(self, query: Query) -> Page[dict[str, Any]]:
        """:meth:`search`, each resource as ``encode(resource, full=True)``."""
        from scimcore.codecs.v2 import encode

        page = self._page(query)
        return attrs.evolve(page, resources=[encode(r, full=True) for r in page.resources])

    def search(self, query: Query) -> Page[Any]:
        """Filter with the evaluator, sort, page (see :class:`~scimcore.storage.Query`)."""
        page = self._page(query)
        return attrs.evolve(page, resources=[_clone(r) for r in page.resources])

    def _page(self, query: Query) -> Page[Any]:
        for model in query.models:
            self._name(model)
        policy = search_policy(query)
        predicates = {
            model: None if query.filter is None else predicate(query.filter, model, policy)
            for model in query.models
        }
        sorts = resolve_sorts(query)
        with self._lock:
            rows: list[tuple[SortKey, Any]] = []
            for model in query.models:
                test = predicates[model]
                ref = sorts.get(model)
                keys = () if ref is None else document_keys(ref, resource_type_of(model))
                candidates: Iterable[_Row] = self._rows[self._name(model)].values()
                if query.filter is not None:
                    candidates = _narrowed(candidates, query.filter, model)
                for row in candidates:
                    if test is not None and not test(row.resource):
                        continue
                    value = None if ref is None else python_sort_value(row.document, ref, keys)
                    rows.append(((value is None, value, row.seq), row.resource))
            rows.sort(key=lambda pair: order_key(pair[0]), reverse=query.descending)
            return page_of(query, rows, self.cursors)

    def close(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        with self._lock:
            return sum(len(rows) for rows in self._rows.values())


def _narrowed(rows: Iterable[_Row], node: Any, model: type[Any]) -> Iterable[_Row]:
    """The rows that can match ``node``, found with the search documents; the evaluator
    still decides each of them.

    A filter that holds only where a singular text attribute equals a string
    (``title eq "x"``, alone or as a term of an ``and``) can only match rows whose
    search document holds that string's comparable form there (the evaluator folds
    exactly as :func:`~scimcore.storage.comparable` does), so the other rows are
    passed over with one dict lookup each instead of a run of the evaluator.
    """
    found = _narrowing_term(node, model)
    if found is None:
        return rows
    term, ref = found
    needle = comparable(term.value, ref.target)
    keys = document_keys(ref, resource_type_of(model))
    if len(keys) == 1:
        (key,) = keys
        return [row for row in rows if row.document.get(key) == needle]
    head, *rest = keys

    def at(document: Any) -> Any:
        value = document.get(head)
        for key in rest:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    return [row for row in rows if at(row.document) == needle]


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


def _clone(value: Any) -> Any:
    """A deep copy of a model value: attrs instances, lists and dicts are rebuilt.

    Faster than ``copy.deepcopy``, and right for attrs classes made at run time.
    """
    if isinstance(value, list):
        return [_clone(item) for item in value]
    if isinstance(value, dict):
        return {key: _clone(item) for key, item in value.items()}
    cls = type(value)
    if attrs.has(cls):
        return cls(
            **{
                field.alias: _clone(getattr(value, field.name))
                for field in attrs.fields(cls)
                if field.init
            }
        )
    return value
