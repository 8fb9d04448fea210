"""What the shipped stores share: stamping, uniqueness rules, sort keys, paging."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from scimcore.errors import InvalidValue
from scimcore.schema import AttributeRef, AttributeType, ResourceType, UniquenessKind
from scimcore.storage._cursor import CursorCodec, Position, SortKey
from scimcore.storage._query import Page, Query, registry_of, resource_type_of
from scimcore.stores.sql._compiler import lookup_key
from scimcore.stores.sql._document import document_keys, search_values

__all__ = [
    "DEFAULT_LOOKUPS",
    "Clock",
    "UniqueRule",
    "order_key",
    "page_of",
    "python_sort_value",
    "stamp",
    "unique_rules",
    "unique_values",
    "utcnow",
]

R = TypeVar("R")
Clock = Callable[[], datetime.datetime]

#: The lookups identity providers make, indexed by default (resource type → paths).
DEFAULT_LOOKUPS: Mapping[str, tuple[str, ...]] = {
    "User": ("userName", "externalId", "emails.value"),
    "Group": ("displayName", "externalId", "members.value"),
}


def utcnow() -> datetime.datetime:
    """Now, in UTC (the default clock of the stores)."""
    return datetime.datetime.now(datetime.UTC)


def new_id() -> str:
    """A new resource ``id``: a random UUID."""
    return str(uuid.uuid4())


def stamp(
    resource: R,
    *,
    resource_id: str,
    version: str,
    now: datetime.datetime,
    created: datetime.datetime | None = None,
) -> R:
    """A copy of ``resource`` with its ``id`` and the ``meta`` a store sets."""
    from scimcore.models import Meta

    meta = Meta(
        resource_type=resource_type_of(type(resource)).name,
        created=created if created is not None else now,
        last_modified=now,
        location=None,
        version=version,
    )
    return attrs.evolve(resource, id=resource_id, meta=meta)  # type: ignore[misc]


@attrs.frozen
class UniqueRule:
    """One attribute whose values must be unique within a resource type."""

    resource_type: str
    ref: AttributeRef
    keys: tuple[str, ...]

    @property
    def key(self) -> str:
        """The lookup key of the attribute (see :func:`~scimcore.stores.sql.lookup_key`)."""
        return "/".join((self.resource_type.casefold(), *self.keys))

    @property
    def name(self) -> str:
        """The attribute's path, for error messages."""
        return self.ref.dotted


def _ref(model: type[Any], path: str) -> AttributeRef:
    ref = registry_of(model).resolve(path, resource_type=resource_type_of(model))
    if ref is None:
        raise ValueError(f"{model.__name__} has no attribute {path!r}")
    if ref.target.is_complex:
        raise ValueError(f"{path!r} is complex; name a sub-attribute")
    return ref


def unique_rules(model: type[Any], extra: Iterable[str] = ()) -> tuple[UniqueRule, ...]:
    """The uniqueness rules of a model: its schema's, plus ``extra`` attribute paths.

    The schema's are the singular, simple top-level attributes whose
    ``uniqueness`` is ``server`` or ``global`` (``userName``), except ``id``,
    the store's own key. Values compare in their comparable form, so
    ``userName`` (``caseExact: false``) is unique case-insensitively.
    """
    resource_type = resource_type_of(model)
    registry = registry_of(model)
    refs: dict[tuple[str, ...], AttributeRef] = {}
    urns = (resource_type.schema, *resource_type.extension_urns)
    for urn in urns:
        schema = registry.schema(urn)
        if schema is None:
            continue
        for attribute in schema.attributes:
            if (
                attribute.uniqueness is not UniquenessKind.NONE
                and not attribute.multi_valued
                and not attribute.is_complex
                and attribute.name != "id"
            ):
                ref = AttributeRef(schema, (attribute,))
                refs[document_keys(ref, resource_type)] = ref
    for path in extra:
        ref = _ref(model, path)
        refs[document_keys(ref, resource_type)] = ref
    return tuple(UniqueRule(resource_type.name, ref, keys) for keys, ref in refs.items())


def unique_values(
    rules: Iterable[UniqueRule], document: Mapping[str, Any]
) -> dict[tuple[str, Any], UniqueRule]:
    """The values of a search document that must be unique, as ``(rule key, value)`` →
    rule (``None`` and ``""`` hold nothing)."""
    return {
        (rule.key, value): rule
        for rule in rules
        for value in search_values(document, rule.keys)
        if value is not None and value != ""
    }


