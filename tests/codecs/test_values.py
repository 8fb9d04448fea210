"""decode_value / encode_value: one attribute's value, as PATCH operations carry it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scimcore.codecs.v2 import decode_value, encode_value
from scimcore.errors import InvalidPath, InvalidValue
from scimcore.models import Email, Group, GroupMember, Manager, Name, User
from scimcore.policy import Policy

E = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def test_complex_multi_valued() -> None:
    assert decode_value([{"value": "a", "TYPE": "work"}], User, "emails") == [
        Email(value="a", type="work")
    ]
    assert decode_value({"value": "a"}, User, "emails", element=True) == Email(value="a")
    assert decode_value(None, User, "emails") == []


def test_single_value_as_list() -> None:
    assert decode_value({"value": "a"}, User, "emails") == [Email(value="a")]
    with pytest.raises(InvalidValue) as info:
        decode_value({"value": "a"}, User, "emails", policy=Policy.strict())
    assert info.value.location == "$.value"


def test_sub_attribute_and_extension() -> None:
    assert decode_value("x", User, "name.givenName") == "x"
    assert decode_value({"value": "m"}, User, f"{E}:manager") == Manager(value="m")
    assert decode_value("m", User, f"{E}:manager.value") == "m"
    assert decode_value("a", User, "emails.value") == "a"  # one value, set on each element


def test_read_only_kept_in_patch_context() -> None:
    member = decode_value([{"value": "1", "display": "One"}], Group, "members")
    assert member == [GroupMember(value="1", display="One")]


def test_errors_are_located_under_the_value() -> None:
    with pytest.raises(InvalidValue) as info:
        decode_value([{"value": "a"}, {"primary": "maybe"}], User, "emails")
    assert info.value.location == "$.value[1].primary"
    with pytest.raises(InvalidValue) as info:
        decode_value(5, User, "userName", location="$.Operations[0].value")
    assert info.value.location == "$.Operations[0].value"
    with pytest.raises(InvalidPath):
        decode_value(1, User, "noSuchAttribute")


def test_encode_value() -> None:
    assert encode_value(Name(given_name="B"), User, "name") == {"givenName": "B"}
    assert encode_value([Email(value="a")], User, "emails") == [{"value": "a"}]
    created = datetime(2010, 1, 23, 4, 56, 22, tzinfo=UTC)
    assert encode_value(created, User, "meta.created") == "2010-01-23T04:56:22Z"
    assert encode_value(None, User, "userName") is None
