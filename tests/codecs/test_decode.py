"""Decoding: types, names, request contexts, policies, and the errors with their paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scimcore.codecs.v2 import Context, decode, make_converter
from scimcore.errors import InvalidSyntax, InvalidValue, ScimError
from scimcore.models import (
    EnterpriseUser,
    Group,
    ListResponse,
    PatchOp,
    SearchRequest,
    User,
)
from scimcore.policy import Policy

U = "urn:ietf:params:scim:schemas:core:2.0:User"
E = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
G = "urn:ietf:params:scim:schemas:core:2.0:Group"


def user(**extra: Any) -> dict[str, Any]:
    return {"schemas": [U], "userName": "bjensen", **extra}


BAD: list[tuple[Any, type[ScimError], str, str]] = [
    # (document, error, location, detail)
    (user(userName=5), InvalidValue, "$.userName", "Expected a string, got a number."),
    (user(active="yes"), InvalidValue, "$.active", "Expected a boolean, got a string."),
    (
        user(emails=[{"value": "a@example.com"}, {"value": 7}]),
        InvalidValue,
        "$.emails[1].value",
        "Expected a string, got a number.",
    ),
    (
        user(emails=[{"primary": "maybe"}]),
        InvalidValue,
        "$.emails[0].primary",
        "Expected a boolean, got a string.",
    ),
    (user(name="Barbara"), InvalidValue, "$.name", "Expected an object, got a string."),
    (
        user(emails=["a@example.com"]),
        InvalidValue,
        "$.emails[0]",
        "Expected an object, got a string.",
    ),
    (
        user(meta={"created": "2010-01-23"}),
        InvalidValue,
        "$.meta.created",
        "Expected an xsd:dateTime with date and time, got '2010-01-23'.",
    ),
    (
        user(meta={"lastModified": "2010-13-23T04:56:22Z"}),
        InvalidValue,
        "$.meta.lastModified",
        "Invalid dateTime '2010-13-23T04:56:22Z': month must be in 1..12.",
    ),
    (
        user(x509Certificates=[{"value": "not base64!"}]),
        InvalidValue,
        "$.x509Certificates[0].value",
        "Expected base64 data (RFC 7643 §2.3.6).",
    ),
    (
        {"schemas": [U, E], E: {"manager": {"value": 1}}},
        InvalidValue,
        f"$['{E}'].manager.value",
        "Expected a string, got a number.",
    ),
    (user(schemas="x"), InvalidValue, "$.schemas", "Expected an array of schema URNs."),
    (["not", "an", "object"], InvalidValue, "$", "Expected an object, got an array."),
    (
        user(userName="a", USERNAME="b"),
        InvalidSyntax,
        "$.USERNAME",
        "Attribute 'userName' is given twice (names are case-insensitive).",
    ),
]


@pytest.mark.parametrize(("doc", "error", "location", "detail"), BAD)
def test_bad_values(doc: Any, error: type[ScimError], location: str, detail: str) -> None:
    with pytest.raises(error) as info:
        decode(doc, User)
    assert (info.value.location, info.value.detail) == (location, detail)
    assert type(info.value) is error


def test_malformed_json_text() -> None:
    with pytest.raises(InvalidSyntax) as info:
        decode('{"userName": "bjensen",}', User)
    assert info.value.location == "$"
    assert info.value.detail.startswith("The body is not valid JSON: ")


def test_integer_refuses_fraction() -> None:
    with pytest.raises(InvalidValue) as info:
        decode(
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 1.5,
            },
            ListResponse,
        )
    assert info.value.location == "$.totalResults"


def test_names_are_case_insensitive() -> None:
    doc = {
        "SCHEMAS": [U.upper(), E.upper()],
        "USERNAME": "bjensen",
        "Name": {"GIVENNAME": "Barbara"},
        "eMails": [{"Value": "a@example.com", "PRIMARY": True}],
        E.upper(): {"EmployeeNumber": "42"},
    }
    decoded = decode(doc, User)
    assert decoded.user_name == "bjensen"
    assert decoded.name is not None and decoded.name.given_name == "Barbara"
    assert decoded.emails[0].value == "a@example.com"
    assert decoded[EnterpriseUser] == EnterpriseUser(employee_number="42")


def test_null_is_unassigned() -> None:
    decoded = decode(user(name=None, emails=None, active=None), User)
    assert (decoded.name, decoded.emails, decoded.active) == (None, [], None)


class TestPolicy:
    def test_string_booleans(self) -> None:
        assert decode(user(active="True"), User).active is True
        assert decode(user(active="FALSE"), User).active is False
        with pytest.raises(InvalidValue) as info:
            decode(user(active="True"), User, policy=Policy.strict())
        assert info.value.location == "$.active"

    def test_single_value_as_list(self) -> None:
        decoded = decode(user(emails={"value": "a@example.com"}), User)
        assert [e.value for e in decoded.emails] == ["a@example.com"]
        with pytest.raises(InvalidValue) as info:
            decode(user(emails={"value": "a@example.com"}), User, policy=Policy.strict())
        assert info.value.location == "$.emails"
        assert info.value.detail == (
            "Expected an array (the attribute is multi-valued), got an object."
        )

    def test_manager_as_string(self) -> None:
        doc = {"schemas": [U, E], "userName": "u", E: {"manager": "26118915"}}
        enterprise = decode(doc, User)[EnterpriseUser]
        assert enterprise is not None and enterprise.manager is not None
        assert enterprise.manager.value == "26118915"
        with pytest.raises(InvalidValue) as info:
            decode(doc, User, policy=Policy.strict())
        assert info.value.location == f"$['{E}'].manager"

    def test_unknown_attributes(self) -> None:
        assert decode(user(shoeSize=44), User) == decode(user(), User)
        with pytest.raises(InvalidSyntax) as info:
            decode(user(shoeSize=44), User, policy=Policy.strict())
        assert (info.value.location, info.value.detail) == (
            "$.shoeSize",
            "Unknown attribute 'shoeSize'.",
        )

    def test_unknown_extension_data(self) -> None:
        other = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
        doc = user(**{other: {"x": 1}})
        assert decode(doc, User).extensions == {}
        with pytest.raises(InvalidSyntax) as info:
            decode(doc, User, policy=Policy.strict())
        assert info.value.location == f"$['{other}']"


class TestCreation:
    def test_read_only_ignored(self) -> None:
        doc = user(
            id="client-chosen",
            meta={"resourceType": "User", "created": "2010-01-23T04:56:22Z"},
            groups=[{"value": "g1"}],
            **{"schemas": [U, E], E: {"manager": {"value": "m1", "displayName": "Boss"}}},
        )
        decoded = decode(doc, User, context="creation")
        assert (decoded.id, decoded.meta, decoded.groups) == (None, None, [])
        enterprise = decoded[EnterpriseUser]
        assert enterprise is not None and enterprise.manager is not None
        assert (enterprise.manager.value, enterprise.manager.display_name) == ("m1", None)
        # the response context keeps them all
        kept = decode(doc, User)
        assert (kept.id, kept.groups[0].value) == ("client-chosen", "g1")

    @pytest.mark.parametrize("context", [Context.CREATION, Context.REPLACEMENT])
    def test_required(self, context: Context) -> None:
        with pytest.raises(InvalidValue) as info:
            decode({"schemas": [U], "name": {"givenName": "B"}}, User, context=context)
        assert (info.value.location, info.value.detail) == (
            "$.userName",
            "The required attribute 'userName' is missing.",
        )
        with pytest.raises(InvalidValue) as info:
            decode({"schemas": [G]}, Group, context=context)
        assert info.value.location == "$.displayName"

    def test_required_not_checked_in_response_or_patch(self) -> None:
        assert decode({"schemas": [U]}, User).user_name is None
        assert decode({"name": {"givenName": "B"}}, User, context="patch").user_name is None

    def test_schemas_missing(self) -> None:
        with pytest.raises(InvalidSyntax) as info:
            decode({"userName": "bjensen"}, User, context="creation")
        assert (info.value.location, info.value.detail) == (
            "$.schemas",
            "The 'schemas' attribute is required.",
        )

    def test_schemas_without_base(self) -> None:
        with pytest.raises(InvalidSyntax) as info:
            decode({"schemas": [G], "userName": "x"}, User, context="creation")
        assert info.value.detail == f"'schemas' must contain '{U}'."

    def test_unknown_schema_tolerated_or_refused(self) -> None:
        other = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
        doc = {"schemas": [U, other], "userName": "x"}
        assert decode(doc, User, context="creation").schemas == [U]
        with pytest.raises(InvalidSyntax) as info:
            decode(doc, User, context="creation", policy=Policy.strict())
        assert info.value.location == "$.schemas[1]"

    def test_schemas_normalised(self) -> None:
        doc = {"schemas": [U.upper(), U, E.lower()], "userName": "x"}
        assert decode(doc, User, context="creation").schemas == [U, E]

    def test_extension_urn_added_to_schemas(self) -> None:
        decoded = decode({"schemas": [U], "userName": "x", E: {"division": "D"}}, User)
        assert decoded.schemas == [U, E]


def test_schemas_kept_as_sent_in_responses() -> None:
    assert decode({"userName": "x"}, User).schemas == []
    assert decode({"schemas": [U.upper()], "userName": "x"}, User).schemas == [U.upper()]


def test_messages_require_their_schema() -> None:
    with pytest.raises(InvalidSyntax) as info:
        decode({"Operations": [{"op": "add", "path": "x", "value": 1}]}, PatchOp)
    assert info.value.location == "$.schemas"
    with pytest.raises(InvalidSyntax):
        decode({"schemas": [U], "filter": "x"}, SearchRequest)


def test_datetimes_are_aware() -> None:
    decoded = decode(
        user(
            meta={"created": "2011-08-01T18:29:49.793+02:00", "lastModified": "2011-08-01T18:29:49"}
        ),
        User,
    )
    assert decoded.meta is not None
    assert decoded.meta.created == datetime(2011, 8, 1, 16, 29, 49, 793000, tzinfo=UTC)
    assert decoded.meta.created.utcoffset() == timedelta(hours=2)
    assert decoded.meta.last_modified == datetime(2011, 8, 1, 18, 29, 49, tzinfo=UTC)


def test_decimal_accepts_integers() -> None:
    from scimcore.models import make_model
    from scimcore.schema import Attribute, Schema

    ext = make_model(Schema("urn:example:Ext", "Ext", attributes=[Attribute("score", "decimal")]))
    assert decode({"score": 3}, ext).score == 3.0
    assert type(decode({"score": 3}, ext).score) is float
    with pytest.raises(InvalidValue):
        decode({"score": True}, ext)


def test_non_finite_numbers() -> None:
    from scimcore.models import make_model
    from scimcore.schema import Attribute, Schema

    ext = make_model(Schema("urn:example:Ext", "Ext", attributes=[Attribute("score", "decimal")]))
    with pytest.raises(InvalidSyntax):
        decode('{"score": NaN}', ext)
    with pytest.raises(InvalidValue) as info:
        decode({"score": float("inf")}, ext)
    assert (info.value.location, info.value.detail) == (
        "$.score",
        "Expected a finite decimal number.",
    )
    with pytest.raises(InvalidValue):
        decode({"score": 10**400}, ext)


def test_converter_raises_scim_errors() -> None:
    converter = make_converter(context="creation", policy=Policy.strict())
    with pytest.raises(InvalidValue) as info:
        converter.structure({"schemas": [U], "userName": "x", "emails": {"value": "y"}}, User)
    assert info.value.location == "$.emails"


def test_message_names_are_case_insensitive() -> None:
    op = decode(
        {
            "SCHEMAS": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "operations": [{"OP": "Replace", "Path": "active", "VALUE": "False"}],
        },
        PatchOp,
    )
    assert (op.operations[0].op, op.operations[0].path, op.operations[0].value) == (
        "Replace",
        "active",
        "False",
    )
