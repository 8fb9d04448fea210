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

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from scimcore.schema import (
    TEXT_TYPES,
    Attribute,
    AttributeRef,
    AttributeType,
    ResourceType,
    Schema,
    SchemaRegistry,
)
from scimcore.storage._values import comparable, fold

__all__ = ["search_document", "search_values", "singular_value"]

# Theory of operation of the code below: a *plan* per (registry, resource type) maps
# every key a document may use to what it becomes, so that building a search document
# is one dict lookup and one converter call per value. A plan is a dict from key to
# ``(folded name, converter, is_extension)``; it holds every attribute's own spelling
# and case-folded name, and any other spelling is looked up by its case fold. A
# converter gives the search document form of a value, or ``None`` to leave it out.
# Each is equivalent to the generic rules (:func:`_simple`, :func:`comparable`), which
# stay the fallback for anything but the JSON types of the attribute's own kind.

_Convert = Callable[[Any], Any]
_Entry = tuple[str, _Convert, bool]
_Plan = dict[str, _Entry]


def _simple(value: Any, attribute: Attribute) -> Any:
    if isinstance(value, Mapping | list):
        return None
    return comparable(value, attribute)


def _one_converter(attribute: Attribute) -> _Convert:
    """One value of ``attribute`` in its search document form (``None``: left out)."""
    if attribute.is_complex:
        return _complex_converter(_plan(attribute.sub_attributes))
    if attribute.type is AttributeType.DATETIME:
        last = ("", "")  # the last text converted, and its form: created = lastModified

        def datetime_value(value: Any) -> Any:
            nonlocal last
            if type(value) is str:
                text, converted = last
                if value == text:
                    return converted
                converted = comparable(value, attribute)
                last = (value, converted)
                return converted
            return _simple(value, attribute)

        return datetime_value
    if attribute.type in TEXT_TYPES and not attribute.case_exact:

        def folded_value(value: Any) -> Any:
            return fold(value) if type(value) is str else _simple(value, attribute)

        return folded_value

    def same_value(value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is bool or kind is int or kind is float:
            return value
        return _simple(value, attribute)

    return same_value


def _value_converter(attribute: Attribute) -> _Convert:
    """A value of ``attribute``: a multi-valued one given alone is a one-element list."""
    one = _one_converter(attribute)
    if not attribute.multi_valued:
        return one

    def multi_value(value: Any) -> Any:
        out = []
        for item in value if isinstance(value, list) else [value]:
            if item is not None:
                converted = one(item)
                if converted is not None:
                    out.append(converted)
        return out

    return multi_value


def _complex_converter(plan: _Plan) -> _Convert:
    get = plan.get

    def complex_value(value: Any) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            return None
        out: dict[str, Any] = {}
        for key, sub_value in value.items():
            entry = get(key) or get(key.casefold())
            if entry is None or sub_value is None:
                continue
            converted = entry[1](sub_value)
            if converted is not None:
                out[entry[0]] = converted
        return out

    return complex_value


def _with_spellings(folded: _Plan, spellings: list[str]) -> _Plan:
    """``folded`` plus each spelling whose case fold it holds, to skip the folding."""
    plan = dict(folded)
    for spelling in spellings:
        entry = folded.get(spelling.casefold())
        if entry is not None:
            plan[spelling] = entry
    return plan


def _plan(attributes: tuple[Attribute, ...]) -> _Plan:
    # Keyed like Schema.attribute / Attribute.sub_attribute: the last of a case fold wins.
    folded = {
        a.name.casefold(): (a.name.casefold(), _value_converter(a), False) for a in attributes
    }
    return _with_spellings(folded, [a.name for a in attributes])


_Cached = tuple[ResourceType, Schema, tuple[Attribute, ...], tuple[Schema | None, ...], _Plan]
_PLANS: weakref.WeakKeyDictionary[SchemaRegistry, dict[int, _Cached]] = weakref.WeakKeyDictionary()


def _build(resource_type: ResourceType, registry: SchemaRegistry, base: Schema) -> _Cached:
    common = registry.common_attributes
    extensions = tuple(registry.schema(urn) for urn in resource_type.extension_urns)
    # search_document's precedence: an extension URN, then the base schema, then common.
    folded: _Plan = {}
    for attributes in (common, base.attributes):
        for a in attributes:
            folded[a.name.casefold()] = (a.name.casefold(), _value_converter(a), False)
    spellings = [a.name for a in (*common, *base.attributes)]
    for urn, schema in zip(resource_type.extension_urns, extensions, strict=True):
        # An unknown extension's key is left out, like a non-object value of a known one.
        convert = _complex_converter(_plan(schema.attributes)) if schema is not None else _nothing
        folded[urn.casefold()] = (urn.casefold(), convert, True)
        spellings.append(urn)
    return (resource_type, base, common, extensions, _with_spellings(folded, spellings))


def _nothing(value: Any) -> None:
    return None


def _document_plan(resource_type: ResourceType, registry: SchemaRegistry) -> _Plan:
    """The plan for this resource type, cached while the registry's schemas stay the same."""
    base = registry.schema(resource_type.schema)
    if base is None:
        raise ValueError(f"unknown schema {resource_type.schema!r}")
    plans = _PLANS.get(registry)
    if plans is None:
        plans = _PLANS.setdefault(registry, {})
    cached = plans.get(id(resource_type))
    if (
        cached is not None
        and cached[0] is resource_type
        and cached[1] is base
        and cached[2] is registry.common_attributes
        and all(
            registry.schema(urn) is schema
            for urn, schema in zip(resource_type.extension_urns, cached[3], strict=True)
        )
    ):
        return cached[4]
    if len(plans) >= 64:  # resource types made per call: keep the cache bounded
        plans.clear()
    cached = _build(resource_type, registry, base)
    plans[id(resource_type)] = cached
    return cached[4]


def search_document(
    doc: Mapping[str, Any], resource_type: ResourceType, registry: SchemaRegistry
) -> dict[str, Any]:
    """The search document of one resource's wire JSON (see the module docstring)."""
    get = _document_plan(resource_type, registry).get
    extensions: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        entry = get(key) or get(key.casefold())
        if entry is None:
            continue
        if entry[2]:
            converted = entry[1](value)
            if converted is not None:
                extensions[entry[0]] = converted
        elif value is not None:
            converted = entry[1](value)
            if converted is not None:
                out[entry[0]] = converted
    if extensions:  # extensions come first, as they always have
        extensions.update(out)
        return extensions
    return out


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


def singular_value(document: Any, keys: tuple[str, ...]) -> Any:
    """The one simple value at a key path of a search document, or ``None`` (no value,
    or a list or object there).

    >>> singular_value({"name": {"familyname": "jensen"}}, ("name", "familyname"))
    'jensen'
    >>> singular_value({"emails": [{"value": "a"}]}, ("emails", "value")) is None
    True
    """
    value: Any = document
    for key in keys:
        if not isinstance(value, dict):  # search documents are plain JSON values
            return None
        value = value.get(key)
    return None if isinstance(value, dict | list) else value


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
