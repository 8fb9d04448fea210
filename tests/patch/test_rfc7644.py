"""The PATCH examples of RFC 7644 §3.5.2, as data, applied to the RFC 7643 §8 resources.

Each case names its section. ``expect`` maps a top-level attribute to its JSON
value after the PATCH (``None``: absent); attributes not named are unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scimcore import NoTarget
from scimcore.codecs.v2 import decode, encode
from scimcore.models import Group, User
from scimcore.patch import apply_patch, patch_result

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BABS = "2819c223-7f76-453a-919d-413861904646"
MANDY = "902c246b-6245-4190-8e05-00816be7344a"
JAMES = "08e1d05d-121c-4561-8b96-473d93df9210"

BABS_MEMBER = {
    "value": BABS,
    "$ref": f"https://example.com/v2/Users/{BABS}",
    "display": "Babs Jensen",
}
MANDY_MEMBER = {
    "value": MANDY,
    "$ref": f"https://example.com/v2/Users/{MANDY}",
    "display": "Mandy Pepperidge",
}
JAMES_MEMBER = {
    "value": JAMES,
    "$ref": f"https://example.com/v2/Users/{JAMES}",
    "display": "James Smith",
}

WORK_ADDRESS = {
    "type": "work",
    "streetAddress": "911 Universal City Plaza",
    "locality": "Hollywood",
    "region": "CA",
    "postalCode": "91608",
    "country": "US",
    "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
    "primary": True,
}

# (section, resource, operations, expect)
CASES: list[tuple[str, str, list[dict[str, Any]], dict[str, Any]]] = [
    (
        "3.5.2.1 add a member to a group (already a member: no change)",
        "group",
        [{"op": "add", "path": "members", "value": [BABS_MEMBER]}],
        {},
    ),
    (
        "3.5.2.1 add a member to a group",
        "group",
        [{"op": "add", "path": "members", "value": [JAMES_MEMBER]}],
        {"members": [BABS_MEMBER, MANDY_MEMBER, JAMES_MEMBER]},
    ),
    (
        "3.5.2.1 add attributes without a path",
        "user",
        [
            {
                "op": "add",
                "value": {
                    "emails": [{"value": "babs@jensen.org", "type": "home"}],
                    "nickname": "Babs",
                },
            }
        ],
        {},  # that email and that nickName are there already: no change
    ),
    (
        "3.5.2.1 add attributes without a path (new values)",
        "user",
        [
            {
                "op": "add",
                "value": {
                    "emails": [{"value": "barbara@jensen.org", "type": "other"}],
                    "nickname": "Barbie",
                },
            }
        ],
        {
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": True},
                {"value": "babs@jensen.org", "type": "home"},
                {"value": "barbara@jensen.org", "type": "other"},
            ],
            "nickName": "Barbie",
        },
    ),
    (
        "3.5.2.2 remove a single member from a group",
        "group",
        [{"op": "remove", "path": f'members[value eq "{BABS}"]'}],
        {"members": [MANDY_MEMBER]},
    ),
    (
        "3.5.2.2 remove a member that is not a member (no change, success)",
        "group",
        [{"op": "remove", "path": f'members[value eq "{JAMES}"]'}],
        {},
    ),
    (
        "3.5.2.2 remove all members of a group",
        "group",
        [{"op": "remove", "path": "members"}],
        {"members": None},
    ),
    (
        "3.5.2.2 remove a value from a complex multi-valued attribute",
        "user",
        [{"op": "remove", "path": 'emails[type eq "work" and value ew "example.com"]'}],
        {"emails": [{"value": "babs@jensen.org", "type": "home"}]},
    ),
    (
        "3.5.2.2 remove and add a member",
        "group",
        [
            # the RFC writes `members[value eq"…"]`, without the space its ABNF requires
            {"op": "remove", "path": f'members[value eq "{BABS}"]'},
            {"op": "add", "path": "members", "value": [JAMES_MEMBER]},
        ],
        {"members": [MANDY_MEMBER, JAMES_MEMBER]},
    ),
    (
        "3.5.2.2 replace all members: remove, then add",
        "group",
        [
            {"op": "remove", "path": "members"},
            {"op": "add", "path": "members", "value": [BABS_MEMBER, JAMES_MEMBER]},
        ],
        {"members": [BABS_MEMBER, JAMES_MEMBER]},
    ),
    (
        "3.5.2.3 replace all members in a single replace",
        "group",
        [{"op": "replace", "path": "members", "value": [BABS_MEMBER, JAMES_MEMBER]}],
        {"members": [BABS_MEMBER, JAMES_MEMBER]},
    ),
    (
        "3.5.2.3 replace the work address (primary: true resets the others)",
        "user",
        [{"op": "replace", "path": 'addresses[type eq "work"]', "value": WORK_ADDRESS}],
        {"addresses": "work-address-replaced"},
    ),
    (
        "3.5.2.3 replace one sub-attribute of the work address",
        "user",
        [
            {
                "op": "replace",
                "path": 'addresses[type eq "work"].streetAddress',
                "value": "1010 Broadway Ave",
            }
        ],
        {"addresses": "street-replaced"},
    ),
    (
        "3.5.2.3 replace attributes without a path",
        "user",
        [
            {
                "op": "replace",
                "value": {
                    "emails": [
                        {"value": "bjensen@example.com", "type": "work", "primary": True},
                        {"value": "babs@jensen.org", "type": "home"},
                    ],
                    "nickname": "Babs",
                },
            }
        ],
        {},  # the same values: no change
    ),
    (
        "3.5.2.3 replace attributes without a path (new values)",
        "user",
        [
            {
                "op": "replace",
                "value": {
                    "emails": [{"value": "babs@jensen.org", "type": "home", "primary": True}],
                    "nickname": "Barbie",
                },
            }
        ],
        {
            "emails": [{"value": "babs@jensen.org", "type": "home", "primary": True}],
            "nickName": "Barbie",
        },
    ),
]


def _expected(doc: dict[str, Any], expect: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for key, value in expect.items():
        if value == "work-address-replaced":
            home = dict(out["addresses"][1])
            value = [WORK_ADDRESS, home]
        elif value == "street-replaced":
            work = dict(out["addresses"][0], streetAddress="1010 Broadway Ave")
            value = [work, out["addresses"][1]]
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize(
    ("section", "kind", "operations", "expect"), CASES, ids=[c[0] for c in CASES]
)
def test_rfc7644_example(
    section: str,
    kind: str,
    operations: list[dict[str, Any]],
    expect: dict[str, Any],
    user_doc: dict[str, Any],
    group_doc: dict[str, Any],
) -> None:
    doc = user_doc if kind == "user" else group_doc
    model: type[User] | type[Group] = User if kind == "user" else Group
    resource = decode(doc, model)
    before = encode(resource, full=True)
    result = patch_result(resource, {"schemas": [PATCH_OP], "Operations": operations})
    assert encode(result.resource, full=True) == _expected(before, expect)
    assert result.changed is bool(expect)
    assert encode(resource, full=True) == before  # the input is untouched


def test_rfc7644_3_5_2_3_unmatched_filter_is_no_target(user: User) -> None:
    """RFC 7644 §3.5.2.3: a valuePath that matches nothing is noTarget (strict reading)."""
    from scimcore import Policy

    with pytest.raises(NoTarget) as caught:
        apply_patch(
            user,
            {
                "schemas": [PATCH_OP],
                "Operations": [
                    {"op": "replace", "path": 'emails[type eq "other"].value', "value": "x@y.z"}
                ],
            },
            policy=Policy.strict(),
        )
    assert caught.value.location == "$.Operations[0].path"


FIGURE_8 = [
    ("group", "members"),
    ("user", "name.familyName"),
    ("user", 'addresses[type eq "work"]'),
    ("group", f'members[value eq "{BABS}"]'),
]


@pytest.mark.parametrize(("kind", "path"), FIGURE_8)
def test_rfc7644_figure_8_paths_remove(kind: str, path: str, user: User, group: Group) -> None:
    """RFC 7644 §3.5.2 Figure 8: each example path names something to remove."""
    resource: User | Group = user if kind == "user" else group
    result = patch_result(
        resource, {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": path}]}
    )
    assert result.changed


def test_rfc7644_figure_8_display_name_defect(group: Group) -> None:
    """Figure 8's last path names members.displayName, which members does not have (it has
    "display"): invalidPath, located at the path."""
    from scimcore import InvalidPath

    with pytest.raises(InvalidPath) as caught:
        apply_patch(
            group,
            {
                "schemas": [PATCH_OP],
                "Operations": [
                    {
                        "op": "replace",
                        "path": f'members[value eq "{BABS}"].displayName',
                        "value": "Babs",
                    }
                ],
            },
        )
    assert caught.value.location == "$.Operations[0].path"
    assert "'members' has no sub-attribute 'displayName'" in caught.value.detail
