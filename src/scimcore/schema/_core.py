"""The RFC 7643 core schemas, with the RFC's known defects fixed.

``data/rfc7643-8.7.1.json`` (User, Group, EnterpriseUser) and
``data/rfc7643-8.7.2.json`` (ServiceProviderConfig, ResourceType, Schema) are
the schema representations of RFC 7643 §8.7 as published. :data:`ERRATA` lists
every change scimcore makes to them, each with its erratum number or reason;
:func:`core_schemas` returns the fixed schemas. The common attributes of
RFC 7643 §3.1 (``id``, ``externalId``, ``meta``, ``schemas``), which §8.7
leaves out, are :data:`COMMON_ATTRIBUTES`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import Any

import attrs

from scimcore.schema._discovery import ResourceType, SchemaExtension
from scimcore.schema._model import (
    Attribute,
    AttributeType,
    MutabilityKind,
    ReturnedKind,
    Schema,
    UniquenessKind,
)
from scimcore.schema._registry import SchemaRegistry

__all__ = [
    "COMMON_ATTRIBUTES",
    "ENTERPRISE_USER_SCHEMA",
    "ERRATA",
    "GROUP_RESOURCE_TYPE",
    "GROUP_SCHEMA",
    "RESOURCE_TYPE_SCHEMA_URN",
    "SCHEMA_SCHEMA",
    "SERVICE_PROVIDER_CONFIG_SCHEMA_URN",
    "USER_RESOURCE_TYPE",
    "USER_SCHEMA",
    "Erratum",
    "core_schemas",
    "published_schemas",
]

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SERVICE_PROVIDER_CONFIG_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

COMMON_ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        "schemas",
        AttributeType.REFERENCE,
        multi_valued=True,
        required=True,
        reference_types=["uri"],
        case_exact=False,
        returned=ReturnedKind.ALWAYS,
        description="The schema URIs of the resource (RFC 7643 §3).",
    ),
    Attribute(
        "id",
        case_exact=True,
        mutability=MutabilityKind.READ_ONLY,
        returned=ReturnedKind.ALWAYS,
        uniqueness=UniquenessKind.SERVER,
        description="A unique identifier for the resource, assigned by the service provider.",
    ),
    Attribute(
        "externalId",
        case_exact=True,
        description="An identifier for the resource as defined by the provisioning client.",
    ),
    Attribute(
        "meta",
        AttributeType.COMPLEX,
        mutability=MutabilityKind.READ_ONLY,
        description="Resource metadata (RFC 7643 §3.1).",
        sub_attributes=[
            Attribute("resourceType", case_exact=True, mutability=MutabilityKind.READ_ONLY),
            Attribute("created", AttributeType.DATETIME, mutability=MutabilityKind.READ_ONLY),
            Attribute("lastModified", AttributeType.DATETIME, mutability=MutabilityKind.READ_ONLY),
            Attribute(
                "location",
                AttributeType.REFERENCE,
                reference_types=["uri"],
                case_exact=True,
                mutability=MutabilityKind.READ_ONLY,
            ),
            Attribute("version", case_exact=True, mutability=MutabilityKind.READ_ONLY),
        ],
    ),
)

USER_RESOURCE_TYPE = ResourceType(
    id="User",
    name="User",
    endpoint="/Users",
    description="User Account",
    schema=USER_SCHEMA,
    schema_extensions=[SchemaExtension(ENTERPRISE_USER_SCHEMA, required=False)],
)
GROUP_RESOURCE_TYPE = ResourceType(
    id="Group", name="Group", endpoint="/Groups", description="Group", schema=GROUP_SCHEMA
)


@attrs.frozen
class Erratum:
    """One change scimcore makes to a published RFC 7643 §8.7 schema."""

    schema: str
    path: str
    reason: str
    fix: Callable[[Attribute | None], Attribute] = attrs.field(repr=False)


def _set(**changes: Any) -> Callable[[Attribute | None], Attribute]:
    def fix(attribute: Attribute | None) -> Attribute:
        assert attribute is not None
        return attrs.evolve(attribute, **changes)

    return fix


def _add(new: Attribute) -> Callable[[Attribute | None], Attribute]:
    def fix(attribute: Attribute | None) -> Attribute:
        assert attribute is None, "the attribute is published already"
        return new

    return fix


_ALL_REFERENCES = "*reference*"
_ALL_BINARIES = "*binary*"
_BY_TYPE = {_ALL_REFERENCES: AttributeType.REFERENCE, _ALL_BINARIES: AttributeType.BINARY}
_BOOL = AttributeType.BOOLEAN
# The canonical order of RFC 7643 §8.7.2's list, with "binary" (§2.3.6) added at the end.
_TYPES_IN_RFC_ORDER = (
    AttributeType.STRING,
    AttributeType.COMPLEX,
    AttributeType.BOOLEAN,
    AttributeType.DECIMAL,
    AttributeType.INTEGER,
    AttributeType.DATETIME,
    AttributeType.REFERENCE,
    AttributeType.BINARY,
)
_RO = MutabilityKind.READ_ONLY

ERRATA: tuple[Erratum, ...] = (
    Erratum(
        GROUP_SCHEMA,
        "displayName",
        "Erratum 5368 (verified): Group displayName is REQUIRED, but the JSON says false.",
        _set(required=True),
    ),
    Erratum(
        "*",
        _ALL_REFERENCES,
        "Errata 6001 and 8472: RFC 7643 §2.3.7 says a reference is case exact; "
        "the JSON declares several references caseExact false.",
        _set(case_exact=True),
    ),
    Erratum(
        "*",
        _ALL_BINARIES,
        "RFC 7643 §2.3.6 says a binary value is case exact; the JSON declares "
        "x509Certificates.value caseExact false.",
        _set(case_exact=True),
    ),
    Erratum(
        USER_SCHEMA,
        "addresses.primary",
        "RFC 7643 §4.1.2 and the §8.2 example give addresses a 'primary'; the JSON omits it.",
        _add(
            Attribute(
                "primary",
                _BOOL,
                description="A Boolean value indicating the 'primary' or preferred address.",
            )
        ),
    ),
    Erratum(
        GROUP_SCHEMA,
        "members.display",
        "RFC 7643 §4.2 and the §8.4 example give members a 'display'; the JSON omits it. "
        "Immutable, like the other member sub-attributes.",
        _add(
            Attribute(
                "display",
                mutability=MutabilityKind.IMMUTABLE,
                description="A human-readable name for the member, primarily used for display.",
            )
        ),
    ),
    Erratum(
        SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
        "etag",
        "RFC 7643 §5 makes 'etag' REQUIRED and the §8.5 example has it; the JSON omits it.",
        _add(
            Attribute(
                "etag",
                AttributeType.COMPLEX,
                required=True,
                mutability=_RO,
                description="A complex type that specifies ETag configuration options.",
                sub_attributes=[Attribute("supported", _BOOL, required=True, mutability=_RO)],
            )
        ),
    ),
    Erratum(
        SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
        "authenticationSchemes.type",
        "RFC 7643 §5 defines the authentication scheme 'type' (REQUIRED); the JSON omits it.",
        _add(
            Attribute(
                "type",
                required=True,
                mutability=_RO,
                canonical_values=[
                    "oauth",
                    "oauth2",
                    "oauthbearertoken",
                    "httpbasic",
                    "httpdigest",
                ],
                description="The authentication scheme.",
            )
        ),
    ),
    Erratum(
        SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
        "authenticationSchemes.primary",
        "RFC 7643 §5 and the §8.5 example use 'primary'; the JSON omits it.",
        _add(Attribute("primary", _BOOL, mutability=_RO)),
    ),
    Erratum(
        SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
        "pagination",
        "RFC 9865 §2 adds the 'pagination' block to the service provider configuration.",
        _add(
            Attribute(
                "pagination",
                AttributeType.COMPLEX,
                mutability=_RO,
                description="Pagination methods supported (RFC 9865).",
                sub_attributes=[
                    Attribute("cursor", _BOOL, mutability=_RO),
                    Attribute("index", _BOOL, mutability=_RO),
                    Attribute(
                        "defaultPaginationMethod",
                        mutability=_RO,
                        canonical_values=["cursor", "index"],
                    ),
                    Attribute("defaultPageSize", AttributeType.INTEGER, mutability=_RO),
                    Attribute("maxPageSize", AttributeType.INTEGER, mutability=_RO),
                    Attribute("cursorTimeout", AttributeType.INTEGER, mutability=_RO),
                ],
            )
        ),
    ),
    Erratum(
        RESOURCE_TYPE_SCHEMA_URN,
        "schemaExtensions",
        "RFC 7643 §6 and the §8.6 example make schemaExtensions a list; the JSON says "
        "multiValued false.",
        _set(multi_valued=True, required=False),
    ),
    Erratum(
        SCHEMA_SCHEMA,
        "attributes.subAttributes.referenceTypes",
        "The JSON declares subAttributes.referenceTypes singular but attributes.referenceTypes "
        "multi-valued; RFC 7643 §7 makes both lists.",
        _set(multi_valued=True),
    ),
    Erratum(
        SCHEMA_SCHEMA,
        "attributes.type",
        "RFC 7643 §2.3.6 defines 'binary', but the canonical types in the JSON omit it.",
        _set(canonical_values=[t.value for t in _TYPES_IN_RFC_ORDER]),
    ),
    Erratum(
        SCHEMA_SCHEMA,
        "attributes.subAttributes.type",
        "RFC 7643 §2.3.6 defines 'binary', but the canonical types in the JSON omit it.",
        _set(canonical_values=[t.value for t in _TYPES_IN_RFC_ORDER]),
    ),
)


def _load(filename: str) -> list[dict[str, Any]]:
    text = resources.files("scimcore.schema").joinpath("data", filename).read_text("utf-8")
    data: list[dict[str, Any]] = json.loads(text)
    return data


def published_schemas() -> list[dict[str, Any]]:
    """The six schema representations of RFC 7643 §8.7.1 and §8.7.2, as published (JSON).

    >>> [s["name"] for s in published_schemas()]
    ['User', 'Group', 'EnterpriseUser', 'Service Provider Configuration', 'ResourceType', 'Schema']
    """
    return _load("rfc7643-8.7.1.json") + _load("rfc7643-8.7.2.json")


def _walk(attributes: tuple[Attribute, ...]) -> Iterator[tuple[str, Attribute]]:
    for attribute in attributes:
        yield attribute.name, attribute
        for name, sub in _walk(attribute.sub_attributes):
            yield f"{attribute.name}.{name}", sub


def _replace(
    attributes: tuple[Attribute, ...],
    path: list[str],
    fix: Callable[[Attribute | None], Attribute],
) -> tuple[Attribute, ...]:
    head, rest = path[0], path[1:]
    out = list(attributes)
    for i, attribute in enumerate(out):
        if attribute.name == head:
            if rest:
                subs = _replace(attribute.sub_attributes, rest, fix)
                out[i] = attrs.evolve(attribute, sub_attributes=subs)
            else:
                out[i] = fix(attribute)
            return tuple(out)
    if rest:
        raise LookupError(f"no attribute {head!r} to fix")
    return (*out, fix(None))


def _fix(schema: Schema) -> Schema:
    attributes = schema.attributes
    for erratum in ERRATA:
        if erratum.path in _BY_TYPE:
            for path, attribute in list(_walk(attributes)):
                if attribute.type is _BY_TYPE[erratum.path]:
                    attributes = _replace(attributes, path.split("."), erratum.fix)
        elif erratum.schema == schema.id:
            attributes = _replace(attributes, erratum.path.split("."), erratum.fix)
    return attrs.evolve(schema, attributes=attributes)


@cache
def _fixed_schemas() -> tuple[Schema, ...]:
    return tuple(_fix(Schema.from_dict(data)) for data in published_schemas())


def core_schemas() -> SchemaRegistry:
    """A new registry of the RFC 7643 core schemas (fixed per :data:`ERRATA`) and the
    User and Group resource types; add your own schemas and resource types to it.

    >>> registry = core_schemas()
    >>> registry.resolve("userName", resource_type="User").target.uniqueness
    <UniquenessKind.SERVER: 'server'>
    >>> registry.resolve("displayName", resource_type="Group").target.required
    True
    """
    return SchemaRegistry(
        _fixed_schemas(), [USER_RESOURCE_TYPE, GROUP_RESOURCE_TYPE], common=COMMON_ATTRIBUTES
    )
