"""Attribute lookups: case-insensitive names, dotted and URN paths, unknown names."""

from __future__ import annotations

import pytest

from scimcore.schema import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    Attribute,
    ResourceType,
    Schema,
    SchemaExtension,
    SchemaRegistry,
    core_schemas,
)

ENTERPRISE = ENTERPRISE_USER_SCHEMA


@pytest.mark.parametrize(
    ("path", "resource_type", "urn", "dotted", "common"),
    [
        ("userName", "User", USER_SCHEMA, "userName", False),
        ("USERNAME", "User", USER_SCHEMA, "userName", False),
        ("name.givenName", "User", USER_SCHEMA, "name.givenName", False),
        ("Name.GIVENNAME", "user", USER_SCHEMA, "name.givenName", False),
        ("emails.value", "User", USER_SCHEMA, "emails.value", False),
        ("groups.$ref", "User", USER_SCHEMA, "groups.$ref", False),
        (f"{USER_SCHEMA}:name.familyName", "User", USER_SCHEMA, "name.familyName", False),
        (f"{USER_SCHEMA.upper()}:USERNAME", "User", USER_SCHEMA, "userName", False),
        (f"{ENTERPRISE}:manager.value", "User", ENTERPRISE, "manager.value", False),
        (f"{ENTERPRISE}:employeeNumber", None, ENTERPRISE, "employeeNumber", False),
        ("meta.lastModified", "User", USER_SCHEMA, "meta.lastModified", True),
        (f"{USER_SCHEMA}:id", "User", USER_SCHEMA, "id", True),
        ("displayName", "Group", GROUP_SCHEMA, "displayName", False),
        ("members.value", "Group", GROUP_SCHEMA, "members.value", False),
        ("members.value", None, GROUP_SCHEMA, "members.value", False),
        ("externalId", "Group", GROUP_SCHEMA, "externalId", True),
    ],
)
def test_resolve(path: str, resource_type: str | None, urn: str, dotted: str, common: bool) -> None:
    ref = core_schemas().resolve(path, resource_type=resource_type)
    assert ref is not None
    assert (ref.urn, ref.dotted, ref.common) == (urn, dotted, common)
    assert str(ref) == f"{urn}:{dotted}"


@pytest.mark.parametrize(
    ("path", "resource_type"),
    [
        ("nosuch", "User"),
        ("name.nosuch", "User"),
        ("userName.value", "User"),  # a simple attribute has no sub-attributes
        ("members", "User"),  # a Group attribute asked of a User
        (f"{GROUP_SCHEMA}:displayName", "User"),  # a schema the type does not use
        ("urn:example:unknown:1.0:thing", "User"),
        ("employeeNumber", "User"),  # extension attributes must be URN-qualified
        ("userName", "NoSuchType"),
        ("", "User"),
        (":", "User"),
        ("name.", "User"),
    ],
)
def test_unknown_paths_resolve_to_none(path: str, resource_type: str) -> None:
    assert core_schemas().resolve(path, resource_type=resource_type) is None


def test_resource_type_objects_and_names_resolve_the_same() -> None:
    registry = core_schemas()
    user_type = registry.resource_type("USER")
    assert user_type is not None
    assert registry.resolve("title", resource_type=user_type) == registry.resolve(
        "title", resource_type="User"
    )


def test_custom_schema_and_resource_type() -> None:
    device = Schema(
        id="urn:example:schemas:Device",
        name="Device",
        attributes=[Attribute("serialNumber", case_exact=True, required=True)],
    )
    extra = Schema(id="urn:example:schemas:DeviceExtra", attributes=[Attribute("owner")])
    registry = SchemaRegistry(
        [device, extra],
        [
            ResourceType(
                name="Device",
                endpoint="/Devices",
                schema=device.id,
                schema_extensions=[SchemaExtension(extra.id)],
            )
        ],
    )
    ref = registry.resolve("SERIALNUMBER", resource_type="Device")
    assert ref is not None
    assert ref.target.case_exact
    assert registry.resolve("urn:example:schemas:DeviceExtra:owner", resource_type="Device")
    assert registry.resolve("id", resource_type="Device") is None  # no common attributes given


def test_a_resource_type_needs_its_schemas_registered() -> None:
    with pytest.raises(ValueError, match="unknown schema"):
        SchemaRegistry([], [ResourceType(name="X", endpoint="/X", schema="urn:x")])


def test_core_schemas_returns_a_new_registry_each_time() -> None:
    first = core_schemas()
    first.add_schema(Schema(id="urn:example:mine"))
    assert core_schemas().schema("urn:example:mine") is None
