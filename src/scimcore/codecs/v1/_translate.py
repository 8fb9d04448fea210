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


def _is_v1_extension(key: str) -> bool:
    return key.casefold() in _V1_FOLDED and _V1_FOLDED[key.casefold()] != CORE_SCHEMA


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


def _sub_to_v2(schema_id: str, attribute: Attribute, sub: str) -> str:
    for (urn, name, v2_sub), v1_sub in RENAMES.items():
        if urn == schema_id and name == attribute.name and v1_sub.casefold() == sub.casefold():
            return v2_sub
    return sub


def _sub_to_v1(schema_id: str, attribute: Attribute, sub: str) -> str:
    for (urn, name, v2_sub), v1_sub in RENAMES.items():
        if urn == schema_id and name == attribute.name and v2_sub.casefold() == sub.casefold():
            return v1_sub
    return sub


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


def _complex_to_v2(value: Any, schema_id: str, attribute: Attribute) -> Any:
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(key, str):
            key = _sub_to_v2(schema_id, attribute, key)
        out[key] = item
    return out


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
    shorthand = attribute.sub_attribute("value") is not None
    if attribute.multi_valued and shorthand and isinstance(value, str | int | float | bool):
        return [{"value": value}]
    if attribute.multi_valued and isinstance(value, list):
        return [
            {"value": item}
            if shorthand and not isinstance(item, Mapping | list) and item is not None
            else _complex_to_v2(item, schema_id, attribute)
            for item in value
        ]
    return _complex_to_v2(value, schema_id, attribute)


def _object_to_v2(doc: Mapping[Any, Any], schema: Schema, common: bool) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for key, value in doc.items():
        attribute = schema.attribute(key) if isinstance(key, str) else None
        if attribute is None and common and isinstance(key, str):
            attribute = next(
                (a for a in COMMON_ATTRIBUTES if a.name.casefold() == key.casefold()), None
            )
        out[key] = value if attribute is None else value_to_v2(value, schema.id, attribute)
    return out


def resource_to_v2(doc: Mapping[str, Any], model: type[Resource]) -> dict[str, Any]:
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
    out = _object_to_v2(
        {k: v for k, v in doc.items() if not (isinstance(k, str) and _is_v1_extension(k))},
        schema,
        common=True,
    )
    for key, value in doc.items():
        if isinstance(key, str) and _is_v1_extension(key):
            urn = urn_to_v2(key, model)
            extension = model.__scim_extensions__.get(urn)
            if extension is not None and isinstance(value, Mapping):
                value = _object_to_v2(value, extension.__scim_schema__, common=False)
            out[urn] = value
    for key in list(out):
        if not isinstance(key, str):
            continue
        folded = key.casefold()
        if folded == "schemas" and isinstance(out[key], list):
            out[key] = [urn_to_v2(u, model) if isinstance(u, str) else u for u in out[key]]
        elif folded == "meta" and isinstance(out[key], Mapping):
            out[key] = {
                k: v
                for k, v in out[key].items()
                if not (isinstance(k, str) and k.casefold() == "attributes")
            }
    if not any(isinstance(k, str) and k.casefold() == "schemas" for k in out):
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
    out: dict[str, Any] = {}
    for key, value in doc.items():
        attribute = schema.attribute(key)
        if attribute is None and common:
            attribute = next((a for a in COMMON_ATTRIBUTES if a.name == key), None)
        out[key] = value if attribute is None else _value_to_v1(value, schema.id, attribute)
    return out


def resource_to_v1(doc: Mapping[str, Any], model: type[Resource]) -> dict[str, Any]:
    """The 1.1 JSON for a 2.0 resource document of ``model`` (as the 2.0 codec wrote it).

    >>> from scimcore.models import User
    >>> resource_to_v1({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
    ...                 "userName": "bjensen", "meta": {"resourceType": "User"}}, User)
    {'schemas': ['urn:scim:schemas:core:1.0'], 'userName': 'bjensen', 'meta': {}}
    """
    out: dict[str, Any] = {}
    extensions = _extensions(model)
    base = model.__scim_schema__
    for key, value in doc.items():
        declared = extensions.get(key.casefold())
        if declared is not None:
            ext_schema = model.__scim_extensions__[declared].__scim_schema__
            if isinstance(value, Mapping):
                value = _object_to_v1(value, ext_schema, common=False)
            out[urn_to_v1(key)] = value
        elif key == "schemas" and isinstance(value, list):
            out[key] = [urn_to_v1(u) for u in value]
        else:
            out.update(_object_to_v1({key: value}, base, common=True))
    return out
