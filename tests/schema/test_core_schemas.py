"""The RFC 7643 §8.7 core schemas: characteristics pinned attribute by attribute."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scimcore.schema import (
    ENTERPRISE_USER_SCHEMA,
    ERRATA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    Attribute,
    Schema,
    core_schemas,
    published_schemas,
)

DEFAULTS: dict[str, Any] = {
    "type": "string",
    "multiValued": False,
    "required": False,
    "caseExact": False,
    "mutability": "readWrite",
    "returned": "default",
    "uniqueness": "none",
    "referenceTypes": [],
}
RO, IMM = {"mutability": "readOnly"}, {"mutability": "immutable"}
COMPLEX_MV = {"type": "complex", "multiValued": True}
BOOL = {"type": "boolean"}

# Every attribute of RFC 7643 §4 (User, Group, EnterpriseUser) with the characteristics that differ
# from the defaults of §2.2, read from the RFC text and §8.7.1, errata applied (E-5368, E-6001/8472).
MULTI_VALUE_SUBS = {"value": {}, "display": {}, "type": {}, "primary": BOOL}
EXPECTED: dict[str, dict[str, dict[str, Any]]] = {
    USER_SCHEMA: {
        "userName": {"required": True, "uniqueness": "server"},
        "name": {"type": "complex"},
        **{
            f"name.{sub}": {}
            for sub in (
                "formatted",
                "familyName",
                "givenName",
                "middleName",
                "honorificPrefix",
                "honorificSuffix",
            )
        },
        **{
            name: {}
            for name in (
                "displayName",
                "nickName",
                "title",
                "userType",
                "preferredLanguage",
                "locale",
                "timezone",
            )
        },
        "profileUrl": {"type": "reference", "referenceTypes": ["external"], "caseExact": True},
        "active": BOOL,
        "password": {"mutability": "writeOnly", "returned": "never"},
        **{
            f"{multi}{'.' + sub if sub else ''}": (COMPLEX_MV if not sub else chars)
            for multi in ("emails", "phoneNumbers", "ims", "entitlements", "roles")
            for sub, chars in {"": {}, **MULTI_VALUE_SUBS}.items()
        },
        "photos": COMPLEX_MV,
        "photos.value": {"type": "reference", "referenceTypes": ["external"], "caseExact": True},
        "photos.display": {},
        "photos.type": {},
        "photos.primary": BOOL,
        "addresses": COMPLEX_MV,
        **{
            f"addresses.{sub}": {}
            for sub in (
                "formatted",
                "streetAddress",
                "locality",
                "region",
                "postalCode",
                "country",
                "type",
            )
        },
        "addresses.primary": BOOL,
        "groups": {**COMPLEX_MV, **RO},
        "groups.value": RO,
        "groups.$ref": {
            "type": "reference",
            "referenceTypes": ["User", "Group"],
            "caseExact": True,
            **RO,
        },
        "groups.display": RO,
        "groups.type": RO,
        "x509Certificates": COMPLEX_MV,
        "x509Certificates.value": {"type": "binary", "caseExact": True},
        "x509Certificates.display": {},
        "x509Certificates.type": {},
        "x509Certificates.primary": BOOL,
    },
    GROUP_SCHEMA: {
        "displayName": {"required": True},
        "members": COMPLEX_MV,
        "members.value": IMM,
        "members.$ref": {
            "type": "reference",
            "referenceTypes": ["User", "Group"],
            "caseExact": True,
            **IMM,
        },
        "members.type": IMM,
        "members.display": IMM,
    },
    ENTERPRISE_USER_SCHEMA: {
        **{
            name: {}
            for name in ("employeeNumber", "costCenter", "organization", "division", "department")
        },
        "manager": {"type": "complex"},
        "manager.value": {},
        "manager.$ref": {"type": "reference", "referenceTypes": ["User"], "caseExact": True},
        "manager.displayName": RO,
    },
}


def _characteristics(attribute: Attribute) -> dict[str, Any]:
    data = attribute.to_dict()
    return {key: data.get(key, []) for key in DEFAULTS}


def _walk(schema: Schema) -> dict[str, Attribute]:
    found: dict[str, Attribute] = {}
    for attribute in schema.attributes:
        found[attribute.name] = attribute
        for sub in attribute.sub_attributes:
            found[f"{attribute.name}.{sub.name}"] = sub
    return found


@pytest.mark.parametrize("urn", list(EXPECTED))
def test_every_core_attribute_has_the_rfc_characteristics(urn: str) -> None:
    schema = core_schemas().schema(urn)
    assert schema is not None
    actual = {path: _characteristics(a) for path, a in _walk(schema).items()}
    expected = {path: {**DEFAULTS, **chars} for path, chars in EXPECTED[urn].items()}
    assert actual == expected


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("emails.type", ["work", "home", "other"]),
        ("phoneNumbers.type", ["work", "home", "mobile", "fax", "pager", "other"]),
        ("ims.type", ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
        ("photos.type", ["photo", "thumbnail"]),
        ("addresses.type", ["work", "home", "other"]),
        ("groups.type", ["direct", "indirect"]),
        ("members.type", ["User", "Group"]),
    ],
)
def test_canonical_values(path: str, values: list[str]) -> None:
    resource_type = "Group" if path.startswith("members") else "User"
    ref = core_schemas().resolve(path, resource_type=resource_type)
    assert ref is not None
    assert list(ref.target.canonical_values) == values


@pytest.mark.parametrize(
    ("path", "chars"),
    [
        (
            "id",
            {
                "caseExact": True,
                "mutability": "readOnly",
                "returned": "always",
                "uniqueness": "server",
            },
        ),
        ("externalId", {"caseExact": True}),
        ("meta", {"type": "complex", "mutability": "readOnly"}),
        ("meta.created", {"type": "dateTime", "mutability": "readOnly"}),
        ("meta.lastModified", {"type": "dateTime", "mutability": "readOnly"}),
        ("meta.resourceType", {"caseExact": True, "mutability": "readOnly"}),
        ("meta.version", {"caseExact": True, "mutability": "readOnly"}),
        (
            "meta.location",
            {
                "type": "reference",
                "referenceTypes": ["uri"],
                "caseExact": True,
                "mutability": "readOnly",
            },
        ),
        (
            "schemas",
            {
                "type": "reference",
                "referenceTypes": ["uri"],
                "multiValued": True,
                "required": True,
                "returned": "always",
            },
        ),
    ],
)
def test_common_attributes(path: str, chars: dict[str, Any]) -> None:
    for resource_type in ("User", "Group"):
        ref = core_schemas().resolve(path, resource_type=resource_type)
        assert ref is not None
        assert ref.common
        assert _characteristics(ref.target) == {**DEFAULTS, **chars}


def _with_defaults(attribute: dict[str, Any]) -> dict[str, Any]:
    filled = {
        key: value for key, value in DEFAULTS.items() if key != "referenceTypes" or value
    } | attribute
    if filled.get("canonicalValues") == []:  # entitlements.type, roles.type: [] is no list
        del filled["canonicalValues"]
    if "subAttributes" in filled:
        filled["subAttributes"] = [_with_defaults(sub) for sub in filled["subAttributes"]]
    return filled


@pytest.mark.parametrize("published", published_schemas(), ids=lambda s: s["name"])
def test_published_schemas_load_and_encode_back(published: dict[str, Any]) -> None:
    """RFC 7643 §8.7: each schema loads into the model and encodes back to the same JSON
    (characteristics the RFC leaves out come back as their §2.2 defaults)."""
    expected = copy.deepcopy(published)
    expected["attributes"] = [_with_defaults(a) for a in expected["attributes"]]
    assert Schema.from_dict(published).to_dict() == expected


@pytest.mark.parametrize("schema", core_schemas().schemas, ids=lambda s: s.name or s.id)
def test_fixed_schemas_round_trip(schema: Schema) -> None:
    assert Schema.from_dict(schema.to_dict()) == schema


def test_errata_are_applied_and_each_names_its_reason() -> None:
    assert len(ERRATA) == 13
    for erratum in ERRATA:
        assert erratum.reason.strip()
    fixed = {s.id: s for s in core_schemas().schemas}
    published = {s["id"]: Schema.from_dict(s) for s in published_schemas()}
    changed = [urn for urn in fixed if fixed[urn] != published[urn]]
    assert sorted(changed) == sorted(
        [
            USER_SCHEMA,
            GROUP_SCHEMA,
            ENTERPRISE_USER_SCHEMA,
            "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
            "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
            "urn:ietf:params:scim:schemas:core:2.0:Schema",
        ]
    )


def test_service_provider_config_schema_has_etag_and_pagination() -> None:
    schema = core_schemas().schema("urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")
    assert schema is not None
    assert [a.name for a in schema.attributes] == [
        "documentationUri",
        "patch",
        "bulk",
        "filter",
        "changePassword",
        "sort",
        "authenticationSchemes",
        "etag",
        "pagination",
    ]
    pagination = schema.attribute("pagination")
    assert pagination is not None
    assert [a.name for a in pagination.sub_attributes] == [
        "cursor",
        "index",
        "defaultPaginationMethod",
        "defaultPageSize",
        "maxPageSize",
        "cursorTimeout",
    ]
