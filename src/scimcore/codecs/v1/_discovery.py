"""SCIM 1.1 discovery: the ``/ServiceProviderConfigs`` and ``/Schemas`` documents.

1.1 has one configuration document with the same feature blocks as 2.0 plus
``xmlDataFormat``, spelled ``documentationUrl``/``specUrl`` where 2.0 writes
``…Uri``; and one *schema resource per resource type*, which carries what 2.0
splits into a Schema and a ResourceType (``endpoint``, and a ``schema`` URN on
each attribute to place extension attributes). 1.1 attributes have only
``readOnly``, ``required`` and ``caseExact``: ``mutability``, ``returned``,
``uniqueness`` and ``referenceTypes`` are lost on the way out, and read back
as the RFC 7643 defaults (``readOnly: true`` -> ``mutability: readOnly``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from scimcore.codecs.v1._translate import CORE_SCHEMA, RENAMES, URN_ALIASES, urn_to_v1
from scimcore.errors import InvalidValue
from scimcore.schema import (
    COMMON_ATTRIBUTES,
    Attribute,
    AttributeType,
    MutabilityKind,
    ResourceType,
    Schema,
    SchemaExtension,
    ServiceProviderConfig,
)

__all__ = [
    "decode_schema",
    "decode_service_provider_config",
    "encode_schema",
    "encode_service_provider_config",
]

# 2.0 wire name -> 1.1 wire name, in the configuration and its authentication schemes.
_CONFIG_RENAMES = {"documentationUri": "documentationUrl", "specUri": "specUrl"}


def _rename(data: Any, table: Mapping[str, str]) -> Any:
    if isinstance(data, list):
        return [_rename(item, table) for item in data]
    if isinstance(data, Mapping):
        return {table.get(k, k): _rename(v, table) for k, v in data.items()}
    return data


def encode_service_provider_config(
    config: ServiceProviderConfig, *, xml_data_format: bool = False
) -> dict[str, Any]:
    """The 1.1 ``/ServiceProviderConfigs`` document for a configuration.

    RFC 9865's ``pagination`` has no 1.1 form and is left out; ``xmlDataFormat``
    is added (scimcore speaks JSON only).

    >>> from scimcore.schema import Supported
    >>> doc = encode_service_provider_config(ServiceProviderConfig(patch=Supported(True),
    ...                                      documentation_uri="https://example.com/help"))
    >>> doc["schemas"], doc["documentationUrl"], doc["xmlDataFormat"]
    (['urn:scim:schemas:core:1.0'], 'https://example.com/help', {'supported': False})
    """
    document = config.to_dict()
    document.pop("pagination", None)
    document.pop("meta", None)
    out = _rename(document, _CONFIG_RENAMES)
    out["schemas"] = [CORE_SCHEMA]
    out["xmlDataFormat"] = {"supported": xml_data_format}
    return dict(out)


def decode_service_provider_config(data: Mapping[str, Any]) -> ServiceProviderConfig:
    """The configuration a 1.1 ``/ServiceProviderConfigs`` document describes.

    ``xmlDataFormat`` has no 2.0 form and is dropped.

    >>> decode_service_provider_config({"schemas": ["urn:scim:schemas:core:1.0"],
    ...     "documentationUrl": "https://example.com/help", "xmlDataFormat": {"supported": True},
    ...     "filter": {"supported": True, "maxResults": 200}}).filter.max_results
    200
    """
    if not isinstance(data, Mapping):
        raise InvalidValue("Expected a JSON object.", location="$")
    inverse = {v: k for k, v in _CONFIG_RENAMES.items()}
    document = {
        k: v for k, v in _rename(data, inverse).items() if k not in ("xmlDataFormat", "schemas")
    }
    return ServiceProviderConfig.from_dict(document)


def _attribute_to_v1(attribute: Attribute, schema_id: str, top: Attribute | None) -> dict[str, Any]:
    name = attribute.name
    if top is not None:
        name = RENAMES.get((schema_id, top.name, attribute.name), name)
    kind = attribute.type.value
    out: dict[str, Any] = {
        "name": name,
        # 1.1 has no reference type; references are strings there.
        "type": "string" if attribute.type is AttributeType.REFERENCE else kind,
        "multiValued": attribute.multi_valued,
    }
    if attribute.description is not None:
        out["description"] = attribute.description
    out["schema"] = urn_to_v1(schema_id)
    out["readOnly"] = attribute.mutability is MutabilityKind.READ_ONLY
    out["required"] = attribute.required
    out["caseExact"] = attribute.case_exact
    if attribute.canonical_values:
        out["canonicalValues"] = list(attribute.canonical_values)
    subs = [s for s in attribute.sub_attributes if s.name != "$ref"]
    if subs:
        out["subAttributes"] = [_attribute_to_v1(s, schema_id, attribute) for s in subs]
    return out


def encode_schema(resource_type: ResourceType, schemas: Mapping[str, Schema]) -> dict[str, Any]:
    """The 1.1 schema resource of a resource type (``/Schemas/Users``).

    ``schemas`` maps URNs to the base and extension schemas; extension
    attributes are listed after the base ones with their 1.1 ``schema`` URN.

    >>> from scimcore.models import User, EnterpriseUser
    >>> from scimcore.schema import USER_RESOURCE_TYPE
    >>> doc = encode_schema(USER_RESOURCE_TYPE, {s.id: s for s in
    ...                     (User.__scim_schema__, EnterpriseUser.__scim_schema__)})
    >>> doc["schema"], doc["endpoint"], doc["attributes"][-1]["schema"]
    ('urn:scim:schemas:core:1.0', '/Users', 'urn:scim:schemas:extension:enterprise:1.0')
    >>> [a["name"] for a in doc["attributes"][-1]["subAttributes"]]
    ['managerId', 'displayName']
    """
    base = schemas[resource_type.schema]
    attributes = [_attribute_to_v1(a, base.id, None) for a in COMMON_ATTRIBUTES]
    attributes = [a for a in attributes if a["name"] != "schemas"]
    attributes += [_attribute_to_v1(a, base.id, None) for a in base.attributes]
    for urn in resource_type.extension_urns:
        extension = schemas.get(urn)
        if extension is not None:
            attributes += [_attribute_to_v1(a, urn, None) for a in extension.attributes]
    # The 1.1 schema resource is addressed by its resource type (``/Schemas/Users``);
    # a custom base schema keeps its own URN as id.
    v1_urn = urn_to_v1(base.id)
    out: dict[str, Any] = {
        "id": resource_type.name if v1_urn == CORE_SCHEMA else v1_urn,
        "name": resource_type.name,
    }
    description = resource_type.description or base.description
    if description is not None:
        out["description"] = description
    out["schema"] = urn_to_v1(base.id)
    out["endpoint"] = resource_type.endpoint
    out["attributes"] = attributes
    return out


def _attribute_from_v1(data: Any, schema_id: str, top: str | None, location: str) -> Attribute:
    if not isinstance(data, Mapping):
        raise InvalidValue("An attribute definition must be an object.", location=location)
    document = dict(data)
    name = document.get("name")
    if top is not None and isinstance(name, str):
        for (urn, owner, v2_name), v1_name in RENAMES.items():
            if urn == schema_id and owner == top and v1_name.casefold() == name.casefold():
                document["name"] = v2_name
    read_only = bool(document.pop("readOnly", False))
    document["mutability"] = "readOnly" if read_only else "readWrite"
    subs = document.pop("subAttributes", None) or []
    document.pop("schema", None)
    document.pop("multiValuedAttributeChildName", None)
    attribute = Attribute.from_dict(document, location=location)
    if subs:
        parsed = [
            _attribute_from_v1(s, schema_id, attribute.name, f"{location}.subAttributes[{i}]")
            for i, s in enumerate(subs)
        ]
        attribute = attrs.evolve(attribute, sub_attributes=parsed)
    return attribute


def decode_schema(
    data: Mapping[str, Any], *, base_urn: str | None = None
) -> tuple[Schema, ResourceType, tuple[Schema, ...]]:
    """A 1.1 schema resource as 2.0: the base Schema, the ResourceType, the extension Schemas.

    ``base_urn`` names the 2.0 base schema; by default the core User or Group
    schema when the resource is named ``User`` or ``Group``, else its ``schema``.
    Each attribute is placed by its ``schema`` URN; common attributes (``id``,
    ``externalId``, ``meta``) are left out, as 2.0 schemas do not list them.

    >>> schema, resource_type, extensions = decode_schema({"name": "User", "endpoint": "/Users",
    ...     "schema": "urn:scim:schemas:core:1.0", "attributes": [
    ...         {"name": "userName", "type": "string", "schema": "urn:scim:schemas:core:1.0",
    ...          "readOnly": False, "required": True, "caseExact": False},
    ...         {"name": "department", "type": "string",
    ...          "schema": "urn:scim:schemas:extension:enterprise:1.0"}]})
    >>> schema.id, resource_type.endpoint, resource_type.extension_urns
    ('urn:ietf:params:scim:schemas:core:2.0:User', '/Users',
     ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',))
    """
    if not isinstance(data, Mapping):
        raise InvalidValue("Expected a JSON object.", location="$")
    name = data.get("name")
    endpoint = data.get("endpoint")
    if not isinstance(name, str) or not isinstance(endpoint, str):
        raise InvalidValue("A 1.1 schema resource needs a 'name' and an 'endpoint'.", location="$")
    declared = data.get("schema")
    v1_base: str = declared if isinstance(declared, str) else CORE_SCHEMA
    if base_urn is None:
        if v1_base.casefold() == CORE_SCHEMA:
            candidates = [u for u in URN_ALIASES[CORE_SCHEMA] if u.rsplit(":", 1)[-1] == name]
            base_urn = candidates[0] if candidates else f"urn:scim:schemas:core:1.0:{name}"
        else:
            base_urn = v1_base
    common = {a.name.casefold() for a in COMMON_ATTRIBUTES}
    placed: dict[str, list[Attribute]] = {}
    for i, item in enumerate(data.get("attributes") or []):
        where = f"$.attributes[{i}]"
        schema = item.get("schema", v1_base) if isinstance(item, Mapping) else v1_base
        if not isinstance(schema, str):
            raise InvalidValue("An attribute's 'schema' is a URN.", location=f"{where}.schema")
        urn = base_urn if schema.casefold() == v1_base.casefold() else schema
        for v1, v2s in URN_ALIASES.items():
            if v1 != CORE_SCHEMA and schema.casefold() == v1:
                urn = v2s[0]
        attribute = _attribute_from_v1(item, urn, None, where)
        if urn == base_urn and attribute.name.casefold() in common:
            continue
        placed.setdefault(urn, []).append(attribute)
    base = Schema(
        id=base_urn,
        name=name,
        description=data.get("description"),
        attributes=placed.pop(base_urn, []),
    )
    extensions = tuple(
        Schema(id=urn, name=urn.rsplit(":", 2)[-2], attributes=a) for urn, a in placed.items()
    )
    resource_type = ResourceType(
        name=name,
        endpoint=endpoint,
        schema=base_urn,
        id=name,
        description=data.get("description"),
        schema_extensions=[SchemaExtension(e.id) for e in extensions],
    )
    return base, resource_type, extensions
