"""The search document: a resource's comparable values, as JSON for a database.

Theory of operation: a SQL store keeps, next to each resource's wire JSON
(``encode(resource, full=True)``), a *search document* holding the same values
in their comparable form (:func:`scimcore.storage.comparable`): case-insensitive
strings folded, dateTimes as fixed-width UTC text. Keys are the case-folded
attribute names; an extension's attributes sit under its case-folded URN. Unknown
keys and ``null`` values are left out. The filter compiler reads this document
only, so every comparison in SQL is a plain binary ``=``/``<``/``instr`` on
values Python prepared with the evaluator's own rules.

>>> from scimcore.schema import core_schemas
>>> registry = core_schemas()
>>> user = registry.resource_type("User")
>>> search_document({"userName": "BJensen", "emails": {"value": "A@X.COM"},
...                  "meta": {"created": "2011-05-13T05:00:00+02:00"}}, user, registry)
{'username': 'bjensen', 'emails': [{'value': 'a@x.com'}],
 'meta': {'created': '2011-05-13T03:00:00.000000Z'}}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from scimcore.schema import Attribute, AttributeRef, ResourceType, SchemaRegistry
from scimcore.storage._values import comparable

__all__ = ["search_document", "search_values"]


def _simple(value: Any, attribute: Attribute) -> Any:
    if isinstance(value, Mapping | list):
        return None
    return comparable(value, attribute)


def _complex(value: Any, attribute: Attribute) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    out: dict[str, Any] = {}
    for key, sub_value in value.items():
        sub = attribute.sub_attribute(key)
        if sub is None or sub_value is None:
            continue
        converted = _value(sub_value, sub)
        if converted is not None:
            out[sub.name.casefold()] = converted
    return out


def _one(value: Any, attribute: Attribute) -> Any:
    return _complex(value, attribute) if attribute.is_complex else _simple(value, attribute)


def _value(value: Any, attribute: Attribute) -> Any:
    if attribute.multi_valued:
        items = value if isinstance(value, list) else [value]
        converted = [_one(item, attribute) for item in items if item is not None]
        return [item for item in converted if item is not None]
    return _one(value, attribute)


def _attributes(
    data: Mapping[str, Any], lookup: Iterable[Any], out: dict[str, Any]
) -> dict[str, Any]:
    finders = tuple(lookup)
    for key, value in data.items():
        if value is None:
            continue
        for find in finders:
            attribute = find(key)
            if attribute is not None:
                converted = _value(value, attribute)
                if converted is not None:
                    out[attribute.name.casefold()] = converted
                break
    return out


def search_document(
    doc: Mapping[str, Any], resource_type: ResourceType, registry: SchemaRegistry
) -> dict[str, Any]:
    """The search document of one resource's wire JSON (see the module docstring)."""
    base = registry.schema(resource_type.schema)
    if base is None:
        raise ValueError(f"unknown schema {resource_type.schema!r}")
    common = registry.common_attributes
    common_by_name = {a.name.casefold(): a for a in common}
    extensions = {urn.casefold(): urn for urn in resource_type.extension_urns}
    out: dict[str, Any] = {}
    top: dict[str, Any] = {}
    for key, value in doc.items():
        urn = extensions.get(key.casefold())
        if urn is not None:
            schema = registry.schema(urn)
            if schema is not None and isinstance(value, Mapping):
                out[urn.casefold()] = _attributes(value, (schema.attribute,), {})
        else:
            top[key] = value
    return _attributes(top, (base.attribute, lambda k: common_by_name.get(k.casefold())), out)


def search_values(document: Mapping[str, Any], keys: tuple[str, ...]) -> list[Any]:
    """Every simple value at a key path of a search document (any element of a list).

    >>> search_values({"emails": [{"value": "a"}, {"value": "b"}, {}]}, ("emails", "value"))
    ['a', 'b']
    """
    values: list[Any] = [document]
    for key in keys:
        found: list[Any] = []
        for value in values:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, Mapping) and key in item:
                    found.append(item[key])
        values = found
    flat: list[Any] = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return [v for v in flat if not isinstance(v, Mapping)]


def document_keys(ref: AttributeRef, resource_type: ResourceType) -> tuple[str, ...]:
    """The keys of a search document that lead to the attribute ``ref`` names.

    >>> from scimcore.schema import core_schemas, USER_RESOURCE_TYPE
    >>> ref = core_schemas().resolve("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
    ...                              "manager.value", resource_type=USER_RESOURCE_TYPE)
    >>> document_keys(ref, USER_RESOURCE_TYPE)
    ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:user', 'manager', 'value')
    """
    prefix: tuple[str, ...] = ()
    if not ref.common and ref.schema.id.casefold() != resource_type.schema.casefold():
        prefix = (ref.schema.id.casefold(),)
    return (*prefix, *(a.name.casefold() for a in ref.chain))
