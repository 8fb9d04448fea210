"""The Attribute, Schema and discovery records."""

from __future__ import annotations

from typing import Any

import pytest

from scimcore.errors import InvalidValue
from scimcore.schema import (
    Attribute,
    AttributeType,
    AuthenticationScheme,
    BulkSupport,
    FilterSupport,
    MutabilityKind,
    Pagination,
    ResourceType,
    ReturnedKind,
    Schema,
    ServiceProviderConfig,
    Supported,
    UniquenessKind,
    python_name,
)


def test_attribute_defaults_are_the_rfcs() -> None:
    """RFC 7643 §2.2: unspecified characteristics take these defaults."""
    attribute = Attribute("nickName")
    assert (
        attribute.type,
        attribute.multi_valued,
        attribute.required,
        attribute.case_exact,
        attribute.mutability,
        attribute.returned,
        attribute.uniqueness,
        attribute.canonical_values,
        attribute.reference_types,
        attribute.sub_attributes,
    ) == (
        AttributeType.STRING,
        False,
        False,
        False,
        MutabilityKind.READ_WRITE,
        ReturnedKind.DEFAULT,
        UniquenessKind.NONE,
        (),
        (),
        (),
    )
    assert Attribute.from_dict({"name": "nickName"}) == attribute


def test_attribute_keys_are_read_case_insensitively() -> None:
    attribute = Attribute.from_dict({"NAME": "x", "TYPE": "integer", "MultiValued": True})
    assert (attribute.name, attribute.type, attribute.multi_valued) == (
        "x",
        AttributeType.INTEGER,
        True,
    )


@pytest.mark.parametrize(
    ("data", "location", "detail"),
    [
        ([], "$", "An attribute definition must be an object."),
        ({"type": "string"}, "$", "An attribute definition needs a 'name'."),
        ({"name": "x", "type": "text"}, "$", "Attribute 'x': 'text' is not a valid AttributeType."),
        (
            {
                "name": "x",
                "type": "complex",
                "subAttributes": [{"name": "y", "returned": "sometimes"}],
            },
            "$.subAttributes[0]",
            "Attribute 'y': 'sometimes' is not a valid ReturnedKind.",
        ),
    ],
)
def test_bad_attribute_definitions(data: Any, location: str, detail: str) -> None:
    with pytest.raises(InvalidValue) as info:
        Attribute.from_dict(data)
    assert (info.value.location, info.value.detail) == (location, detail)


def test_bad_schema() -> None:
    with pytest.raises(InvalidValue, match="string 'id'"):
        Schema.from_dict({"attributes": []})


@pytest.mark.parametrize(
    ("wire", "python"),
    [
        ("userName", "user_name"),
        ("$ref", "ref"),
        ("x509Certificates", "x509_certificates"),
        ("externalId", "external_id"),
        ("profileURL", "profile_url"),
        ("maxPayloadSize", "max_payload_size"),
        ("employee-number", "employee_number"),
        ("id", "id"),
    ],
)
def test_python_name(wire: str, python: str) -> None:
    assert python_name(wire) == python


def test_service_provider_config_round_trips_rfc7643_8_5() -> None:
    """The RFC 7643 §8.5 example, with an RFC 9865 §2 pagination block added."""
    document = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "http://example.com/help/scim.html",
        "patch": {"supported": True},
        "bulk": {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576},
        "filter": {"supported": True, "maxResults": 200},
        "changePassword": {"supported": True},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "name": "OAuth Bearer Token",
                "description": "Authentication scheme using the OAuth Bearer Token Standard",
                "specUri": "http://www.rfc-editor.org/info/rfc6750",
                "documentationUri": "http://example.com/help/oauth.html",
                "type": "oauthbearertoken",
                "primary": True,
            },
            {
                "name": "HTTP Basic",
                "description": "Authentication scheme using the HTTP Basic Standard",
                "specUri": "http://www.rfc-editor.org/info/rfc2617",
                "documentationUri": "http://example.com/help/httpBasic.html",
                "type": "httpbasic",
            },
        ],
        "pagination": {
            "cursor": True,
            "index": True,
            "defaultPaginationMethod": "cursor",
            "defaultPageSize": 100,
            "maxPageSize": 250,
            "cursorTimeout": 3600,
        },
    }
    config = ServiceProviderConfig.from_dict(document)
    assert config.bulk == BulkSupport(True, 1000, 1048576)
    assert config.filter == FilterSupport(True, 200)
    assert config.etag == Supported(True)
    assert config.authentication_schemes[1] == AuthenticationScheme(
        type="httpbasic",
        name="HTTP Basic",
        description="Authentication scheme using the HTTP Basic Standard",
        spec_uri="http://www.rfc-editor.org/info/rfc2617",
        documentation_uri="http://example.com/help/httpBasic.html",
    )
    assert config.pagination == Pagination(True, True, "cursor", 100, 250, 3600)
    assert config.to_dict() == document


def test_resource_type_round_trips_rfc7643_8_6() -> None:
    """The User resource type of the RFC 7643 §8.6 example (without its meta)."""
    document = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "name": "User",
        "endpoint": "/Users",
        "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
        "id": "User",
        "description": "User Account",
        "schemaExtensions": [
            {
                "schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                "required": True,
            }
        ],
    }
    resource_type = ResourceType.from_dict(document)
    assert resource_type.extension_urns == (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    )
    assert resource_type.to_dict() == document


@pytest.mark.parametrize(
    ("document", "location"),
    [
        ({"patch": []}, "$.patch"),
        ({"authenticationSchemes": {"name": "x"}}, "$.authenticationSchemes"),
        ({"authenticationSchemes": [{"name": "x"}]}, "$.authenticationSchemes[0]"),
    ],
)
def test_bad_service_provider_configs(document: dict[str, Any], location: str) -> None:
    with pytest.raises(InvalidValue) as info:
        ServiceProviderConfig.from_dict(document)
    assert info.value.location == location