def lookup_refs(model: type[Any], paths: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Lookup key → document keys, for the attribute paths a store indexes."""
    resource_type = resource_type_of(model)
    out = {}
    for path in paths:
        keys = document_keys(_ref(model, path), resource_type)
        out[lookup_key(resource_type, keys)] = keys
    return out


def scalar_paths(model: type[Any]) -> dict[str, tuple[str, ...]]:
    """Every singular simple attribute of a model, as lookup key → search-document keys.

    In schema order: the base schema (a singular complex attribute's
    sub-attributes in place), the common attributes, then each extension. A SQL
    store keeps these values in plain columns, so that comparing or sorting
    them needs no JSON.
    """
    resource_type = resource_type_of(model)
    registry = registry_of(model)
    out: dict[str, tuple[str, ...]] = {}
    groups: list[tuple[tuple[str, ...], Iterable[Any]]] = []
    base = registry.schema(resource_type.schema)
    if base is not None:
        groups.append(((), base.attributes))
    groups.append(((), registry.common_attributes))
    for urn in resource_type.extension_urns:
        schema = registry.schema(urn)
        if schema is not None:
            groups.append(((urn.casefold(),), schema.attributes))
    for prefix, attributes in groups:
        for attribute in attributes:
            if attribute.multi_valued:
                continue
            head = (*prefix, attribute.name.casefold())
            if attribute.is_complex:
                for sub in attribute.sub_attributes:
                    if not sub.multi_valued and not sub.is_complex:
                        keys = (*head, sub.name.casefold())
                        out.setdefault(lookup_key(resource_type, keys), keys)
            else:
                out.setdefault(lookup_key(resource_type, head), head)
    return out


def python_sort_value(document: Mapping[str, Any], ref: AttributeRef, keys: tuple[str, ...]) -> Any:
    """The value a resource sorts by, read from its search document; ``None`` if none.

    A multi-valued attribute sorts by the primary element, else the first
    (RFC 7644 §3.4.2.3). ``""`` counts as no value, as it does for ``pr``.
    """
    top = ref.chain[0]
    offset = len(keys) - len(ref.chain)
    value: Any = document
    for key in keys[: offset + 1]:
        value = value.get(key) if isinstance(value, Mapping) else None
    if top.multi_valued:
        if not isinstance(value, list) or not value:
            return None
        element = value[0]
        if len(ref.chain) > 1:
            primary = top.sub_attribute("primary")
            if primary is not None and primary.type is AttributeType.BOOLEAN:
                element = next(
                    (e for e in value if isinstance(e, Mapping) and e.get("primary") is True),
                    element,
                )
        value = element
    for key in keys[offset + 1 :]:
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping | list) or value == "" or value is None:
        return None
    return value


def order_key(key: SortKey) -> tuple[Any, ...]:
    """A Python-comparable form of a sort key, in SQLite's order (numbers before text)."""
    missing, value, seq = key
    if missing or value is None:
        return (1, 0, 0, seq)
    if isinstance(value, bool | int | float):
        return (0, 0, value, seq)
    return (0, 1, value, seq)


def page_of(
    query: Query,
    rows: Sequence[tuple[SortKey, R]],
    codec: CursorCodec,
) -> Page[R]:
    """The page a query asks for, out of every match in sorted order (memory store).

    ``rows`` are sorted by :func:`order_key`, reversed for a descending query.
    """
    total = len(rows)
    count = query.count
    if query.cursor is None:
        start = query.start_index - 1
        stop = None if count is None else start + count
        return Page(
            resources=[r for _, r in rows[start:stop]], total=total, start_index=query.start_index
        )
    if count == 0:
        return Page(resources=[], total=total)
    fingerprint = query.fingerprint()
    sign = -1 if query.descending else 1

    def after(key: SortKey, anchor: SortKey) -> bool:
        a, b = order_key(key), order_key(anchor)
        return a > b if sign > 0 else a < b

    if query.cursor == "":
        start, stop = 0, total if count is None else min(count, total)
    else:
        position = codec.decode(fingerprint, query.cursor)
        if position.direction == "next":
            start = sum(1 for key, _ in rows if not after(key, position.key))
            stop = total if count is None else min(start + count, total)
        else:
            stop = sum(1 for key, _ in rows if after(position.key, key))
            start = 0 if count is None else max(stop - count, 0)
    page = rows[start:stop]
    next_cursor = previous_cursor = None
    if page and stop < total:
        next_cursor = codec.encode(fingerprint, Position("next", page[-1][0]))
    if page and start > 0:
        previous_cursor = codec.encode(fingerprint, Position("previous", page[0][0]))
    return Page(
        resources=[r for _, r in page],
        total=total,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
    )


def check_models(models: Iterable[type[Any]]) -> dict[str, type[Any]]:
    """Resource type name (folded) → model, refusing two models for one type."""
    out: dict[str, type[Any]] = {}
    for model in models:
        name = resource_type_of(model).name.casefold()
        if name in out and out[name] is not model:
            raise ValueError(f"two models for resource type {name!r}")
        out[name] = model
    return out


def resource_type_name(model: type[Any]) -> str:
    """The name a model's resources are stored under."""
    rt: ResourceType = resource_type_of(model)
    return rt.name


def unknown_model(model: type[Any]) -> InvalidValue:
    """The error for a model the store was not configured with."""
    return InvalidValue(f"This store does not keep {resource_type_name(model)} resources.")


def shown(resource: Any, ref: AttributeRef) -> Any:
    """The value of a top-level attribute as the client wrote it (for error messages)."""
    container = resource
    if not ref.common and ref.schema.id != resource_type_of(type(resource)).schema:
        container = resource.extensions.get(ref.schema.id)
    return getattr(container, ref.chain[0].python_name, None)
