"""The SCIM 1.1 codec as a library: the 1.1 rules of docs/scim11.md as data.

T-numbers (T152–T170) label the project's acceptance cases for SCIM 1.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from scimcore.codecs import v1, v2
from scimcore.errors import InvalidFilter, InvalidSyntax, InvalidValue, NotFound, Uniqueness
from scimcore.filter import parse_filter
from scimcore.models import (
    Address,
    EnterpriseUser,
    Error,
    Group,
    GroupMember,
    ListResponse,
    Manager,
    PatchOp,
    User,
)
from scimcore.patch import apply_patch
from scimcore.policy import Policy
from scimcore.schema import (
    GROUP_RESOURCE_TYPE,
    USER_RESOURCE_TYPE,
    AuthenticationScheme,
    BulkSupport,
    FilterSupport,
    MutabilityKind,
    ServiceProviderConfig,
    Supported,
)

DATA = Path(__file__).parent / "data"
CORE = "urn:scim:schemas:core:1.0"
ENTERPRISE_1 = "urn:scim:schemas:extension:enterprise:1.0"
ENTERPRISE_2 = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def without_v2_only(user: User, *, group_type: bool = True) -> User:
    """``user`` without what 1.1 cannot carry (``$ref``, ``meta.resourceType``) and, unless
    ``group_type`` is false, without ``groups.type``, which the §5.8 1.1 example leaves out."""
    user = attrs.evolve(
        user,
        groups=[
            attrs.evolve(g, ref=None, type=g.type if not group_type else None) for g in user.groups
        ],
        meta=None if user.meta is None else attrs.evolve(user.meta, resource_type=None),
    )
    enterprise = user[EnterpriseUser]
    if enterprise is not None and enterprise.manager is not None:
        user[EnterpriseUser] = attrs.evolve(
            enterprise, manager=attrs.evolve(enterprise.manager, ref=None)
        )
    return user


def same_values_modulo_source_examples(user: User) -> User:
    """The §5.8 examples differ in ``country``/``locale`` only because their sources do."""
    assert user.meta is not None
    return attrs.evolve(
        user,
        addresses=[attrs.evolve(a, country=None, formatted=None) for a in user.addresses],
        locale=None,
        preferred_language=None,
        meta=attrs.evolve(user.meta, location=(user.meta.location or "").replace("/v2/", "/v1/")),
    )


# --- §5.8: the same person in 1.1 and 2.0 -------------------------------------------


def test_T152_the_1_1_and_2_0_bjensen_decode_to_the_same_model() -> None:
    from_1 = v1.decode(load("spec-5.8-bjensen-1.1.json"), User)
    from_2 = v2.decode(load("spec-5.8-bjensen-2.0.json"), User)
    assert same_values_modulo_source_examples(from_1) == same_values_modulo_source_examples(
        without_v2_only(from_2)
    )
    assert from_1[EnterpriseUser] == EnterpriseUser(
        employee_number="701984",
        cost_center="4130",
        organization="Universal Studios",
        division="Theme Park",
        department="Tour Operations",
        manager=Manager(value="26118915-6090-4610-87e4-49d8ca9f808d", display_name="John Smith"),
    )
    # values are kept as given (RFC 7643 would want "US" and "en-US")
    assert (from_1.locale, from_1.addresses[0].country) == ("en_US", "USA")
    assert (from_2.locale, from_2.addresses[0].country) == ("en-US", "US")


def test_T153_encoding_the_model_as_1_1_gives_the_1_1_document() -> None:
    document = load("spec-5.8-bjensen-1.1.json")
    from_2 = v2.decode(load("spec-5.8-bjensen-2.0.json"), User)
    encoded = v1.encode(from_2)
    assert encoded["schemas"] == [CORE, ENTERPRISE_1]
    assert encoded[ENTERPRISE_1]["manager"] == {
        "managerId": "26118915-6090-4610-87e4-49d8ca9f808d",
        "displayName": "John Smith",
    }
    assert "resourceType" not in encoded["meta"]
    assert "$ref" not in json.dumps(encoded)
    assert encoded["groups"] == [
        {
            "value": "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "display": "Tour Guides",
            "type": "direct",
        }
    ]
    # the 1.1 document itself comes back exactly
    assert v1.encode(v1.decode(document, User)) == document


def test_the_same_person_round_trips_1_1_model_2_0_model_1_1() -> None:
    document = load("spec-5.8-bjensen-1.1.json")
    model_1 = v1.decode(document, User)
    as_2 = v2.encode(model_1)
    assert as_2["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_2]
    assert as_2[ENTERPRISE_2]["manager"] == {
        "value": "26118915-6090-4610-87e4-49d8ca9f808d",
        "displayName": "John Smith",
    }
    model_2 = v2.decode(as_2, User)
    assert model_2 == model_1
    assert v1.encode(model_2) == document


def test_the_same_person_round_trips_2_0_model_1_1_model_2_0_without_2_0_only_parts() -> None:
    document = load("spec-5.8-bjensen-2.0.json")
    model = v2.decode(document, User)
    back = v2.decode(v2.encode(v1.decode(v1.encode(model), User)), User)
    assert back == without_v2_only(model, group_type=False)


def test_T154_the_model_says_what_a_1_1_document_is() -> None:
    document = {"schemas": [CORE], "id": "g1", "displayName": "Tour Guides",
                "members": [{"value": "u1", "display": "Babs"}]}  # fmt: skip
    group = v1.decode(document, Group)
    assert group == Group(
        schemas=["urn:ietf:params:scim:schemas:core:2.0:Group"],
        id="g1",
        display_name="Tour Guides",
        members=[GroupMember(value="u1", display="Babs")],
    )
    with pytest.raises(TypeError, match="one model"):
        v1.decode({"Resources": []}, ListResponse[User | Group])


def test_decode_errors_are_scim_errors_with_1_1_locations() -> None:
    with pytest.raises(InvalidValue) as caught:
        v1.decode({"schemas": [CORE, ENTERPRISE_1], ENTERPRISE_1: {"department": 5}}, User)
    assert caught.value.location == f"$[{ENTERPRISE_1!r}].department"
    with pytest.raises(InvalidSyntax):
        v1.decode("{not json", User)
    with pytest.raises(InvalidSyntax):
        v1.decode(["not", "an", "object"], User)  # type: ignore[arg-type]
    with pytest.raises(InvalidValue, match="required"):
        v1.decode({"schemas": [CORE]}, User, context="creation")


def test_schemas_may_be_missing_in_1_1() -> None:
    assert v1.decode({"userName": "bjensen"}, User, context="creation").schemas == [
        "urn:ietf:params:scim:schemas:core:2.0:User"
    ]


# --- messages ------------------------------------------------------------------------


def test_T155_list_response_both_ways() -> None:
    document = {
        "totalResults": 2,
        "itemsPerPage": 2,
        "startIndex": 1,
        "schemas": [CORE],
        "Resources": [
            {"schemas": [CORE], "id": "1", "userName": "bjensen"},
            {"schemas": [CORE], "id": "2", "userName": "jsmith"},
        ],
    }
    page = v1.decode(document, ListResponse[User])
    assert page.total_results == 2
    assert page.items_per_page == 2
    assert page.start_index == 1
    assert [u.user_name for u in page.resources] == ["bjensen", "jsmith"]
    assert v2.encode(page)["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert v1.encode(page) == {
        "schemas": [CORE],
        "totalResults": 2,
        "itemsPerPage": 2,
        "startIndex": 1,
        "Resources": document["Resources"],
    }
    assert v1.encode(page, attributes=["id"])["Resources"] == [
        {"schemas": [CORE], "id": "1"},
        {"schemas": [CORE], "id": "2"},
    ]
    empty = {"schemas": [CORE], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0,
             "Resources": []}  # fmt: skip
    assert v1.encode(v1.decode(empty, ListResponse[User])) == {
        "schemas": [CORE],
        "totalResults": 0,
        "itemsPerPage": 0,
        "startIndex": 1,
        "Resources": [],
    }
    with pytest.raises(InvalidValue) as caught:
        v1.decode({"Resources": [{"userName": 5}]}, ListResponse[User])
    assert caught.value.location == "$.Resources[0].userName"


def test_T156_errors_envelope_both_ways() -> None:
    error = v1.decode({"Errors": [{"description": "x", "code": "404"}]}, Error)
    assert (error.status, error.detail, error.scim_type) == ("404", "x", None)
    assert isinstance(error.to_exception(), NotFound)
    assert v1.encode(error) == {"Errors": [{"description": "x", "code": "404"}]}
    assert v1.encode(Uniqueness("User already exists in the database.")) == {
        "Errors": [
            {"description": "[uniqueness] User already exists in the database.", "code": "409"}
        ]
    }
    back = v1.decode_error(v1.encode_error(InvalidFilter("bad")))
    assert (back.status, back.scim_type, back.detail) == ("400", "invalidFilter", "bad")
    assert isinstance(back.to_exception(), InvalidFilter)
    # Okta sends the code as a number; several errors are joined
    okta = v1.decode_error(
        b'{"Errors":[{"description":"User already exists in the database.","code":409},'
        b'{"description":"and more","code":409}]}'
    )
    assert (okta.status, okta.detail) == ("409", "User already exists in the database.; and more")
    assert v1.encode_error({"status": "404", "detail": "gone"}) == {
        "Errors": [{"description": "gone", "code": "404"}]
    }
    bad: dict[str, Any]
    for bad in ({}, {"Errors": []}, {"Errors": [{"code": "x"}]}, {"Errors": [{"code": True}]}):
        with pytest.raises((InvalidSyntax, InvalidValue)):
            v1.decode_error(bad)


# --- PATCH ----------------------------------------------------------------------------


def ops(patch: PatchOp) -> list[tuple[str | None, str | None, Any]]:
    return [(o.op, o.path, o.value) for o in patch.operations]


def test_T157_meta_attributes_are_removes_first() -> None:
    body = {"schemas": [CORE], "meta": {"attributes": ["title", "name.familyName"]}}
    assert ops(v1.decode_patch(body, User)) == [
        ("remove", "title", None),
        ("remove", "name.familyName", None),
    ]


def test_spec_5_8_patches_are_their_2_0_equivalents() -> None:
    for name, model in (("members", Group), ("clear", User)):
        v1_body = load(f"spec-5.8-patch-{name}-1.1.json")
        v2_body = load(f"spec-5.8-patch-{name}-2.0.json")
        assert v2.encode(v1.decode_patch(v1_body, model)) == v2_body


def test_T158_delete_then_add_equals_the_2_0_patch() -> None:
    group = Group(display_name="g", members=[GroupMember(value="U1"), GroupMember(value="U0")])
    body = {"schemas": [CORE], "members": [{"value": "U1", "operation": "delete"}, {"value": "U2"}]}
    patch = v1.decode_patch(body, Group, current=group)
    assert ops(patch) == [
        ("remove", 'members[value eq "U1"]', None),
        ("add", "members", [{"value": "U2"}]),
    ]
    two_0: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "remove", "path": 'members[value eq "U1"]'},
            {"op": "add", "path": "members", "value": [{"value": "U2"}]},
        ],
    }
    assert apply_patch(group, patch) == apply_patch(group, two_0)
    assert [m.value for m in apply_patch(group, patch).members] == ["U0", "U2"]


def test_T159_meta_attributes_plus_body_replaces() -> None:
    group = Group(display_name="g", members=[GroupMember(value="U1"), GroupMember(value="U2")])
    body = {"schemas": [CORE], "meta": {"attributes": ["members"]}, "members": [{"value": "U3"}]}
    assert [
        m.value for m in apply_patch(group, v1.decode_patch(body, Group, current=group)).members
    ] == ["U3"]


def test_T160_deleting_a_value_without_value_matches_every_given_sub_attribute() -> None:
    home = Address(type="home", street_address="1 Main St", locality="Springfield")
    other = Address(type="home", street_address="1 Main St", locality="Shelbyville")
    user = User(user_name="b", addresses=[home, other])
    body = {"schemas": [CORE], "addresses": [
        {"type": "home", "streetAddress": "1 Main St", "locality": "Springfield",
         "operation": "delete"}]}  # fmt: skip
    patch = v1.decode_patch(body, User, current=user)
    assert ops(patch) == [
        (
            "remove",
            'addresses[type eq "home" and streetAddress eq "1 Main St" and locality eq "Springfield"]',
            None,
        )
    ]
    assert apply_patch(user, patch).addresses == [other]


def test_T161_a_delete_of_an_attribute_in_meta_attributes_is_ignored() -> None:
    body = {
        "schemas": [CORE],
        "meta": {"attributes": ["members"]},
        "members": [{"value": "U1", "operation": "delete"}],
    }
    assert ops(v1.decode_patch(body, Group)) == [("remove", "members", None)]


def test_merge_into_an_existing_value_and_add_a_new_one() -> None:
    user = v1.decode(
        {"userName": "b", "emails": [{"value": "b@example.com", "type": "work"}]}, User
    )
    body = {
        "schemas": [CORE],
        "emails": [
            {"value": "B@EXAMPLE.COM", "primary": True},
            {"value": "babs@example.org", "type": "home"},
        ],
    }
    patch = v1.decode_patch(body, User, current=user)
    assert ops(patch) == [
        ("replace", 'emails[value eq "B@EXAMPLE.COM"].primary', True),
        ("add", "emails", [{"value": "babs@example.org", "type": "home"}]),
    ]
    emails = apply_patch(user, patch).emails
    assert [(e.value, e.type, e.primary) for e in emails] == [
        ("b@example.com", "work", True),
        ("babs@example.org", "home", None),
    ]


def test_immutable_and_read_only_parts_of_a_partial_resource_are_ignored() -> None:
    group = Group(id="g1", display_name="g", members=[GroupMember(value="U1", display="Old")])
    body = {
        "schemas": [CORE],
        "id": "g1",
        "meta": {"created": "2011-01-01T00:00:00Z"},
        "members": [{"value": "U1", "display": "New name"}],
    }
    assert ops(v1.decode_patch(body, Group, current=group)) == []


def test_singular_complex_and_null_and_extension_paths() -> None:
    body = {
        "schemas": [CORE, ENTERPRISE_1],
        "name": {"givenName": "B", "middleName": None},
        "nickName": None,
        ENTERPRISE_1: {"manager": {"managerId": "m2"}, "costCenter": "9"},
        "urn:example:unknown:1.0": {"x": 1},
        "noSuchAttribute": 1,
    }
    assert ops(v1.decode_patch(body, User)) == [
        ("replace", f"{ENTERPRISE_2}:manager.value", "m2"),
        ("replace", f"{ENTERPRISE_2}:costCenter", "9"),
        ("replace", "name.givenName", "B"),
        ("remove", "name.middleName", None),
        ("remove", "nickName", None),
    ]
    user = User(user_name="b", nick_name="Babs")
    user[EnterpriseUser] = EnterpriseUser(manager=Manager(value="m1", display_name="M"))
    patched = apply_patch(user, v1.decode_patch(body, User, current=user))
    assert patched.nick_name is None
    assert patched[EnterpriseUser] == EnterpriseUser(
        cost_center="9", manager=Manager(value="m2", display_name="M")
    )
    strict = Policy.strict()
    with pytest.raises(InvalidSyntax):
        v1.decode_patch({"noSuchAttribute": 1}, User, policy=strict)
    with pytest.raises(InvalidSyntax):
        v1.decode_patch({"urn:example:unknown:1.0": {}}, User, policy=strict)


def test_meta_attributes_with_1_1_urn_paths() -> None:
    body = {"meta": {"attributes": [
        f"{ENTERPRISE_1}.department", f"{ENTERPRISE_1}:manager.managerId",
        f"{CORE}:name.givenName"]}}  # fmt: skip
    assert ops(v1.decode_patch(body, User)) == [
        ("remove", f"{ENTERPRISE_2}:department", None),
        ("remove", f"{ENTERPRISE_2}:manager.value", None),
        ("remove", "name.givenName", None),
    ]


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"meta": []},
        {"meta": {"attributes": "title"}},
        {"members": [{"value": "U1", "operation": "insert"}]},
        {"members": [{"operation": "delete"}]},
        {"members": [{"value": {"nested": 1}, "operation": "delete"}]},
        {ENTERPRISE_1: "x"},
    ],
)
def test_bad_patch_bodies_are_scim_errors(body: Any) -> None:
    with pytest.raises((InvalidSyntax, InvalidValue)):
        v1.decode_patch(body, Group if "members" in body else User)


# --- filters, names --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "x"',
        'userName co "x"',
        'userName sw "x"',
        "title pr",
        'meta.lastModified gt "2011-05-13T04:42:34Z"',
        'meta.lastModified ge "2011-05-13T04:42:34Z"',
        'meta.lastModified lt "2011-05-13T04:42:34Z"',
        'meta.lastModified le "2011-05-13T04:42:34Z"',
        'title pr and (userType eq "Employee" or userType eq "Intern")',
    ],
)
def test_T163_the_1_1_operators_are_accepted(text: str) -> None:
    node = v1.decode_filter(text, User)
    assert node == parse_filter(text)
    assert v1.encode_filter(node, User) == str(node)


@pytest.mark.parametrize(
    "text",
    ['userName ne "x"', 'userName ew "x"', 'not (userName eq "x")', 'emails[type eq "work"]'],
)
def test_T163_2_0_only_operators_are_invalid_filter(text: str) -> None:
    with pytest.raises(InvalidFilter):
        v1.decode_filter(text, User)


@pytest.mark.parametrize(
    "text",
    [
        'userName ne "x"',
        'userName ew "x"',
        'not (userName eq "x")',
        'emails[type eq "work" and value co "x"]',
        "title eq null",
    ],
)
def test_T164_a_2_0_filter_1_1_cannot_say_raises(text: str) -> None:
    with pytest.raises(v1.NotExpressibleIn11):
        v1.encode_filter(text, User)


def test_T164_an_expressible_filter_is_identical_text() -> None:
    assert v1.encode_filter('userName eq "x" and title pr', User) == 'userName eq "x" and title pr'


def test_T165_1_1_paths_decode_to_model_paths() -> None:
    cases = {
        f'{CORE}:name.givenName eq "B"': 'name.givenName eq "B"',
        f'{ENTERPRISE_1}:department eq "X"': f'{ENTERPRISE_2}:department eq "X"',
        f'{ENTERPRISE_1}.department eq "X"': f'{ENTERPRISE_2}:department eq "X"',
        'manager.managerId eq "m"': f'{ENTERPRISE_2}:manager.value eq "m"',
        f'{ENTERPRISE_1}.manager.managerId eq "{ENTERPRISE_1}.x"': (
            f'{ENTERPRISE_2}:manager.value eq "{ENTERPRISE_1}.x"'
        ),
    }
    for text, expected in cases.items():
        assert str(v1.decode_filter(text, User)) == expected
    assert v1.encode_filter(f'{ENTERPRISE_2}:manager.value eq "m"', User) == (
        f'{ENTERPRISE_1}:manager.managerId eq "m"'
    )
    assert v1.name_to_v2("MANAGER.MANAGERID", User) == f"{ENTERPRISE_2}:manager.value"
    assert v1.name_to_v1("manager.value", User) == f"{ENTERPRISE_1}:manager.managerId"
    assert v1.name_to_v2("nosuch.thing", User) == "nosuch.thing"
    assert v1.name_to_v2(f"{ENTERPRISE_1}:nosuch", User) == f"{ENTERPRISE_2}:nosuch"


def test_a_1_1_filter_runs_on_the_shared_evaluator() -> None:
    from scimcore.filter import compile_filter

    user = v1.decode(load("spec-5.8-bjensen-1.1.json"), User)
    for text, expected in [
        ('manager.managerId eq "26118915-6090-4610-87e4-49d8ca9f808d"', True),
        (f'{ENTERPRISE_1}.department sw "tour"', True),
        ('emails.type eq "home" and userName co "JENSEN"', True),
        ('meta.lastModified gt "2011-05-13T04:42:34Z"', False),
    ]:
        assert compile_filter(v1.decode_filter(text, User), User)(user) is expected


# --- discovery ----------------------------------------------------------------------------


def test_T167_service_provider_config_both_ways() -> None:
    config = ServiceProviderConfig(
        patch=Supported(True),
        bulk=BulkSupport(True, 1000, 1048576),
        filter=FilterSupport(True, 200),
        change_password=Supported(False),
        sort=Supported(True),
        etag=Supported(True),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="OAuth Bearer Token",
                description="Authentication with a bearer token.",
                spec_uri="https://www.rfc-editor.org/rfc/rfc6750",
                documentation_uri="https://example.com/help/oauth.html",
            )
        ],
        documentation_uri="https://example.com/help/scim.html",
    )
    document = v1.encode_service_provider_config(config)
    assert document == {
        "schemas": [CORE],
        "patch": {"supported": True},
        "bulk": {"supported": True, "maxOperations": 1000, "maxPayloadSize": 1048576},
        "filter": {"supported": True, "maxResults": 200},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "Authentication with a bearer token.",
                "specUrl": "https://www.rfc-editor.org/rfc/rfc6750",
                "documentationUrl": "https://example.com/help/oauth.html",
            }
        ],
        "documentationUrl": "https://example.com/help/scim.html",
        "xmlDataFormat": {"supported": False},
    }
    assert v1.decode_service_provider_config(document) == config


def test_T168_1_1_schema_resource_to_2_0_schema_and_resource_type() -> None:
    schemas = {s.id: s for s in (User.__scim_schema__, EnterpriseUser.__scim_schema__)}
    document = v1.encode_schema(USER_RESOURCE_TYPE, schemas)
    assert (document["id"], document["name"], document["schema"], document["endpoint"]) == (
        "User",
        "User",
        CORE,
        "/Users",
    )
    by_name = {a["name"]: a for a in document["attributes"]}
    assert by_name["groups"]["readOnly"] is True
    assert [s["name"] for s in by_name["groups"]["subAttributes"]] == ["value", "display", "type"]
    assert by_name["profileUrl"]["type"] == "string"  # 1.1 has no reference type
    assert "mutability" not in by_name["userName"]
    schema, resource_type, extensions = v1.decode_schema(document)
    assert resource_type.name == "User"
    assert resource_type.endpoint == "/Users"
    assert resource_type.schema == User.__scim_schema__.id
    assert resource_type.extension_urns == (ENTERPRISE_2,)
    assert schema.attribute("groups").mutability is MutabilityKind.READ_ONLY  # type: ignore[union-attr]
    assert schema.attribute("password").mutability is MutabilityKind.READ_WRITE  # type: ignore[union-attr]
    assert schema.attribute("id") is None
    (enterprise,) = extensions
    manager = enterprise.attribute("manager")
    assert manager is not None
    assert [s.name for s in manager.sub_attributes] == ["value", "displayName"]
    group = v1.encode_schema(GROUP_RESOURCE_TYPE, {Group.__scim_schema__.id: Group.__scim_schema__})
    assert v1.decode_schema(group)[0].id == Group.__scim_schema__.id


def test_T169_primitive_shorthand_for_multi_valued_attributes() -> None:
    user = v1.decode({"userName": "b", "roles": ["Tech Lead"], "emails": "b@example.com"}, User)
    assert [(r.value, r.type) for r in user.roles] == [("Tech Lead", None)]
    assert [e.value for e in user.emails] == ["b@example.com"]
    with pytest.raises(InvalidValue):
        v1.decode({"userName": "b", "emails": [{"value": "b@x", "primary": "true"}]}, User,
                  policy=Policy.strict())  # fmt: skip
    lenient = v1.decode({"userName": "b", "emails": [{"value": "b@x", "primary": "true"}]}, User)
    assert lenient.emails[0].primary is True


def test_T166_bulk_status_both_ways() -> None:
    two_0: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkResponse"],
        "Operations": [
            {"method": "POST", "bulkId": "q", "location": "https://x/v1/Users/1",
             "version": 'W/"1"', "status": "201"},
            {"method": "DELETE", "location": "https://x/v1/Users/2", "status": "204"},
            {"method": "PUT", "status": "400",
             "response": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                          "status": "400", "detail": "d"}},
        ],
    }  # fmt: skip
    one_1 = v1.bulk_response_to_v1(two_0)
    assert one_1 == {
        "schemas": [CORE],
        "Operations": [
            {"method": "POST", "bulkId": "q", "location": "https://x/v1/Users/1",
             "version": 'W/"1"', "status": {"code": "201"}},
            {"method": "DELETE", "location": "https://x/v1/Users/2", "status": {"code": "200"}},
            {"method": "PUT", "status": {"code": "400", "description": "d"}},
        ],
    }  # fmt: skip
    back = v1.bulk_response_to_v2(one_1)
    assert back["Operations"][2] == two_0["Operations"][2]
    assert back["Operations"][0] == two_0["Operations"][0]


def test_bulk_request_data_is_translated_per_path() -> None:
    request = v1.bulk_request_to_v2(
        {
            "schemas": [CORE],
            "failOnErrors": 1,
            "Operations": [
                {"method": "PUT", "path": "/v1/Groups/g1", "data": {"displayName": "G"}},
                {"method": "PATCH", "path": "/Users/u1",
                 "data": {"meta": {"attributes": ["title"]}}},
                {"method": "DELETE", "path": "/Users/u2"},
                {"method": "POST", "path": "/Nope", "data": {"x": 1}},
                "not an object",
            ],
        }
    )  # fmt: skip
    assert request == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "failOnErrors": 1,
        "Operations": [
            {"method": "PUT", "path": "/v1/Groups/g1",
             "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                      "displayName": "G"}},
            {"method": "PATCH", "path": "/Users/u1",
             "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                      "Operations": [{"op": "remove", "path": "title"}]}},
            {"method": "DELETE", "path": "/Users/u2"},
            {"method": "POST", "path": "/Nope", "data": {"x": 1}},
            "not an object",
        ],
    }  # fmt: skip


# --- 2.0 PatchOp -> 1.1 body (client side) ------------------------------------------------


def bjensen() -> User:
    user = v1.decode(load("spec-5.8-bjensen-1.1.json"), User)
    user.groups = []
    return user


EQUIVALENT_PATCHES: list[tuple[str, list[dict[str, Any]]]] = [
    ("clear", load("spec-5.8-patch-clear-2.0.json")["Operations"]),
    ("replace emails", [{"op": "replace", "path": "emails", "value": [{"value": "n@x.org"}]}]),
    (
        "pathless",
        [
            {
                "op": "replace",
                "value": {
                    "active": False,
                    "name": {"givenName": "Bab"},
                    ENTERPRISE_2: {"department": "Ops"},
                },
            }
        ],
    ),
    (
        "merge one value",
        [{"op": "replace", "path": 'emails[value eq "babs@jensen.org"].primary', "value": True}],
    ),
    ("manager", [{"op": "replace", "path": f"{ENTERPRISE_2}:manager.value", "value": "m9"}]),
    ("add value", [{"op": "add", "path": "phoneNumbers", "value": [{"value": "555-0000"}]}]),
    ("delete value", [{"op": "remove", "path": 'ims[value eq "someaimhandle"]'}]),
    (
        "delete address",
        [{"op": "remove", "path": 'addresses[type eq "work" and locality eq "Hollywood"]'}],
    ),
    (
        "clear multi",
        [{"op": "remove", "path": "photos"}, {"op": "replace", "path": "roles", "value": []}],
    ),
]


@pytest.mark.parametrize(("case", "operations"), EQUIVALENT_PATCHES)
def test_a_2_0_patch_and_its_1_1_body_do_the_same(
    case: str, operations: list[dict[str, Any]]
) -> None:
    user = bjensen()
    body = v1.encode_patch({"Operations": operations}, User)
    assert body["schemas"][0] == CORE
    expected = apply_patch(
        user, {"schemas": [PatchOp.__scim_schema__.id], "Operations": operations}
    )
    assert apply_patch(user, v1.decode_patch(body, User, current=user)) == expected


def test_spec_5_8_patches_encode_to_their_1_1_bodies() -> None:
    for name, model in (("members", Group), ("clear", User)):
        two_0 = load(f"spec-5.8-patch-{name}-2.0.json")
        one_1 = load(f"spec-5.8-patch-{name}-1.1.json")
        assert v1.encode_patch(two_0, model) == one_1


@pytest.mark.parametrize(
    "operations",
    [
        # T162
        [{"op": "replace", "path": 'addresses[type eq "work"].streetAddress', "value": "x"}],
        [{"op": "remove", "path": 'emails[type eq "work"]'}],
        [{"op": "replace", "path": 'emails[value eq "a@x"]', "value": {"value": "b@x"}}],
        [{"op": "replace", "path": "emails.type", "value": "work"}],
        [{"op": "add", "path": "title", "value": "x"}, {"op": "remove", "path": "title"}],
        [
            {"op": "add", "path": "emails", "value": [{"value": "a@x"}]},
            {"op": "remove", "path": 'emails[value eq "a@x"]'},
        ],
        [{"op": "remove", "path": 'emails[value eq "a@x"].type'}],
        [{"op": "remove", "path": 'emails[value co "a"]'}],
    ],
)
def test_what_1_1_patch_cannot_say_raises(operations: list[dict[str, Any]]) -> None:
    with pytest.raises(v1.NotExpressibleIn11):
        v1.encode_patch({"Operations": operations}, User)


def test_bad_2_0_patches_are_scim_errors() -> None:
    from scimcore.errors import InvalidPath

    with pytest.raises(InvalidPath):
        v1.encode_patch({"Operations": [{"op": "remove", "path": "nosuch"}]}, User)
    with pytest.raises(InvalidValue):
        v1.encode_patch({"Operations": [{"op": "move", "path": "title"}]}, User)
    with pytest.raises(InvalidSyntax):
        v1.encode_patch({"Operations": "x"}, User)


# --- T170: a 2.0 query as 1.1 query parameters (client side) ---------------------------


def test_T170_count_0_and_excluded_attributes_for_a_1_1_provider() -> None:
    assert v1.encode_query(User, count=0) == {"count": "1"}
    assert v1.encode_query(User, count=5, start_index=11) == {"count": "5", "startIndex": "11"}
    expanded = v1.encode_query(
        User, excluded_attributes=["emails", "name.givenName", ENTERPRISE_2]
    )["attributes"].split(",")
    assert "emails" not in expanded
    assert "password" not in expanded  # returned: never
    assert "name.familyName" in expanded
    assert "name.givenName" not in expanded
    assert "name" not in expanded
    assert not [n for n in expanded if n.startswith(ENTERPRISE_1)]
    assert {"id", "userName", "groups", "meta"} <= set(expanded)
    with_enterprise = v1.encode_query(User, excluded_attributes=["title"])["attributes"]
    assert f"{ENTERPRISE_1}:manager" in with_enterprise.split(",")
    assert v1.encode_query(
        User,
        filter=f'{ENTERPRISE_2}:manager.value eq "m"',
        sort_by=f"{ENTERPRISE_2}:manager.value",
        sort_order="descending",
        attributes=["userName", "manager.value"],
    ) == {
        "filter": f'{ENTERPRISE_1}:manager.managerId eq "m"',
        "sortBy": f"{ENTERPRISE_1}:manager.managerId",
        "sortOrder": "descending",
        "attributes": f"userName,{ENTERPRISE_1}:manager.managerId",
    }
    with pytest.raises(v1.NotExpressibleIn11):
        v1.encode_query(User, filter='userName ne "x"')
    with pytest.raises(InvalidValue):
        v1.encode_query(User, attributes=["a"], excluded_attributes=["b"])
