"""RFC 7644 §3.5.2 rule by rule.

T-numbers (T095–T129) label the project's acceptance cases for PATCH; each test's
docstring gives the RFC section it checks.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scimcore import (
    InvalidFilter,
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    Mutability,
    NoTarget,
    Policy,
    ScimError,
)
from scimcore.codecs.v2 import encode
from scimcore.models import Email, EnterpriseUser, Group, GroupMember, User
from scimcore.patch import PatchResult, apply_patch, patch_result

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


def members(*ids: str) -> list[GroupMember]:
    return [GroupMember(value=i) for i in ids]


# ----------------------------------------------------------------- envelope


@pytest.mark.parametrize(
    ("request_body", "error", "location"),
    [
        (
            {"Operations": [{"op": "add", "path": "title", "value": "x"}]},
            InvalidSyntax,
            "$.schemas",
        ),
        (
            {
                "schemas": ["urn:wrong"],
                "Operations": [{"op": "add", "path": "title", "value": "x"}],
            },
            InvalidSyntax,
            "$.schemas",
        ),
        ({"schemas": [PATCH_OP]}, InvalidValue, "$.Operations"),
        ({"schemas": [PATCH_OP], "Operations": {"op": "add"}}, InvalidSyntax, "$.Operations"),
        ({"schemas": [PATCH_OP], "Operations": []}, InvalidValue, "$.Operations"),
        ({"schemas": [PATCH_OP], "Operations": ["add"]}, InvalidSyntax, "$.Operations[0]"),
        ([], InvalidSyntax, "$"),
    ],
)
def test_t095_envelope(
    user: User, request_body: Any, error: type[ScimError], location: str
) -> None:
    """T095 (RFC 7644 §3.5.2): schemas must name PatchOp; Operations one or more."""
    with pytest.raises(error) as caught:
        apply_patch(user, request_body)
    assert caught.value.location == location


def test_envelope_member_names_are_case_insensitive(user: User) -> None:
    """RFC 7643 §2.1: "operations", "OP", "Path" and "VALUE" are read."""
    request = {
        "SCHEMAS": [PATCH_OP.upper()],
        "operations": [{"OP": "replace", "Path": "title", "VALUE": "Boss"}],
    }
    assert apply_patch(user, request).title == "Boss"


def test_patch_op_model(user: User) -> None:
    """A PatchOp model, built or decoded by the codec, is applied like its JSON."""
    from scimcore.codecs.v2 import decode
    from scimcore.models import PatchOp, PatchOperation

    built = PatchOp(
        operations=[
            PatchOperation(op="Replace", path="title", value="Boss"),
            PatchOperation(op="remove", path="nickName"),
        ]
    )
    patched = apply_patch(user, built)
    assert (patched.title, patched.nick_name) == ("Boss", None)
    request = body(
        {"op": "Replace", "path": "title", "value": "Boss"}, {"op": "remove", "path": "nickName"}
    )
    assert apply_patch(user, decode(request, PatchOp)) == patched == apply_patch(user, request)
    with pytest.raises(InvalidSyntax) as caught:
        apply_patch(user, PatchOp(operations=[PatchOperation(op="move", path="title")]))
    assert caught.value.location == "$.Operations[0].op"
    with pytest.raises(InvalidValue):
        apply_patch(user, PatchOp(operations=[]))


def test_envelope_as_json_text(user: User) -> None:
    request = json.dumps(body({"op": "replace", "path": "title", "value": "Boss"}))
    assert apply_patch(user, request).title == "Boss"
    assert apply_patch(user, request.encode()).title == "Boss"
    with pytest.raises(InvalidSyntax):
        apply_patch(user, "{not json")


@pytest.mark.parametrize("op", ["move", "copy", "test", "", 3, None])
def test_t096_unknown_op(user: User, op: Any) -> None:
    """T096: anything but add/remove/replace is invalidSyntax."""
    with pytest.raises(InvalidSyntax) as caught:
        apply_patch(user, body({"op": op, "path": "title", "value": "x"}))
    assert caught.value.location == "$.Operations[0].op"


def test_t097_add_without_value(user: User) -> None:
    """T097 (RFC 7644 §3.5.2.1): add MUST contain a value."""
    with pytest.raises(InvalidValue) as caught:
        apply_patch(user, body({"op": "add", "path": "title"}))
    assert caught.value.location == "$.Operations[0].value"
    with pytest.raises(InvalidValue):
        apply_patch(user, body({"op": "add", "path": "title", "value": None}))


def test_path_must_be_a_string(user: User) -> None:
    with pytest.raises(InvalidPath) as caught:
        apply_patch(user, body({"op": "add", "path": 5, "value": "x"}))
    assert caught.value.location == "$.Operations[0].path"


# ----------------------------------------------------------------- add


def test_t098_pathless_add_is_case_insensitive(user: User) -> None:
    """T098 (RFC 7644 §3.5.2.1): the lowercase key "nickname" sets nickName."""
    patched = apply_patch(
        user,
        body(
            {
                "op": "add",
                "value": {
                    "emails": [{"value": "babs@jensen.com", "type": "home"}],
                    "nickname": "B",
                },
            }
        ),
    )
    assert patched.nick_name == "B"
    assert [e.value for e in patched.emails][-1] == "babs@jensen.com"


def test_t099_add_member_twice_changes_nothing() -> None:
    """T099 (RFC 7644 §3.5.2.1): an add of a value already there is no change."""
    group = Group(display_name="G", members=members("u0"))
    request = body({"op": "add", "path": "members", "value": [{"value": "u1"}]})
    once = patch_result(group, request)
    assert once.changed and [m.value for m in once.resource.members] == ["u0", "u1"]
    twice = patch_result(once.resource, request)
    assert twice.changed is False
    assert twice.resource == once.resource
    assert twice.attributes == frozenset() and twice.added == {} and twice.removed == {}


def test_add_value_already_there_compares_case_insensitively(user: User) -> None:
    """An email is caseExact false: BJENSEN@EXAMPLE.COM is the work email already there."""
    request = body({"op": "add", "path": "emails", "value": [{"value": "BJENSEN@example.com"}]})
    assert patch_result(user, request).changed is False


def test_t100_add_to_complex_merges(user: User) -> None:
    """T100 (RFC 7644 §3.5.2.1): add name {givenName} keeps familyName; title is replaced."""
    patched = apply_patch(
        user,
        body(
            {"op": "add", "path": "name", "value": {"givenName": "Babs"}},
            {"op": "add", "path": "title", "value": "X"},
        ),
    )
    assert patched.name is not None
    assert (patched.name.given_name, patched.name.family_name) == ("Babs", "Jensen")
    assert patched.title == "X"


def test_t101_add_extension_attribute_adds_its_urn(user: User) -> None:
    """T101 (RFC 7644 §3.5.2): a fully qualified attribute adds its URN to schemas."""
    assert ENTERPRISE not in user.schemas
    result = patch_result(
        user, body({"op": "add", "path": f"{ENTERPRISE}:employeeNumber", "value": "701984"})
    )
    assert result.resource.schemas == [user.schemas[0], ENTERPRISE]
    enterprise = result.resource[EnterpriseUser]
    assert enterprise is not None and enterprise.employee_number == "701984"
    assert result.attributes == frozenset({f"{ENTERPRISE}:employeeNumber", "schemas"})
    assert encode(result.resource)[ENTERPRISE] == {"employeeNumber": "701984"}


def test_removing_the_last_extension_value_drops_the_extension(user: User) -> None:
    with_ext = apply_patch(
        user, body({"op": "add", "path": f"{ENTERPRISE}:department", "value": "Tours"})
    )
    patched = apply_patch(with_ext, body({"op": "remove", "path": f"{ENTERPRISE}:department"}))
    assert patched[EnterpriseUser] is None
    assert ENTERPRISE not in patched.schemas
    assert patched == user


def test_remove_a_whole_extension_by_urn(user: User) -> None:
    with_ext = apply_patch(
        user, body({"op": "add", "value": {ENTERPRISE: {"department": "T", "division": "D"}}})
    )
    enterprise = with_ext[EnterpriseUser]
    assert enterprise is not None and (enterprise.department, enterprise.division) == ("T", "D")
    assert apply_patch(with_ext, body({"op": "remove", "path": ENTERPRISE})) == user


# ----------------------------------------------------------------- remove


def test_t102_remove_without_path(user: User) -> None:
    """T102 (RFC 7644 §3.5.2.2): remove with no path is noTarget."""
    with pytest.raises(NoTarget) as caught:
        apply_patch(user, body({"op": "remove"}))
    assert caught.value.location == "$.Operations[0].path"


def test_t103_remove_single_valued(user: User) -> None:
    """T103: remove title: unassigned, absent from the JSON."""
    patched = apply_patch(user, body({"op": "remove", "path": "title"}))
    assert patched.title is None and "title" not in encode(patched)


def test_t104_t105_t106_remove_members(group: Group) -> None:
    """T104, T105, T106 (RFC 7644 §3.5.2.2)."""
    babs, mandy = (m.value for m in group.members)
    assert apply_patch(group, body({"op": "remove", "path": "members"})).members == []
    one = apply_patch(group, body({"op": "remove", "path": f'members[value eq "{babs}"]'}))
    assert [m.value for m in one.members] == [mandy]
    none = patch_result(group, body({"op": "remove", "path": 'members[value eq "NOPE"]'}))
    assert none.changed is False and none.resource == group


def test_t107_remove_by_filter_on_sub_attributes() -> None:
    """T107: when the only value is removed, the attribute is unassigned."""
    user = User(user_name="x", emails=[Email(value="a@example.com", type="work")])
    path = 'emails[type eq "work" and value ew "example.com"]'
    patched = apply_patch(user, body({"op": "remove", "path": path}))
    assert patched.emails == [] and "emails" not in encode(patched)


@pytest.mark.parametrize("path", ["userName", "id", "meta.created", "meta", "groups"])
def test_t108_remove_required_or_read_only(user: User, path: str) -> None:
    """T108 (RFC 7644 §3.5.2.2): required or readOnly: mutability."""
    with pytest.raises(Mutability) as caught:
        apply_patch(user, body({"op": "remove", "path": path}))
    assert caught.value.location == "$.Operations[0].path"


def test_remove_required_group_display_name(group: Group) -> None:
    """Erratum 5368: Group displayName is required."""
    with pytest.raises(Mutability):
        apply_patch(group, body({"op": "remove", "path": "displayName"}))


def test_remove_sub_attribute_of_selected_values(user: User) -> None:
    """RFC 7644 §3.5.2.2 (derived): emails[type eq "work"].primary removes that sub-attribute."""
    patched = apply_patch(user, body({"op": "remove", "path": 'emails[type eq "work"].primary'}))
    assert [e.primary for e in patched.emails] == [None, None]


def test_remove_sub_attribute_of_singular_complex(user: User) -> None:
    patched = apply_patch(user, body({"op": "remove", "path": "name.middleName"}))
    assert patched.name is not None and patched.name.middle_name is None
    assert patched.name.given_name == "Barbara"


# ----------------------------------------------------------------- replace


def test_t109_pathless_replace(user: User) -> None:
    """T109 (RFC 7644 §3.5.2.3): emails replaced wholesale, nickName replaced, rest untouched."""
    emails = [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ]
    patched = apply_patch(
        user, body({"op": "replace", "value": {"emails": emails[:1], "nickName": "Babs2"}})
    )
    assert encode(patched)["emails"] == emails[:1]
    assert patched.nick_name == "Babs2"
    assert patched.addresses == user.addresses and patched.title == user.title


def test_t110_replace_members() -> None:
    """T110: replace path=members [U2, U3] gives exactly [U2, U3]; the delta says so."""
    group = Group(display_name="G", members=members("U1", "U2"))
    result = patch_result(
        group,
        body({"op": "replace", "path": "members", "value": [{"value": "U2"}, {"value": "U3"}]}),
    )
    assert [m.value for m in result.resource.members] == ["U2", "U3"]
    assert [m.value for m in result.added["members"]] == ["U3"]
    assert [m.value for m in result.removed["members"]] == ["U1"]


def test_t111_replace_selected_record_primary_clears_others(user: User) -> None:
    """T111 (RFC 7644 §3.5.2.3): the new primary resets every other primary to false."""
    patched = apply_patch(
        user,
        body(
            {
                "op": "replace",
                "path": 'addresses[type eq "home"]',
                "value": {"type": "home", "streetAddress": "1 Main St", "primary": True},
            }
        ),
    )
    assert [(a.type, a.primary, a.street_address) for a in patched.addresses] == [
        ("work", False, "100 Universal City Plaza"),
        ("home", True, "1 Main St"),
    ]
    assert patched.addresses[1].locality is None  # the whole record was replaced


def test_t112_replace_selected_sub_attribute(user: User) -> None:
    """T112: only that sub-attribute changes."""
    patched = apply_patch(
        user,
        body(
            {
                "op": "replace",
                "path": 'addresses[type eq "work"].streetAddress',
                "value": "1010 Broadway Ave",
            }
        ),
    )
    assert patched.addresses[0].street_address == "1010 Broadway Ave"
    assert patched.addresses[0].locality == user.addresses[0].locality
    assert patched.addresses[1] == user.addresses[1]


def test_t113_replace_unmatched_filter(user: User) -> None:
    """T113 (RFC 7644 §3.5.2.3): noTarget, and the resource is unchanged."""
    with pytest.raises(NoTarget):
        apply_patch(
            user,
            body({"op": "replace", "path": 'emails[type eq "other"]', "value": {"value": "x"}}),
            policy=Policy.strict(),
        )


def test_t114_replace_unset_attribute_is_add() -> None:
    """T114 (RFC 7644 §3.5.2.3): replace of an attribute that does not exist is an add."""
    user = User(user_name="x")
    assert (
        apply_patch(user, body({"op": "replace", "path": "nickName", "value": "N"})).nick_name
        == "N"
    )


def test_t115_replace_complex_keeps_other_sub_attributes(user: User) -> None:
    """T115 (RFC 7644 §3.5.2.3): sub-attributes not specified are left unchanged."""
    patched = apply_patch(
        user, body({"op": "replace", "path": "name", "value": {"familyName": "X"}})
    )
    assert patched.name is not None
    assert (patched.name.family_name, patched.name.given_name) == ("X", "Barbara")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("id", "new"),
        ("meta.lastModified", "2020-01-01T00:00:00Z"),
        ("groups", [{"value": "g"}]),
        ("meta", {"version": 'W/"1"'}),
    ],
)
def test_t116_replace_read_only(user: User, path: str, value: Any) -> None:
    """T116 (RFC 7644 §3.5.2): readOnly attributes cannot be modified."""
    with pytest.raises(Mutability):
        apply_patch(user, body({"op": "replace", "path": path, "value": value}))


def test_t117_replace_immutable_member_value() -> None:
    """T117: members sub-attributes are immutable."""
    group = Group(display_name="G", members=members("U1"))
    with pytest.raises(Mutability):
        apply_patch(
            group, body({"op": "replace", "path": 'members[value eq "U1"].value', "value": "U9"})
        )
    # setting the value it already has is no modification
    same = patch_result(
        group, body({"op": "replace", "path": 'members[value eq "U1"].value', "value": "U1"})
    )
    assert same.changed is False
    # an immutable sub-attribute with no value yet may be set
    typed = apply_patch(
        group, body({"op": "add", "path": 'members[value eq "U1"].type', "value": "User"})
    )
    assert typed.members[0].type == "User"


def test_t118_malformed_paths(user: User) -> None:
    """T118: a malformed path is invalidPath; a bad filter inside [] is invalidFilter."""
    with pytest.raises(InvalidPath) as caught:
        apply_patch(user, body({"op": "replace", "path": "emails..value", "value": "x"}))
    assert caught.value.location == "$.Operations[0].path"
    # an unclosed bracket: the filter module reports it inside the filter (T118 says invalidPath)
    with pytest.raises((InvalidPath, InvalidFilter)) as caught_bracket:
        apply_patch(user, body({"op": "replace", "path": 'emails[type eq "work"', "value": "x"}))
    assert caught_bracket.value.location == "$.Operations[0].path"
    with pytest.raises(InvalidFilter):
        apply_patch(user, body({"op": "replace", "path": 'emails[type regex "w"]', "value": "x"}))


@pytest.mark.parametrize("path", ["fooBar", "name.nope", 'title[value eq "x"]', "userName.x"])
def test_t119_unknown_attribute_is_invalid_path(user: User, path: str) -> None:
    """T119: an unknown attribute, a sub-attribute a simple attribute cannot have, a filter on a
    single-valued attribute: invalidPath."""
    with pytest.raises(InvalidPath) as caught:
        apply_patch(user, body({"op": "replace", "path": path, "value": "x"}))
    assert caught.value.location == "$.Operations[0].path"


def test_t120_atomicity(user: User) -> None:
    """T120 (RFC 7644 §3.5.2): the first operation applied, the second fails: nothing applied."""
    before = encode(user, full=True)
    with pytest.raises(NoTarget) as caught:
        apply_patch(
            user,
            body(
                {"op": "replace", "path": "displayName", "value": "New"},
                {"op": "replace", "path": 'emails[type eq "none"].value', "value": "x"},
            ),
            policy=Policy.strict(),
        )
    assert caught.value.location == "$.Operations[1].path"
    assert encode(user, full=True) == before


def test_t121_sequencing() -> None:
    """T121 (RFC 7644 §3.5.2): operations apply in order: remove members, add members [U2]."""
    group = Group(display_name="G", members=members("U1", "U2"))
    result = patch_result(
        group,
        body(
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [{"value": "U2"}]},
        ),
    )
    assert [m.value for m in result.resource.members] == ["U2"]
    assert [m.value for m in result.removed["members"]] == ["U1"]
    assert result.added["members"] == ()


def test_t122_new_primary_clears_old_one(user: User) -> None:
    """T122 (RFC 7644 §3.5.2): another email made primary; the old one becomes false."""
    patched = apply_patch(
        user,
        body({"op": "add", "path": "emails", "value": [{"value": "n@x.org", "primary": True}]}),
    )
    assert [(e.value, e.primary) for e in patched.emails] == [
        ("bjensen@example.com", False),
        ("babs@jensen.org", None),
        ("n@x.org", True),
    ]


def test_two_primaries_in_one_operation_are_invalid(user: User) -> None:
    """RFC 7643 §2.4: primary true appears no more than once."""
    value = [{"value": "a@x.org", "primary": True}, {"value": "b@x.org", "primary": True}]
    with pytest.raises(InvalidValue):
        apply_patch(user, body({"op": "add", "path": "emails", "value": value}))


def test_t125_wrong_type_is_invalid_value(user: User) -> None:
    """T125: replace active "notabool"; location points into the value."""
    with pytest.raises(InvalidValue) as caught:
        apply_patch(user, body({"op": "replace", "path": "active", "value": "notabool"}))
    assert caught.value.location == "$.Operations[0].value"
    with pytest.raises(InvalidValue) as caught:
        apply_patch(
            user,
            body({"op": "add", "path": "emails", "value": [{"value": "a"}, {"value": 5}]}),
        )
    assert caught.value.location == "$.Operations[0].value[1].value"
    with pytest.raises(InvalidValue) as caught:
        apply_patch(user, body({"op": "add", "value": {"name": {"givenName": 3}}}))
    assert caught.value.location == "$.Operations[0].value.name.givenName"


def test_complex_target_needs_an_object(user: User) -> None:
    with pytest.raises(InvalidValue):
        apply_patch(user, body({"op": "replace", "path": "name", "value": "Barbara"}))
    with pytest.raises(InvalidValue):
        apply_patch(user, body({"op": "add", "value": ["not", "an", "object"]}))


def test_replace_with_null_clears_and_required_refuses(user: User) -> None:
    """RFC 7643 §2.5: null is unassigned; a required attribute cannot be cleared."""
    assert apply_patch(user, body({"op": "replace", "path": "title", "value": None})).title is None
    with pytest.raises(Mutability):
        apply_patch(user, body({"op": "replace", "path": "userName", "value": None}))


def test_schemas_path(user: User) -> None:
    """RFC 7644 §3.5.2: an operation may change schemas; later ones see the change."""
    patched = apply_patch(user, body({"op": "add", "path": "schemas", "value": [ENTERPRISE]}))
    assert patched.schemas == [user.schemas[0], ENTERPRISE]


# ----------------------------------------------------------------- result and purity


def test_result_type(group: Group) -> None:
    result = patch_result(group, body({"op": "replace", "path": "displayName", "value": "New"}))
    assert isinstance(result, PatchResult)
    assert result.changed and result.attributes == frozenset({"displayName"})
    assert result.added == {} and result.removed == {}
    assert apply_patch(group, body({"op": "replace", "path": "displayName", "value": "New"})) == (
        result.resource
    )


def test_input_never_changed_even_deep(user: User) -> None:
    before = encode(user, full=True)
    patched = apply_patch(
        user,
        body(
            {"op": "replace", "path": 'emails[type eq "work"].value', "value": "w@x.org"},
            {"op": "add", "path": "name.givenName", "value": "B"},
            {"op": "remove", "path": "ims"},
            {"op": "add", "path": f"{ENTERPRISE}:manager", "value": {"value": "m"}},
        ),
    )
    assert encode(user, full=True) == before
    assert patched is not user


def test_a_large_group_delta() -> None:
    group = Group(display_name="G", members=members(*(f"u{i}" for i in range(5000))))
    result = patch_result(
        group,
        body(
            {"op": "remove", "path": 'members[value eq "u17"]'},
            {"op": "add", "path": "members", "value": [{"value": "new"}]},
        ),
    )
    assert len(result.resource.members) == 5000
    assert [m.value for m in result.added["members"]] == ["new"]
    assert [m.value for m in result.removed["members"]] == ["u17"]


def test_read_only_sub_attribute_in_a_new_value(user: User) -> None:
    """RFC 7644 §3.5.2: manager.displayName is readOnly, in a new value too."""
    manager = f"{ENTERPRISE}:manager"
    with pytest.raises(Mutability):
        apply_patch(
            user, body({"op": "add", "path": manager, "value": {"value": "m", "displayName": "M"}})
        )
    patched = apply_patch(user, body({"op": "add", "path": manager, "value": {"value": "m"}}))
    enterprise = patched[EnterpriseUser]
    assert enterprise is not None and enterprise.manager is not None
    assert enterprise.manager.value == "m"


def test_large_wholesale_member_replace() -> None:
    group = Group(display_name="G", members=members(*(f"u{i}" for i in range(20000))))
    value = [{"value": f"u{i}"} for i in range(1, 20001)]
    result = patch_result(group, body({"op": "replace", "path": "members", "value": value}))
    assert [m.value for m in result.added["members"]] == ["u20000"]
    assert [m.value for m in result.removed["members"]] == ["u0"]


def test_read_only_sub_attribute_set_by_a_later_operation(user: User) -> None:
    """Two operations on the same new value: the second may not set a readOnly part."""
    manager = f"{ENTERPRISE}:manager"
    with pytest.raises(Mutability):
        apply_patch(
            user,
            body(
                {"op": "add", "path": manager, "value": {"value": "m"}},
                {"op": "add", "path": manager, "value": {"displayName": "M"}},
            ),
        )


# ----------------------------------------------------------------- choices where the RFC is silent


def test_sub_attribute_of_every_value(user: User) -> None:
    """emails.display (no filter) applies to every value; with no value at all: noTarget."""
    patched = apply_patch(user, body({"op": "replace", "path": "emails.display", "value": "D"}))
    assert [e.display for e in patched.emails] == ["D", "D"]
    with pytest.raises(NoTarget) as caught:
        apply_patch(
            User(user_name="x"), body({"op": "add", "path": "emails.display", "value": "D"})
        )
    assert caught.value.location == "$.Operations[0].path"
    removed = apply_patch(patched, body({"op": "remove", "path": "emails.display"}))
    assert removed == user


def test_add_on_a_selection_merges(user: User) -> None:
    """add emails[type eq "home"] {display}: merged into the home email, the rest kept."""
    patched = apply_patch(
        user, body({"op": "add", "path": 'emails[type eq "home"]', "value": {"display": "Home"}})
    )
    assert [(e.value, e.display) for e in patched.emails] == [
        ("bjensen@example.com", None),
        ("babs@jensen.org", "Home"),
    ]


def test_replace_a_selection_with_null_removes_it(user: User) -> None:
    patched = apply_patch(
        user, body({"op": "replace", "path": 'emails[type eq "home"]', "value": None})
    )
    assert [e.type for e in patched.emails] == ["work"]


def test_replace_a_selected_member_record_keeps_immutable_values() -> None:
    """members sub-attributes are immutable: a record replaced with another value is refused,
    one that only adds a sub-attribute with no value yet is not."""
    group = Group(display_name="G", members=members("U1"))
    with pytest.raises(Mutability):
        apply_patch(
            group,
            body({"op": "replace", "path": 'members[value eq "U1"]', "value": {"value": "U2"}}),
        )
    patched = apply_patch(
        group,
        body(
            {
                "op": "replace",
                "path": 'members[value eq "U1"]',
                "value": {"value": "U1", "display": "One"},
            }
        ),
    )
    assert patched.members == [GroupMember(value="U1", display="One")]


def test_schemas_writes(user: User) -> None:
    """A write to schemas: declared URNs only, the base stays, and schemas follows the data:
    an extension with values keeps its URN (no data is lost to an echoed schemas)."""
    with_ext = apply_patch(
        user, body({"op": "add", "path": f"{ENTERPRISE}:department", "value": "T"})
    )
    base = user.schemas[0]
    echoed = body({"op": "replace", "value": {"schemas": [base], "title": "Boss"}})
    result = patch_result(with_ext, echoed)
    assert result.resource.schemas == [base, ENTERPRISE]
    assert result.resource[EnterpriseUser] == with_ext[EnterpriseUser]
    assert result.attributes == frozenset({"title"})
    explicit = apply_patch(with_ext, body({"op": "replace", "path": "schemas", "value": [base]}))
    assert explicit == with_ext
    with pytest.raises(InvalidValue) as caught:
        apply_patch(user, body({"op": "replace", "path": "schemas", "value": [ENTERPRISE]}))
    assert caught.value.location == "$.Operations[0].value"
    unknown = body({"op": "add", "path": "schemas", "value": ["urn:example:unknown"]})
    assert patch_result(user, unknown).changed is False
    with pytest.raises(InvalidValue):
        apply_patch(user, unknown, policy=Policy.strict())
    upper = apply_patch(user, body({"op": "add", "path": "schemas", "value": [ENTERPRISE.upper()]}))
    assert upper.schemas == [base, ENTERPRISE]


def test_remove_a_value_from_an_extension_complex(user: User) -> None:
    manager = f"{ENTERPRISE}:manager"
    with_manager = apply_patch(user, body({"op": "add", "path": manager, "value": {"value": "m"}}))
    result = patch_result(with_manager, body({"op": "remove", "path": f"{manager}.value"}))
    assert result.resource == user
    assert result.attributes == frozenset({manager, "schemas"})


def test_a_resource_must_be_typed() -> None:
    with pytest.raises(TypeError, match="typed resource"):
        apply_patch({"userName": "x"}, body({"op": "add", "path": "title", "value": "x"}))


def test_model_path_must_be_a_string(user: User) -> None:
    from scimcore.models import PatchOp, PatchOperation

    with pytest.raises(InvalidPath):
        apply_patch(user, PatchOp(operations=[PatchOperation(op="add", path=5, value="x")]))  # type: ignore[arg-type]
