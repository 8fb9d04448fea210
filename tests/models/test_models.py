"""The typed models: the shared contract (fields, lists, extensions, metadata, access rule)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from scimcore.models import (
    Complex,
    Email,
    EnterpriseUser,
    Group,
    Manager,
    Meta,
    Name,
    Resource,
    User,
    check_model,
)
from scimcore.schema import (
    ENTERPRISE_USER_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    AttributeRef,
    core_schemas,
    python_name,
)

U = USER_SCHEMA
E = ENTERPRISE_USER_SCHEMA


def test_fields_follow_the_schema() -> None:
    schema = core_schemas().schema(U)
    assert schema is not None
    names = [f.name for f in attrs.fields(User)]
    assert names[:5] == ["schemas", "id", "external_id", "meta", "extensions"]
    assert names[5:] == [python_name(a.name) for a in schema.attributes]


def test_lists_default_and_none() -> None:
    user = User(emails=None)
    assert user.emails == [] and user.phone_numbers == []
    assert User().emails is not User().emails


def test_defaults_and_equality() -> None:
    assert User() == User()
    assert User().schemas == [U]
    assert Group().schemas == [GROUP_SCHEMA]
    assert User(user_name="a") != User(user_name="b")
    assert Name(given_name="B") == Name(given_name="B")


def test_class_metadata() -> None:
    assert User.__scim_schema__.id == U
    assert User.__scim_resource_type__.name == "User"
    assert EnterpriseUser.__scim_schema__.id == E
    assert Email.__scim_attribute__.name == "emails"
    assert Manager.__scim_schema__.id == E
    assert Meta.__scim_attribute__ is not None
    assert Meta.__scim_attribute__.name == "meta"
    assert dict(User.__scim_extensions__) == {E: EnterpriseUser}


def test_extension_item_access() -> None:
    user = User(user_name="u")
    assert user[EnterpriseUser] is None
    user[EnterpriseUser] = EnterpriseUser(division="D")
    assert user.extensions == {E: EnterpriseUser(division="D")}
    assert user.schemas == [U, E]
    user[EnterpriseUser] = EnterpriseUser(division="X")
    assert user.schemas == [U, E]
    del user[EnterpriseUser]
    assert (user.extensions, user.schemas) == ({}, [U])
    with pytest.raises(KeyError):
        Group()[EnterpriseUser]


def test_registry_resolves_model_paths() -> None:
    registry = User.scim_registry()
    assert User.scim_registry() is registry
    ref = registry.resolve(f"{E}:manager.value", resource_type=User.__scim_resource_type__)
    assert ref is not None and ref.dotted == "manager.value"
    assert registry.resolve("members", resource_type=User.__scim_resource_type__) is None


def access(resource: Resource, ref: AttributeRef) -> Any:
    """THE ACCESS RULE of the shared contract, written out."""
    cls = type(resource)
    if ref.common or ref.schema.id == cls.__scim_schema__.id:
        container: Any = resource
    else:
        container = resource.extensions.get(ref.schema.id)
        if container is None:
            return None
    value = getattr(container, ref.chain[0].python_name)
    if len(ref.chain) > 1:
        if isinstance(value, list):
            return [getattr(v, ref.chain[1].python_name) for v in value]
        return None if value is None else getattr(value, ref.chain[1].python_name)
    return value


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("userName", "u"),
        ("USERNAME", "u"),
        ("name.givenName", "B"),
        ("emails.value", ["a@example.com", "b@example.com"]),
        ("id", "1"),
        ("meta.resourceType", "User"),
        (f"{E}:manager.value", "m"),
        (f"{E}:division", None),
        (f"{U}:userName", "u"),
    ],
)
def test_access_rule(path: str, expected: Any) -> None:
    user = User(
        id="1",
        user_name="u",
        name=Name(given_name="B"),
        emails=[Email(value="a@example.com"), Email(value="b@example.com")],
        meta=Meta(resource_type="User"),
    )
    user[EnterpriseUser] = EnterpriseUser(manager=Manager(value="m"))
    ref = User.scim_registry().resolve(path, resource_type=User.__scim_resource_type__)
    assert ref is not None
    assert access(user, ref) == expected


def test_check_model_catches_drift() -> None:
    @attrs.define(kw_only=True)
    class Drifted(Complex):
        __scim_schema__ = Name.__scim_schema__
        __scim_attribute__ = Name.__scim_attribute__
        formatted: str | None = None

    with pytest.raises(TypeError, match="have no field"):
        check_model(Drifted)
