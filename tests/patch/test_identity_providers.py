"""What identity providers really send, each request body naming its source.

The references (E1–E11 for Microsoft Entra ID, O4–O7 for Okta) and the sources
behind them are listed in docs/policy.md, with SailPoint's and OneLogin's. Each deviation
is accepted under the preset of the provider that sends it and under
``Policy.interop()``, and refused (or read literally) under ``Policy.strict()``.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from scimcore import InvalidPath, InvalidSyntax, InvalidValue, Mutability, NoTarget, Policy
from scimcore.codecs.v2 import encode
from scimcore.models import EnterpriseUser, Group, GroupMember, Manager, User
from scimcore.patch import apply_patch, patch_result

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


# ----------------------------------------------------------------- Entra ID


@pytest.mark.parametrize("policy", [Policy.strict(), Policy.entra(), Policy.interop()])
def test_entra_e1_capitalised_ops_always_accepted(user: User, policy: Policy) -> None:
    """E1: "op":"Add"|"Replace"|"Remove" (MS doc: no case-sensitive match on PATCH op)."""
    patched = apply_patch(
        user,
        body(
            {"op": "Replace", "path": "title", "value": "Guide"},
            {"op": "Add", "path": "nickName", "value": "Barbie"},
            {"op": "Remove", "path": "locale"},
        ),
        policy=policy,
    )
    assert (patched.title, patched.nick_name, patched.locale) == ("Guide", "Barbie", None)


@pytest.mark.parametrize("text", ["False", "false", "FALSE"])
def test_entra_e2_boolean_as_string(user: User, text: str) -> None:
    """E2: {"op":"Replace","path":"active","value":"False"} (Entra compat doc; scimmy#86)."""
    request = body({"op": "Replace", "path": "active", "value": text})
    assert apply_patch(user, request, policy=Policy.entra()).active is False
    assert apply_patch(user, request).active is False
    with pytest.raises(InvalidValue) as caught:
        apply_patch(user, request, policy=Policy.strict())
    assert caught.value.location == "$.Operations[0].value"


def test_entra_e2_string_boolean_only_for_boolean_attributes(user: User) -> None:
    """E2: coerce only when the schema type is boolean: a string attribute keeps "False"."""
    patched = apply_patch(user, body({"op": "Replace", "path": "title", "value": "False"}))
    assert patched.title == "False"


def test_entra_e3_string_boolean_in_a_pathless_value(user: User) -> None:
    """E3 (a POST body, AzureAD/SCIMReferenceCode#21): the same "True" in a path-less add."""
    inactive = apply_patch(user, body({"op": "replace", "path": "active", "value": False}))
    patched = apply_patch(inactive, body({"op": "Add", "value": {"active": "True"}}))
    assert patched.active is True


def test_entra_e4_pathless_dotted_and_urn_keys(user: User) -> None:
    """E4: path-less replace with dotted/URN keys (pingidentity/scim2#224, SCIM-SDK#267)."""
    request = body(
        {
            "op": "replace",
            "value": {
                "displayName": "Bjfe",
                "name.givenName": "Kkom",
                "name.familyName": "Unua",
                f"{ENTERPRISE}:employeeNumber": "Aklq",
            },
        }
    )
    patched = apply_patch(user, request, policy=Policy.entra())
    assert patched.display_name == "Bjfe"
    assert patched.name is not None and user.name is not None
    assert (patched.name.given_name, patched.name.family_name) == ("Kkom", "Unua")
    assert patched.name.middle_name == user.name.middle_name == "Jane"
    enterprise = patched[EnterpriseUser]
    assert enterprise is not None and enterprise.employee_number == "Aklq"
    assert ENTERPRISE in patched.schemas
    with pytest.raises(InvalidSyntax) as caught:
        apply_patch(user, request, policy=Policy.strict())
    assert caught.value.location == "$.Operations[0].value.name.givenName"


def test_entra_e4_same_with_add(user: User) -> None:
    """E4 with op add (simpleidserver#494)."""
    patched = apply_patch(
        user, body({"op": "Add", "value": {"name.givenName": "Kkom"}}), policy=Policy.entra()
    )
    assert patched.name is not None and patched.name.given_name == "Kkom"


def _group(*ids: str) -> Group:
    return Group(display_name="Staff", members=[GroupMember(value=i) for i in ids])


def test_entra_e5_remove_member_with_value_array() -> None:
    """E5: {"op":"Remove","path":"members","value":[{"value":"u1091"}]}: only that member.

    A strict reading removes every member (vouch-sh/vouch#1415, langwatch#7131,
    scim2-server#13): scimcore never does; strict refuses it as invalidValue.
    """
    group = _group("u1091", "u2", "u3")
    request = body({"op": "Remove", "path": "members", "value": [{"value": "u1091"}]})
    for policy in (Policy.entra(), Policy.interop()):
        result = patch_result(group, request, policy=policy)
        assert [m.value for m in result.resource.members] == ["u2", "u3"]
        assert [m.value for m in result.removed["members"]] == ["u1091"]
        assert result.added["members"] == ()
    with pytest.raises(InvalidValue):
        apply_patch(group, request, policy=Policy.strict())


def test_entra_e5_flag_form_filter_remove() -> None:
    """E5 with ?aadOptscim062020: the RFC form, a filtered path and no value."""
    group = _group("7f4bc1a3-285e-48ae-8202-5accb43efb0e", "u2")
    request = body(
        {"op": "remove", "path": 'members[value eq "7f4bc1a3-285e-48ae-8202-5accb43efb0e"]'}
    )
    patched = apply_patch(group, request, policy=Policy.strict())
    assert [m.value for m in patched.members] == ["u2"]


def test_entra_e5_value_selecting_nothing_is_refused() -> None:
    """E5: an empty selection must never read as "remove every member"."""
    group = _group("u1", "u2")
    with pytest.raises(InvalidValue):
        apply_patch(group, body({"op": "Remove", "path": "members", "value": []}))


def test_entra_e6_member_add_with_null_ref() -> None:
    """E6: {"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}."""
    group = _group("u1")
    result = patch_result(
        group,
        body(
            {
                "op": "Add",
                "path": "members",
                "value": [{"$ref": None, "value": "f648f8d5ea4e4cd38e9c"}],
            }
        ),
        policy=Policy.entra(),
    )
    assert [m.value for m in result.resource.members] == ["u1", "f648f8d5ea4e4cd38e9c"]
    assert result.resource.members[1].ref is None


def test_entra_e7_replace_value_path_sub_attribute(user: User) -> None:
    """E7: {"op":"Replace","path":"emails[type eq \\"work\\"].value","value":"updatedEmail@microsoft.com"}."""
    patched = apply_patch(
        user,
        body(
            {
                "op": "Replace",
                "path": 'emails[type eq "work"].value',
                "value": "updatedEmail@microsoft.com",
            }
        ),
        policy=Policy.entra(),
    )
    assert [e.value for e in patched.emails] == ["updatedEmail@microsoft.com", "babs@jensen.org"]


def test_entra_e7_create_on_no_match(user: User) -> None:
    """E7: add/replace on emails[type eq "other"].… that does not exist creates the element.

    Successive operations on the same filter build one element (pingidentity/scim2#213);
    "primary":"true" as a string (simpleidserver#376) is a boolean under Entra.
    """
    request = body(
        {"op": "Add", "path": 'emails[type eq "other"].value', "value": "o@example.com"},
        {"op": "Add", "path": 'emails[type eq "other"].display', "value": "Other"},
        {"op": "Add", "path": 'emails[type eq "other"].primary', "value": "true"},
    )
    patched = apply_patch(user, request, policy=Policy.entra())
    assert encode(patched)["emails"] == [
        {"value": "bjensen@example.com", "type": "work", "primary": False},
        {"value": "babs@jensen.org", "type": "home"},
        {"value": "o@example.com", "display": "Other", "type": "other", "primary": True},
    ]
    with pytest.raises(NoTarget):
        apply_patch(user, request, policy=Policy.strict())


def test_entra_e7_no_match_with_a_filter_that_describes_no_element(user: User) -> None:
    """scim-patch "ADD: empty array multiple filter should throw": an 'or' cannot seed a value."""
    request = body(
        {
            "op": "Add",
            "path": 'addresses[type eq "other" or type eq "home2"].formatted',
            "value": "1111 Street Rd",
        }
    )
    with pytest.raises(NoTarget):
        apply_patch(user, request, policy=Policy.entra())


def test_entra_e7_add_to_empty_list_creates() -> None:
    """scim-patch "ADD: empty array add filter type + field (Azure AD)"."""
    user = User(user_name="spiderman")
    patched = apply_patch(
        user,
        body(
            {"op": "Add", "path": 'addresses[type eq "work"].formatted', "value": "1111 Street Rd"}
        ),
        policy=Policy.entra(),
    )
    assert encode(patched)["addresses"] == [{"formatted": "1111 Street Rd", "type": "work"}]


def test_entra_e8_quoted_boolean_inside_value_path_filter() -> None:
    """E8: roles[primary eq "True"].display (pingidentity/scim2#239)."""
    from scimcore.models import Role

    user = User(user_name="x", roles=[Role(value="r1", primary=True), Role(value="r2")])
    patched = apply_patch(
        user,
        body(
            {"op": "replace", "path": 'roles[primary eq "True"].display', "value": "LLWNASSGATWP"}
        ),
        policy=Policy.entra(),
    )
    assert [r.display for r in patched.roles] == ["LLWNASSGATWP", None]


def test_entra_e9_manager_as_bare_string(user: User) -> None:
    """E9: {"op":"Add","path":"urn:…:enterprise:2.0:User:manager","value":"271"} (SCIM-SDK)."""
    request = body({"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "271"})
    patched = apply_patch(user, request, policy=Policy.entra())
    enterprise = patched[EnterpriseUser]
    assert enterprise is not None and enterprise.manager == Manager(value="271")
    with pytest.raises(InvalidValue):
        apply_patch(user, request, policy=Policy.strict())


def test_entra_e10_roles_with_json_encoded_string_values(user: User) -> None:
    """E10: a JSON string inside 'value' stays a string (no opt-in decoding: it can misfire)."""
    text = '{"id":"827f","value":"DocumentMgmt-Admin","displayName":"DocumentMgmt Admin"}'
    patched = apply_patch(
        user,
        body({"op": "Add", "path": "roles", "value": [{"value": text}]}),
        policy=Policy.entra(),
    )
    assert [r.value for r in patched.roles] == [text]


def test_entra_e11_extension_path_with_dot(user: User) -> None:
    """E11: urn:…:enterprise:2.0:User.manager (AzureAD 'SCIM Inbound' collection)."""
    request = body({"op": "Add", "path": f"{ENTERPRISE}.manager", "value": {"value": "271"}})
    patched = apply_patch(user, request, policy=Policy.entra())
    enterprise = patched[EnterpriseUser]
    assert enterprise is not None and enterprise.manager == Manager(value="271")
    with pytest.raises(InvalidPath):
        apply_patch(user, request, policy=Policy.strict())


def test_entra_e19_empty_operations(user: User) -> None:
    """E19: the validator sends an empty Operations list; RFC 7644 §3.5.2 wants one or more."""
    with pytest.raises(InvalidValue):
        apply_patch(user, body())
    result = patch_result(user, body(), policy=Policy(empty_operations="no-op"))
    assert result.changed is False and result.resource == user


# ----------------------------------------------------------------- Okta


@pytest.mark.parametrize("policy", [Policy.strict(), Policy.okta(), Policy.interop()])
def test_okta_o4_deactivate_pathless(user: User, policy: Policy) -> None:
    """O4: {"op":"replace","value":{"active":false}} (Okta OIN)."""
    patched = apply_patch(user, body({"op": "replace", "value": {"active": False}}), policy=policy)
    assert patched.active is False and user.active is True


def test_okta_o5_group_rename_with_its_own_id() -> None:
    """O5: {"op":"replace","value":{"id":"abf4dd94-…","displayName":"Test SCIMv2"}}."""
    group = Group(id="abf4dd94-a4c0-4f67-89c9-76b03340cb9b", display_name="Test")
    request = body(
        {
            "op": "replace",
            "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2"},
        }
    )
    for policy in (Policy.okta(), Policy.interop()):
        assert apply_patch(group, request, policy=policy).display_name == "Test SCIMv2"
    with pytest.raises(Mutability):
        apply_patch(group, request, policy=Policy.strict())
    other = body({"op": "replace", "value": {"id": "another", "displayName": "X"}})
    with pytest.raises(Mutability):
        apply_patch(group, other, policy=Policy.okta())


def test_okta_o6_membership_remove_then_add() -> None:
    """O6: a filtered remove, then an add (Okta scim-20 reference; authentik#25686)."""
    group = _group("89bb1940-b905-4575-9e7f-6f887cfb368e", "keep")
    request = body(
        {"op": "remove", "path": 'members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]'},
        {
            "op": "add",
            "path": "members",
            "value": [
                {
                    "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                    "display": "test.user@okta.local",
                }
            ],
        },
    )
    result = patch_result(group, request, policy=Policy.okta())
    assert [m.value for m in result.resource.members] == [
        "keep",
        "23a35c27-23d3-4c03-b4c5-6443c09e7173",
    ]
    assert [m.value for m in result.removed["members"]] == ["89bb1940-b905-4575-9e7f-6f887cfb368e"]
    assert [m.display for m in result.added["members"]] == ["test.user@okta.local"]


def test_okta_o7_empty_group_push() -> None:
    """O7: {"op":"replace","path":"members","value":[]} clears (SCIM-SDK#757 returned 400)."""
    group = _group("u1", "u2")
    result = patch_result(
        group, body({"op": "replace", "path": "members", "value": []}), policy=Policy.okta()
    )
    assert result.resource.members == []
    assert [m.value for m in result.removed["members"]] == ["u1", "u2"]


def test_okta_o7_pathless_variant() -> None:
    """O7 variant {"op":"replace","value":{"members":[],"id":…,"displayName":…}} (scimgateway#113)."""
    group = Group(id="g1", display_name="Old", members=[GroupMember(value="u1")])
    request = body({"op": "replace", "value": {"members": [], "id": "g1", "displayName": "New"}})
    patched = apply_patch(group, request, policy=Policy.okta())
    assert (patched.members, patched.display_name) == ([], "New")


# ----------------------------------------------------------------- others


def test_sailpoint_two_partial_name_replaces_merge(user: User) -> None:
    """SailPoint: two path-less replaces each with a partial name (SCIM-SDK#327)."""
    request = body(
        {"op": "replace", "value": {"name": {"givenName": "Barb"}}},
        {"op": "replace", "value": {"name": {"familyName": "Jensen-Smith"}}},
    )
    patched = apply_patch(user, request, policy=Policy.strict())
    assert patched.name is not None
    assert (patched.name.given_name, patched.name.family_name, patched.name.middle_name) == (
        "Barb",
        "Jensen-Smith",
        "Jane",
    )
    whole = apply_patch(user, request, policy=Policy(merge_partial_complex=False))
    assert whole.name is not None
    assert (whole.name.given_name, whole.name.family_name, whole.name.middle_name) == (
        None,
        "Jensen-Smith",
        None,
    )


def test_onelogin_single_object_for_a_multi_valued_attribute(user: User) -> None:
    """OneLogin: "emails" as one object (django-scim2 adapters.py comment)."""
    request = body({"op": "add", "path": "emails", "value": {"value": "one@login.com"}})
    assert [e.value for e in apply_patch(user, request).emails][-1] == "one@login.com"
    with pytest.raises(InvalidValue):
        apply_patch(user, request, policy=Policy.strict())


def test_bare_extension_urn_path(user: User) -> None:
    """Slack, Okta and others: a bare extension URN as the path (``bare_urn_path``)."""
    request = body({"op": "replace", "path": ENTERPRISE, "value": {"department": "X"}})
    patched = apply_patch(user, request)
    enterprise = patched[EnterpriseUser]
    assert enterprise is not None and enterprise.department == "X"
    assert apply_patch(user, request, policy=Policy.okta())[EnterpriseUser] == enterprise
    with pytest.raises(InvalidPath):
        apply_patch(user, request, policy=Policy.strict())
    with pytest.raises(InvalidPath):
        apply_patch(user, request, policy=attrs.evolve(Policy.interop(), bare_urn_path=False))
