"""``User.groups`` computed from memberships, usable in filters; group PATCH as IdPs send it.

RFC 7643 §4.1.2: ``groups`` is read-only and "MUST NOT" be set on a User;
membership changes go through the Group resource.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from scimcore.models import User
from scimcore.service import ScimService
from scimcore.stores import MemoryStore

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def user(http: Any) -> dict[str, Any]:
    reply = http.post("/Users", {"schemas": [USER], "userName": f"m-{uuid.uuid4().hex[:10]}"})
    assert reply.status == 201
    document: dict[str, Any] = reply.json
    return document


def group(http: Any, *members: str) -> dict[str, Any]:
    body = {
        "schemas": [GROUP],
        "displayName": f"g-{uuid.uuid4().hex[:10]}",
        "members": [{"value": m} for m in members],
    }
    reply = http.post("/Groups", body)
    assert reply.status == 201, reply
    document: dict[str, Any] = reply.json
    return document


def patch(http: Any, path: str, *operations: dict[str, Any]) -> Any:
    return http.patch(path, {"schemas": [PATCH_OP], "Operations": list(operations)})


def member_ids(http: Any, group_id: str) -> list[str]:
    return [m["value"] for m in http.get(f"/Groups/{group_id}").json.get("members", [])]


def test_groups_are_computed_on_every_read(http: Any) -> None:
    u = user(http)
    assert "groups" not in u
    g = group(http, u["id"])
    reply = http.get(f"/Users/{u['id']}")
    assert reply.json["groups"] == [
        {
            "value": g["id"],
            "$ref": f"{http.base}/Groups/{g['id']}",
            "display": g["displayName"],
            "type": "direct",
        }
    ]
    by_name = quote('userName eq "' + u["userName"] + '"')
    listed = http.get(f"/Users?filter={by_name}").json
    assert listed["Resources"][0]["groups"][0]["value"] == g["id"]
    assert http.get(f"/Users/{u['id']}?attributes=groups").json["groups"][0]["value"] == g["id"]


def test_groups_are_usable_in_filters(http: Any) -> None:
    u1, u2 = user(http), user(http)
    g = group(http, u1["id"])
    by_id = quote('groups.value eq "' + g["id"] + '"')
    by_value = http.get(f"/Users?filter={by_id}").json
    assert [r["id"] for r in by_value["Resources"]] == [u1["id"]]
    by_display = f'groups[display eq "{g["displayName"]}"] and userName pr'
    assert [r["id"] for r in http.get(f"/Users?filter={quote(by_display)}").json["Resources"]] == [
        u1["id"]
    ]
    mine = f'userName eq "{u2["userName"]}" and not (groups pr)'
    assert http.get(f"/Users?filter={quote(mine)}").json["totalResults"] == 1
    ne = f'userName eq "{u1["userName"]}" and groups.value ne "{g["id"]}"'
    assert http.get(f"/Users?filter={quote(ne)}").json["totalResults"] == 0


def test_groups_compared_with_null_by_another_operator_match_nothing(http: Any) -> None:
    # Only `eq null` is "not pr" (and `ne null` is "pr"); `gt null` and the others match
    # nothing, as in the evaluator. `scimcore check` found the service matching every user
    # in no group.
    member, loner = user(http), user(http)
    group(http, member["id"])
    for op, found in (("eq", [loner]), ("ne", [member]), ("gt", []), ("le", []), ("co", [])):
        names = " or ".join(f'userName eq "{u["userName"]}"' for u in (member, loner))
        text = f"({names}) and groups.type {op} null"
        listed = http.get(f"/Users?filter={quote(text)}").json.get("Resources", [])
        assert [r["id"] for r in listed] == [u["id"] for u in found], op


def test_T094_groups_in_a_user_body_are_ignored(http: Any) -> None:
    g = group(http)
    reply = http.post(
        "/Users",
        {
            "schemas": [USER],
            "userName": f"x-{uuid.uuid4().hex[:8]}",
            "groups": [{"value": g["id"]}],
        },
    )
    assert reply.status == 201
    assert "groups" not in reply.json
    assert member_ids(http, g["id"]) == []


def test_deleting_a_user_removes_it_from_its_groups(http: Any) -> None:
    u1, u2 = user(http), user(http)
    g1 = group(http, u1["id"], u2["id"])
    g2 = group(http, u1["id"])
    assert http.delete(f"/Users/{u1['id']}").status == 204
    assert member_ids(http, g1["id"]) == [u2["id"]]
    assert member_ids(http, g2["id"]) == []


def test_O6_okta_membership_patch(http: Any) -> None:
    u1, u2 = user(http), user(http)
    g = group(http, u1["id"])
    reply = patch(
        http,
        f"/Groups/{g['id']}",
        {"op": "remove", "path": f'members[value eq "{u1["id"]}"]'},
        {"op": "add", "path": "members", "value": [{"value": u2["id"], "display": "u2"}]},
    )
    assert reply.status == 200
    assert member_ids(http, g["id"]) == [u2["id"]]
    assert "groups" not in http.get(f"/Users/{u1['id']}").json
    assert http.get(f"/Users/{u2['id']}").json["groups"][0]["value"] == g["id"]


def test_E5_entra_removes_members_by_value_only_those(http: Any) -> None:
    u1, u2 = user(http), user(http)
    g = group(http, u1["id"], u2["id"])
    reply = patch(
        http,
        f"/Groups/{g['id']}",
        {"op": "Remove", "path": "members", "value": [{"value": u1["id"]}]},
    )
    assert reply.status == 200
    assert member_ids(http, g["id"]) == [u2["id"]]


def test_O7_replace_members_with_an_empty_list_clears(http: Any) -> None:
    u = user(http)
    g = group(http, u["id"])
    assert (
        patch(http, f"/Groups/{g['id']}", {"op": "replace", "path": "members", "value": []}).status
        == 200
    )
    assert member_ids(http, g["id"]) == []


def test_O5_okta_rename_with_the_id_in_the_value(http: Any) -> None:
    g = group(http)
    reply = patch(
        http,
        f"/Groups/{g['id']}",
        {"op": "replace", "value": {"id": g["id"], "displayName": f"renamed-{g['id']}"}},
    )
    assert reply.status == 200
    assert reply.json["displayName"] == f"renamed-{g['id']}"


def test_E13_groups_without_members(http: Any) -> None:
    u = user(http)
    g = group(http, u["id"])
    reply = http.get(f"/Groups/{g['id']}?excludedAttributes=members")
    assert "members" not in reply.json
    flt = quote(f'displayName eq "{g["displayName"]}"')
    listed = http.get(f"/Groups?excludedAttributes=members&filter={flt}").json
    assert listed["totalResults"] == 1
    assert "members" not in listed["Resources"][0]


def test_a_service_may_serve_users_only(serve: Any) -> None:
    client = serve(ScimService(MemoryStore(), resource_types=(User,)), token=None)
    assert client.get("/Groups").status == 404
    types = client.get("/ResourceTypes").json
    assert [t["name"] for t in types["Resources"]] == ["User"]
    schemas = [s["id"] for s in client.get("/Schemas").json["Resources"]]
    assert GROUP not in schemas
    reply = client.post("/Users", {"schemas": [USER], "userName": "solo"})
    assert reply.status == 201
    assert "groups" not in client.get(f"/Users/{reply.json['id']}").json
