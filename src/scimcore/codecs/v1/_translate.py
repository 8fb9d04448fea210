"""SCIM 1.1 <-> SCIM 2.0: the structural translation of JSON documents and names.

Theory of operation: the SCIM 1.1 codec is the SCIM 2.0 codec plus a
translation of *structure*, never of values. A 1.1 document is rewritten into
the 2.0 document that says the same thing (URNs, the enterprise manager's
``managerId``, primitive shorthand for multi-valued attributes), then read by
:func:`scimcore.codecs.v2.decode`; encoding runs the other way. Both
directions walk the JSON with the schema model in hand, so which attribute is
complex, multi-valued or has a ``value`` sub-attribute is read from the
schema, never restated here. The only facts written down in this module are
the differences between the two versions, kept as data:

- :data:`URN_ALIASES`: 1.1 schema URN -> the 2.0 schema URNs it stands for;
- :data:`RENAMES`: sub-attributes whose wire name differs
  (``manager.managerId`` in 1.1 is ``manager.value`` in 2.0);
- :data:`DROPPED`: what 2.0 has and 1.1 cannot carry (``$ref``,
  ``meta.resourceType``), left out when encoding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from scimcore.models._base import Resource
from scimcore.schema import (
    COMMON_ATTRIBUTES,
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    Attribute,
    Schema,
)

__all__ = [
    "CORE_SCHEMA",
    "DROPPED",
    "ENTERPRISE_SCHEMA",
    "RENAMES",
    "URN_ALIASES",
    "name_to_v1",
    "name_to_v2",
    "resource_to_v1",
    "resource_to_v2",
    "split_name",
    "urn_to_v1",
    "urn_to_v2",
    "value_to_v2",
]

#: The one core schema URN of SCIM 1.1: User, Group, ServiceProviderConfig and Schema alike.
CORE_SCHEMA = "urn:scim:schemas:core:1.0"
#: The SCIM 1.1 Enterprise User extension.
ENTERPRISE_SCHEMA = "urn:scim:schemas:extension:enterprise:1.0"

#: 1.1 URN -> the 2.0 URNs it may stand for (which one: the model's base or extension).
URN_ALIASES: Mapping[str, tuple[str, ...]] = {
    CORE_SCHEMA: (USER_SCHEMA, GROUP_SCHEMA),
    ENTERPRISE_SCHEMA: (ENTERPRISE_USER_SCHEMA,),
}

#: (2.0 schema URN, attribute, 2.0 sub-attribute) -> the 1.1 sub-attribute name.
RENAMES: Mapping[tuple[str, str, str], str] = {
    (ENTERPRISE_USER_SCHEMA, "manager", "value"): "managerId",
}

#: What SCIM 1.1 cannot carry: (attribute or ``"*"`` for any, sub-attribute) left out on encode.
DROPPED: frozenset[tuple[str, str]] = frozenset({("*", "$ref"), ("meta", "resourceType")})

_V2_TO_V1 = {v2.casefold(): v1 for v1, v2s in URN_ALIASES.items() for v2 in v2s}
_V1_FOLDED = {v1.casefold(): v1 for v1 in URN_ALIASES}


def _extensions(model: type[Resource]) -> dict[str, str]:
    """Folded 2.0 extension URN -> the URN as the model declares it."""
    return {urn.casefold(): urn for urn in model.__scim_extensions__}


def urn_to_v2(urn: str, model: type[Resource]) -> str:
    """The 2.0 URN a 1.1 URN stands for in ``model`` (other URNs are returned as given).

    >>> from scimcore.models import User, Group
    >>> urn_to_v2("urn:scim:schemas:core:1.0", Group)
    'urn:ietf:params:scim:schemas:core:2.0:Group'
    >>> urn_to_v2("URN:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:1.0", User)
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
    """
    v1 = _V1_FOLDED.get(urn.casefold())
    if v1 is None:
        return urn
    if v1 == CORE_SCHEMA:
        return model.__scim_schema__.id
    declared = _extensions(model)
    for candidate in URN_ALIASES[v1]:
        found = declared.get(candidate.casefold())
        if found is not None:
            return found
    return urn


def urn_to_v1(urn: str) -> str:
    """The 1.1 URN for a 2.0 one (URNs 1.1 does not know are returned as given).

    >>> urn_to_v1("urn:ietf:params:scim:schemas:core:2.0:User")
    'urn:scim:schemas:core:1.0'
    """
    return _V2_TO_V1.get(urn.casefold(), urn)


# ----------------------------------------------------------------------------- names

_V1_PREFIX = re.compile(
    "|".join(re.escape(urn) for urn in sorted(URN_ALIASES, key=len, reverse=True)),
    re.IGNORECASE,
)


def split_name(name: str) -> tuple[str | None, str, str | None]:
    """A 1.1 or 2.0 attribute name as (URN or ``None``, attribute, sub-attribute or ``None``).

    After a 1.1 URN the separator may be ``:`` or ``.`` (Slack writes
    ``urn:scim:schemas:extension:enterprise:1.0.department``).

    >>> split_name("urn:scim:schemas:extension:enterprise:1.0.manager.managerId")
    ('urn:scim:schemas:extension:enterprise:1.0', 'manager', 'managerId')
    >>> split_name("name.givenName")
    (None, 'name', 'givenName')
    """
    name = name.strip()
    urn: str | None = None
    match = _V1_PREFIX.match(name)
    if match is not None and len(name) > match.end() and name[match.end()] in ":.":
        urn, name = _V1_FOLDED[match.group().casefold()], name[match.end() + 1 :]
    elif name.casefold().startswith("urn:") and ":" in name[4:]:
        head, _, tail = name.rpartition(":")
        urn, name = head, tail
    attribute, _, sub = name.partition(".")
    return urn, attribute, sub or None


def _schemas_of(model: type[Resource]) -> list[Schema]:
    return [model.__scim_schema__] + [e.__scim_schema__ for e in model.__scim_extensions__.values()]


def _find(model: type[Resource], urn: str | None, attribute: str) -> tuple[str, Attribute] | None:
    """(2.0 schema URN, attribute) for a top-level name, optionally URN-qualified."""
    base = model.__scim_schema__.id
    for schema in _schemas_of(model):
        if urn is not None and urn.casefold() != schema.id.casefold():
            continue
        found = schema.attribute(attribute)
        if found is not None:
            return schema.id, found
    if urn is None or urn.casefold() == base.casefold():
        for common in COMMON_ATTRIBUTES:
            if common.name.casefold() == attribute.casefold():
                return base, common
    return None


# (2.0 schema URN, attribute) -> {folded 1.1 sub-attribute: 2.0 name}, and the inverse.
_TO_V2: dict[tuple[str, str], dict[str, str]] = {}
_TO_V1: dict[tuple[str, str], dict[str, str]] = {}
for (_urn, _name, _v2), _v1 in RENAMES.items():
    _TO_V2.setdefault((_urn, _name), {})[_v1.casefold()] = _v2
    _TO_V1.setdefault((_urn, _name), {})[_v2.casefold()] = _v1


def _sub_to_v2(schema_id: str, attribute: Attribute, sub: str) -> str:
    table = _TO_V2.get((schema_id, attribute.name))
    return sub if table is None else table.get(sub.casefold(), sub)


def _sub_to_v1(schema_id: str, attribute: Attribute, sub: str) -> str:
    table = _TO_V1.get((schema_id, attribute.name))
    return sub if table is None else table.get(sub.casefold(), sub)


def name_to_v2(name: str, model: type[Resource]) -> str:
    """The 2.0 attribute path for a 1.1 attribute name (``attributes``, ``sortBy``,
    ``meta.attributes``); a name that names nothing is returned with its URN mapped.

    >>> from scimcore.models import User
    >>> name_to_v2("urn:scim:schemas:extension:enterprise:1.0.manager.managerId", User)
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value'
    >>> name_to_v2("urn:scim:schemas:core:1.0:name.givenName", User)
    'name.givenName'
    """
    urn, attribute, sub = split_name(name)
    v2_urn = None if urn is None else urn_to_v2(urn, model)
    found = _find(model, v2_urn, attribute)
    if found is None:
        text = attribute + ("" if sub is None else f".{sub}")
        return text if v2_urn is None else f"{v2_urn}:{text}"
    schema_id, definition = found
    if sub is not None:
        sub = _sub_to_v2(schema_id, definition, sub)
    text = definition.name + ("" if sub is None else f".{sub}")
    if schema_id == model.__scim_schema__.id:
        return text
    return f"{schema_id}:{text}"


def name_to_v1(name: str, model: type[Resource]) -> str:
    """The 1.1 attribute name for a 2.0 attribute path (the inverse of :func:`name_to_v2`).

    >>> from scimcore.models import User
    >>> name_to_v1("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", User)
    'urn:scim:schemas:extension:enterprise:1.0:manager.managerId'
    """
    urn, attribute, sub = split_name(name)
    found = _find(model, urn, attribute)
    if found is None:
        text = attribute + ("" if sub is None else f".{sub}")
        return text if urn is None else f"{urn_to_v1(urn)}:{text}"
    schema_id, definition = found
    if sub is not None:
        sub = _sub_to_v1(schema_id, definition, sub)
    text = definition.name + ("" if sub is None else f".{sub}")
    if schema_id == model.__scim_schema__.id:
        return text
    return f"{urn_to_v1(schema_id)}:{text}"


# ----------------------------------------------------------------------------- documents


def _complex_to_v2(value: Any, table: Mapping[str, str] | None) -> Any:
    if table is None or not isinstance(value, Mapping):
        return value
    return {
        (table.get(key.casefold(), key) if isinstance(key, str) else key): item
        for key, item in value.items()
    }


def value_to_v2(value: Any, schema_id: str, attribute: Attribute) -> Any:
    """One attribute's 1.1 JSON value as 2.0 JSON: sub-attribute renames, and
    primitive shorthand (``"roles": ["Tech Lead"]``) as ``{"value": …}`` objects.

    >>> from scimcore.models import User
    >>> roles = User.__scim_schema__.attribute("roles")
    >>> value_to_v2(["Tech Lead"], User.__scim_schema__.id, roles)
    [{'value': 'Tech Lead'}]
    """
    if not attribute.is_complex:
        return value
    table = _TO_V2.get((schema_id, attribute.name))
    if not attribute.multi_valued:
        return _complex_to_v2(value, table)
    shorthand = attribute.sub_attribute("value") is not None
    if isinstance(value, str | int | float | bool):
        return [{"value": value}] if shorthand else value
    if not isinstance(value, list):
        return _complex_to_v2(value, table)
    if table is None and all(type(item) is dict for item in value):
        return value
    return [
        {"value": item}
        if shorthand and not isinstance(item, Mapping | list) and item is not None
        else _complex_to_v2(item, table)
        for item in value
    ]


_PLANS: dict[tuple[int, bool, bool], tuple[Schema, dict[str, Attribute]]] = {}


def _plan(schema: Schema, common: bool, to_v1: bool) -> dict[str, Attribute]:
    """The attributes of ``schema`` whose values the translation must touch, by wire name
    (folded when reading 1.1, whose names are case-insensitive); made once per schema.

    Reading 1.1: complex attributes with a renamed sub-attribute, and multi-valued ones
    with a ``value`` (primitive shorthand). Writing 1.1: complex attributes with a renamed
    or dropped sub-attribute.
    """
    key = (id(schema), common, to_v1)
    found = _PLANS.get(key)
    if found is not None and found[0] is schema:
        return found[1]
    attributes = list(schema.attributes)
    if common:
        names = {a.name.casefold() for a in attributes}
        attributes += [a for a in COMMON_ATTRIBUTES if a.name.casefold() not in names]
    plan: dict[str, Attribute] = {}
    for attribute in attributes:
        if not attribute.is_complex:
            continue
        renamed = any(urn == schema.id and name == attribute.name for urn, name, _ in RENAMES)
        if to_v1:
            dropped = any(_drop(attribute.name, sub.name) for sub in attribute.sub_attributes)
            if renamed or dropped:
                plan[attribute.name] = attribute
        elif renamed or (attribute.multi_valued and attribute.sub_attribute("value") is not None):
            plan[attribute.name.casefold()] = attribute
    _PLANS[key] = (schema, plan)
    return plan


def _object_to_v2(doc: Mapping[Any, Any], schema: Schema, common: bool) -> dict[Any, Any]:
    plan = _plan(schema, common, to_v1=False)
    out: dict[Any, Any] = {}
    for key, value in doc.items():
        attribute = plan.get(key.casefold()) if isinstance(key, str) else None
        out[key] = value if attribute is None else value_to_v2(value, schema.id, attribute)
    return out


_EXTENSION_KEYS: dict[type, dict[str, tuple[str, Schema]]] = {}


def _extension_keys(model: type[Resource]) -> dict[str, tuple[str, Schema]]:
    """Folded 1.1 (and 2.0) extension URN -> (the URN the model declares, its schema)."""
    found = _EXTENSION_KEYS.get(model)
    if found is None:
        found = {}
        for urn, extension in model.__scim_extensions__.items():
            found[urn.casefold()] = (urn, extension.__scim_schema__)
            v1 = urn_to_v1(urn)
            found[v1.casefold()] = (urn, extension.__scim_schema__)
        _EXTENSION_KEYS[model] = found
    return found


def resource_to_v2(doc: Mapping[Any, Any], model: type[Resource]) -> dict[str, Any]:
    """The 2.0 JSON for a 1.1 resource document of ``model``.

    ``schemas`` and extension keys get their 2.0 URNs (``schemas`` is added
    when missing: 1.1 documents often leave it out), ``managerId`` becomes
    ``value``, primitive shorthand becomes objects, ``meta.attributes`` (a
    PATCH instruction) is dropped. Values are never changed.

    >>> from scimcore.models import User
    >>> resource_to_v2({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "bjensen"}, User)
    {'schemas': ['urn:ietf:params:scim:schemas:core:2.0:User'], 'userName': 'bjensen'}
    """
    schema = model.__scim_schema__
    plan = _plan(schema, True, to_v1=False)
    extensions = _extension_keys(model)
    out: dict[Any, Any] = {}
    has_schemas = False
    for key, value in doc.items():
        if not isinstance(key, str):
            out[key] = value
            continue
        folded = key.casefold()
        attribute = plan.get(folded)
        if attribute is not None:
            value = value_to_v2(value, schema.id, attribute)
        elif folded == "schemas":
            has_schemas = True
            if isinstance(value, list):
                value = [urn_to_v2(u, model) if isinstance(u, str) else u for u in value]
        elif folded == "meta" and isinstance(value, Mapping):
            value = {
                k: v
                for k, v in value.items()
                if not (isinstance(k, str) and k.casefold() == "attributes")
            }
        elif folded in extensions:
            key, ext_schema = extensions[folded]
            if isinstance(value, Mapping):
                value = _object_to_v2(value, ext_schema, common=False)
        out[key] = value
    if not has_schemas:
        present = [urn for urn in model.__scim_extensions__ if urn in out]
        out = {"schemas": [schema.id, *present], **out}
    return out


def _drop(attribute: str, sub: str) -> bool:
    return ("*", sub) in DROPPED or (attribute, sub) in DROPPED


def _value_to_v1(value: Any, schema_id: str, attribute: Attribute) -> Any:
    if not attribute.is_complex:
        return value

    def one(item: Any) -> Any:
        if not isinstance(item, Mapping):
            return item
        return {
            _sub_to_v1(schema_id, attribute, k): v
            for k, v in item.items()
            if not _drop(attribute.name, k)
        }

    if isinstance(value, list):
        return [one(item) for item in value]
    return one(value)


def _object_to_v1(doc: Mapping[str, Any], schema: Schema, common: bool) -> dict[str, Any]:
    plan = _plan(schema, common, to_v1=True)
    out: dict[str, Any] = {}
    for key, value in doc.items():
        attribute = plan.get(key)
        out[key] = value if attribute is None else _value_to_v1(value, schema.id, attribute)
    return out


def resource_to_v1(doc: Mapping[str, Any], model: type[Resource]) -> dict[str, Any]:
    """The 1.1 JSON for a 2.0 resource document of ``model`` (as the 2.0 codec wrote it).

    A ``meta`` left empty (it held only ``resourceType``) is left out.

    >>> from scimcore.models import User
    >>> resource_to_v1({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    ...                 "userName": "bjensen", "meta": {"resourceType": "User"}}, User)
    {'schemas': ['urn:scim:schemas:core:1.0'], 'userName': 'bjensen'}
    """
    out = _object_to_v1(doc, model.__scim_schema__, common=True)
    schemas = out.get("schemas")
    if isinstance(schemas, list):
        out["schemas"] = [urn_to_v1(u) for u in schemas]
    if out.get("meta") == {}:
        del out["meta"]
    if not any(urn in out for urn in model.__scim_extensions__):
        return out
    ordered: dict[str, Any] = {}
    for key, value in out.items():
        extension = model.__scim_extensions__.get(key)
        if extension is not None:
            if isinstance(value, Mapping):
                value = _object_to_v1(value, extension.__scim_schema__, common=False)
            key = urn_to_v1(key)
        ordered[key] = value
    return ordered
