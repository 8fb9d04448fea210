"""Encoding: wire names, ``returned``, and attributes/excludedAttributes (RFC 7644 §3.4.2.5, §3.9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from scimcore.codecs.v2 import decode, encode, format_datetime
from scimcore.errors import InvalidValue
from scimcore.models import (
    EnterpriseUser,
    Group,
    ListResponse,
    Manager,
    Resource,
    User,
    make_model,
)
from scimcore.schema import Attribute, ResourceType, Schema

U = "urn:ietf:params:scim:schemas:core:2.0:User"
E = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DOC = json.loads(
    (Path(__file__).parent.parent / "data" / "rfc" / "rfc7643-8.3-enterprise-user.json").read_text()
)


@pytest.fixture
def bjensen() -> User:
    found = decode(DOC, User)
    found.password = "t1meMa$heen"
    return found


def test_password_never_returned(bjensen: User) -> None:
    assert "password" not in encode(bjensen)
    assert encode(bjensen, full=True)["password"] == "t1meMa$heen"
    assert "password" not in encode(bjensen, attributes=["password"])  # T062


def test_attributes_minimum_set(bjensen: User) -> None:  # T059
    assert encode(bjensen, attributes=["userName"]) == {
        "schemas": [U, E],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "bjensen@example.com",
    }


def test_attributes_sub_attributes(bjensen: User) -> None:  # T060
    out = encode(bjensen, attributes=["name.givenName", "emails.value"])
    assert out["name"] == {"givenName": "Barbara"}
    assert out["emails"] == [{"value": "bjensen@example.com"}, {"value": "babs@jensen.org"}]
    assert set(out) == {"schemas", "id", "name", "emails"}


def test_attributes_urn_qualified_any_case(bjensen: User) -> None:  # T065
    out = encode(bjensen, attributes=[f"{U}:userName".upper(), f"{E}:manager.displayName"])
    assert out["userName"] == "bjensen@example.com"
    assert out[E] == {"manager": {"displayName": "John Smith"}}


def test_attributes_whole_extension(bjensen: User) -> None:
    out = encode(bjensen, attributes=[E])
    assert out[E] == DOC[E]
    assert "userName" not in out


def test_excluded_attributes(bjensen: User) -> None:  # T061
    out = encode(bjensen, excluded_attributes=["emails", "meta", "id", "name.givenName", E])
    assert "emails" not in out and "meta" not in out and E not in out
    assert out["id"] == "2819c223-7f76-453a-919d-413861904646"
    assert out["name"] == {k: v for k, v in DOC["name"].items() if k != "givenName"}
    assert "password" not in out


def test_query_text_form(bjensen: User) -> None:
    assert encode(bjensen, attributes="userName, emails.value") == encode(
        bjensen, attributes=["userName", "emails.value"]
    )
    assert encode(bjensen, excluded_attributes="emails,meta") == encode(
        bjensen, excluded_attributes=["emails", "meta"]
    )


def test_unknown_names_ignored(bjensen: User) -> None:
    assert encode(bjensen, excluded_attributes=["members", "nope.x"]) == encode(bjensen)


def test_mutually_exclusive(bjensen: User) -> None:  # T064
    with pytest.raises(InvalidValue):
        encode(bjensen, attributes=["userName"], excluded_attributes=["emails"])


def test_returned_request() -> None:  # T063
    schema = Schema(
        "urn:example:schemas:Badge",
        "Badge",
        attributes=[Attribute("label"), Attribute("secretCode", returned="request")],
    )
    badge_type = ResourceType(name="Badge", endpoint="/Badges", schema=schema.id)
    badge_model = make_model(schema, resource_type=badge_type)
    badge = badge_model(id="b1", label="L", secret_code="S")
    assert encode(badge) == {"schemas": [schema.id], "id": "b1", "label": "L"}
    assert encode(badge, excluded_attributes=["label"]) == {"schemas": [schema.id], "id": "b1"}
    assert encode(badge, attributes=["secretCode"]) == {
        "schemas": [schema.id],
        "id": "b1",
        "secretCode": "S",
    }
    assert encode(badge, full=True)["secretCode"] == "S"


def test_list_response_items() -> None:
    page: ListResponse[Resource] = ListResponse(
        total_results=1, resources=[User(id="1", user_name="a", display_name="A")]
    )
    assert encode(page) == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 1,
        "Resources": [{"schemas": [U], "id": "1", "userName": "a", "displayName": "A"}],
    }
    projected = encode(page, attributes=["userName"])
    assert projected["Resources"] == [{"schemas": [U], "id": "1", "userName": "a"}]


def test_wire_names_and_extension() -> None:
    user = User(user_name="u")
    user[EnterpriseUser] = EnterpriseUser(manager=Manager(value="m", ref="../Users/m"))
    assert encode(user) == {
        "schemas": [U, E],
        "userName": "u",
        E: {"manager": {"value": "m", "$ref": "../Users/m"}},
    }
    del user[EnterpriseUser]
    assert encode(user) == {"schemas": [U], "userName": "u"}


def test_extension_urn_listed_when_set_directly() -> None:
    user = User(user_name="u", extensions={E: EnterpriseUser(division="D")})
    assert encode(user)["schemas"] == [U, E]


def test_group_members() -> None:
    group = decode(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "G",
            "members": [{"value": "1", "$ref": "../Users/1", "display": "One"}],
        },
        Group,
    )
    assert encode(group)["members"] == [{"value": "1", "$ref": "../Users/1", "display": "One"}]


DATETIMES: list[tuple[datetime, str]] = [
    (datetime(2010, 1, 23, 4, 56, 22, tzinfo=UTC), "2010-01-23T04:56:22Z"),
    (datetime(2011, 8, 1, 18, 29, 49, 793000, tzinfo=UTC), "2011-08-01T18:29:49.793Z"),
    (datetime(2011, 8, 1, 18, 29, 49, 793001, tzinfo=UTC), "2011-08-01T18:29:49.793001Z"),
    (datetime(2011, 8, 1, 20, tzinfo=timezone(timedelta(hours=2))), "2011-08-01T20:00:00+02:00"),
    (datetime(2011, 8, 1, 20), "2011-08-01T20:00:00Z"),
    (
        datetime(2011, 8, 1, 20, tzinfo=timezone(timedelta(hours=1, seconds=30))),
        "2011-08-01T18:59:30Z",
    ),
]


@pytest.mark.parametrize(("value", "text"), DATETIMES)
def test_format_datetime(value: datetime, text: str) -> None:
    assert format_datetime(value) == text


def test_never_writes_null() -> None:
    out: Any = encode(User(user_name="u", name=None, emails=[]))
    assert out == {"schemas": [U], "userName": "u"}


def test_sub_attribute_returned() -> None:
    schema = Schema(
        "urn:example:schemas:Key",
        "Key",
        attributes=[
            Attribute(
                "pair",
                "complex",
                sub_attributes=[
                    Attribute("public"),
                    Attribute("private", returned="never"),
                    Attribute("fingerprint", returned="request"),
                    Attribute("kid", returned="always"),
                ],
            ),
            Attribute("label"),
        ],
    )
    model = make_model(
        schema, resource_type=ResourceType(name="Key", endpoint="/Keys", schema=schema.id)
    )
    pair_type = model.__scim_children__["pair"]
    key = model(
        id="k", label="L", pair=pair_type(public="P", private="S", fingerprint="F", kid="K")
    )
    base = {"schemas": [schema.id], "id": "k"}
    assert encode(key) == {**base, "pair": {"public": "P", "kid": "K"}, "label": "L"}
    assert encode(key, attributes=["pair"]) == {**base, "pair": {"public": "P", "kid": "K"}}
    assert encode(key, attributes=["pair.fingerprint", "pair.private"]) == {
        **base,
        "pair": {"fingerprint": "F", "kid": "K"},
    }
    assert encode(key, excluded_attributes=["pair.public"]) == {
        **base,
        "pair": {"kid": "K"},
        "label": "L",
    }
    assert encode(key, excluded_attributes=["label"], full=True)["pair"]["private"] == "S"
