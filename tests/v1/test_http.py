"""SCIM 1.1 over real HTTP: Okta's 1.1 request shapes (O11 in docs/policy.md),
one store seen through both /scim/v1 and /scim/v2, 1.1 errors, discovery, sort and paging.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest

CORE = "urn:scim:schemas:core:1.0"
ENTERPRISE_1 = "urn:scim:schemas:extension:enterprise:1.0"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_2 = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def unique(prefix: str = "test.user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@okta.local"


def query(text: str) -> str:
    return quote(text, safe="")


def okta_user(name: str) -> dict[str, Any]:
    """Okta's SCIM 1.1 create body (its scim-11 reference), for ``name``."""
    return {
        "schemas": [CORE],
        "userName": name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": True, "value": name, "type": "work"}],
        "displayName": "Test User",
        "locale": "en_US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": True,
    }


def assert_errors(reply: Any, status: int) -> str:
    """The 1.1 error envelope; returns the description."""
    assert reply.status == status, reply
    assert reply.headers["content-type"] == "application/json"
    body = reply.json
    assert list(body) == ["Errors"]
    (error,) = body["Errors"]
    assert error["code"] == str(status)
    assert isinstance(error["description"], str)
    description: str = error["description"]
    return description


# --- Okta O11: the provisioning cycle ---------------------------------------------------


def test_okta_existence_check_on_an_empty_result_is_the_1_1_list_response(v1: Any) -> None:
    text = query(f'userName eq "{unique()}"')
    reply = v1.get(f"/Users?filter={text}&startIndex=1&count=100")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.json == {
        "schemas": [CORE],
        "totalResults": 0,
        "itemsPerPage": 0,
        "startIndex": 1,
        "Resources": [],
    }


def test_okta_create_lookup_deactivate_and_duplicate(v1: Any, v2: Any) -> None:
    name = unique()
    created = v1.post("/Users", okta_user(name))
    assert created.status == 201, created
    body = created.json
    assert body["schemas"] == [CORE]
    assert body["userName"] == name
    assert body["locale"] == "en_US"  # values are never rewritten
    assert "password" not in body
    assert body["meta"]["version"] == created.headers["etag"]
    assert "resourceType" not in body["meta"]
    assert body["meta"]["location"] == f"{v1.base}/Users/{body['id']}"
    assert created.headers["location"] == body["meta"]["location"]
    user_id = body["id"]

    # lookup by userName filter, case-insensitively (Okta's "Username Case Sensitivity Check")
    for text in (name, name.upper()):
        wanted = query(f'userName eq "{text}"')
        found = v1.get(f"/Users?filter={wanted}&startIndex=1&count=100")
        assert found.status == 200
        assert found.json["totalResults"] == 1
        assert found.json["schemas"] == [CORE]
        assert [r["id"] for r in found.json["Resources"]] == [user_id]

    # deactivate: PATCH with a partial resource carrying the id
    patched = v1.patch(f"/Users/{user_id}", {"schemas": [CORE], "id": user_id, "active": False})
    assert patched.status == 200, patched
    assert patched.json["active"] is False
    assert patched.json["userName"] == name
    assert patched.json["emails"] == [{"value": name, "type": "work", "primary": True}]
    assert v2.get(f"/Users/{user_id}").json["active"] is False

    # duplicate create: 409 in the Errors envelope
    description = assert_errors(v1.post("/Users", okta_user(name)), 409)
    assert description.startswith("[uniqueness] ")


def test_okta_group_push_member_add_and_delete(v1: Any, v2: Any) -> None:
    name = unique()
    user_id = v1.post("/Users", okta_user(name)).json["id"]
    group = v1.post(
        "/Groups",
        {
            "schemas": [CORE, "urn:okta:custom:group:1.0"],
            "displayName": f"Test Group {uuid.uuid4().hex[:6]}",
            "members": [],
            "urn:okta:custom:group:1.0": {"description": "pushed by Okta"},
        },
    )
    assert group.status == 201, group
    assert group.json["schemas"] == [CORE]
    group_id = group.json["id"]

    add = {"schemas": [CORE], "members": [{"value": user_id, "display": name}]}
    added = v1.patch(f"/Groups/{group_id}", add)
    assert added.status == 200, added
    assert added.json["members"] == [{"value": user_id, "display": name}]
    # Okta pushes the same membership again: still one member
    assert v1.patch(f"/Groups/{group_id}", add).json["members"] == [
        {"value": user_id, "display": name}
    ]
    # the membership is visible on the user, over both versions
    groups_1 = v1.get(f"/Users/{user_id}").json["groups"]
    assert groups_1 == [{"value": group_id, "display": group.json["displayName"], "type": "direct"}]
    groups_2 = v2.get(f"/Users/{user_id}").json["groups"]
    assert groups_2[0]["$ref"] == f"{v2.base}/Groups/{group_id}"

    remove = {
        "schemas": [CORE],
        "members": [{"value": user_id, "display": name, "operation": "delete"}],
    }
    removed = v1.patch(f"/Groups/{group_id}", remove)
    assert removed.status == 200, removed
    assert "members" not in removed.json
    assert v2.get(f"/Groups/{group_id}").json.get("members") is None
    assert "groups" not in v1.get(f"/Users/{user_id}").json


def test_meta_attributes_and_extension_merge_over_http(v1: Any, v2: Any) -> None:
    name = unique()
    created = v2.post(
        "/Users",
        {
            "schemas": [USER, ENTERPRISE_2],
            "userName": name,
            "title": "Tour Guide",
            "name": {"givenName": "Barbara", "familyName": "Jensen", "honorificPrefix": "Ms."},
            ENTERPRISE_2: {"department": "Tour Operations", "manager": {"value": "2611"}},
        },
    )
    user_id = created.json["id"]
    got = v1.get(f"/Users/{user_id}").json
    assert got["schemas"] == [CORE, ENTERPRISE_1]
    assert got[ENTERPRISE_1]["manager"] == {"managerId": "2611"}

    reply = v1.patch(
        f"/Users/{user_id}",
        {
            "schemas": [CORE, ENTERPRISE_1],
            "meta": {"attributes": ["title", "name.honorificPrefix"]},
            ENTERPRISE_1: {"department": "Tour Ops"},
        },
    )
    assert reply.status == 200, reply
    assert "title" not in reply.json
    assert reply.json["name"] == {"givenName": "Barbara", "familyName": "Jensen"}
    assert reply.json[ENTERPRISE_1] == {"department": "Tour Ops", "manager": {"managerId": "2611"}}

    text = query(f'{ENTERPRISE_1}.department eq "tour ops" and userName eq "{name}"')
    filtered = v1.get(f"/Users?filter={text}")
    assert [r["id"] for r in filtered.json["Resources"]] == [user_id]
    text = query(f'manager.managerId eq "2611" and userName eq "{name}"')
    names = query(f"userName,{ENTERPRISE_1}:manager.managerId")
    by_manager = v1.get(f"/Users?filter={text}&attributes={names}")
    assert by_manager.json["Resources"] == [
        {
            "schemas": [CORE, ENTERPRISE_1],
            "id": user_id,
            "userName": name,
            ENTERPRISE_1: {"manager": {"managerId": "2611"}},
        }
    ]


def test_a_user_created_over_2_0_is_a_1_1_user_and_back(v1: Any, v2: Any) -> None:
    name = unique()
    created_2 = v2.post("/Users", {"schemas": [USER], "userName": name, "nickName": "Babs"})
    seen_1 = v1.get(f"/Users/{created_2.json['id']}")
    assert seen_1.status == 200
    assert seen_1.json["nickName"] == "Babs"
    assert seen_1.headers["etag"] == created_2.headers["etag"]

    other = unique()
    created_1 = v1.post("/Users", okta_user(other))
    seen_2 = v2.get(f"/Users/{created_1.json['id']}").json
    assert seen_2["schemas"] == [USER]
    assert seen_2["meta"]["resourceType"] == "User"
    assert seen_2["userName"] == other
    # PUT over 1.1 replaces; the password (never returned) is kept when omitted
    replaced = v1.put(
        f"/Users/{created_1.json['id']}",
        {"schemas": [CORE], "userName": other, "displayName": "Renamed"},
    )
    assert replaced.status == 200, replaced
    assert replaced.json["displayName"] == "Renamed"
    assert "emails" not in replaced.json


def test_delete_is_200_in_1_1(v1: Any, v2: Any) -> None:
    user_id = v1.post("/Users", okta_user(unique())).json["id"]
    reply = v1.delete(f"/Users/{user_id}")
    assert reply.status == 200
    assert reply.body == b""
    assert v2.get(f"/Users/{user_id}").status == 404
    assert_errors(v1.get(f"/Users/{user_id}"), 404)


def test_sort_and_paging(v1: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    names = [f"{letter}-{tag}@okta.local" for letter in "bca"]
    for name in names:
        assert v1.post("/Users", okta_user(name)).status == 201
    text = query(f'userName co "{tag}"')
    page = v1.get(f"/Users?filter={text}&sortBy=userName&sortOrder=descending&startIndex=2&count=1")
    assert page.json["totalResults"] == 3
    assert page.json["startIndex"] == 2
    assert page.json["itemsPerPage"] == 1
    assert [r["userName"] for r in page.json["Resources"]] == [f"b-{tag}@okta.local"]
    # count=0 is not defined by 1.1: the server's page size applies
    everything = v1.get(f"/Users?filter={text}&sortBy=urn:scim:schemas:core:1.0:userName&count=0")
    assert [r["userName"] for r in everything.json["Resources"]] == sorted(names)


# --- errors, protocol details, discovery --------------------------------------------------


@pytest.mark.parametrize(
    "text", ['userName ne "x"', 'userName ew "x"', 'not (userName eq "x")', 'emails[type eq "x"]']
)
def test_2_0_only_filters_are_invalid_filter_in_1_1(v1: Any, text: str) -> None:
    assert assert_errors(v1.get(f"/Users?filter={query(text)}"), 400).startswith("[invalidFilter] ")


def test_auth_and_unknown_paths_answer_in_the_errors_envelope(v1: Any, anonymous: Any) -> None:
    reply = anonymous.get("/Users")
    assert_errors(reply, 401)
    assert reply.headers["www-authenticate"].startswith("Bearer")
    assert_errors(v1.get("/Nope"), 404)
    not_allowed = v1.delete("/Users")
    assert_errors(not_allowed, 405)
    assert not_allowed.headers["allow"] == "GET, POST"
    assert_errors(v1.get("/Me"), 404)


def test_method_override_and_json_suffix(v1: Any) -> None:
    user_id = v1.post("/Users", okta_user(unique())).json["id"]
    reply = v1.post(
        f"/Users/{user_id}",
        {"schemas": [CORE], "nickName": "Over"},
        headers={"X-HTTP-Method-Override": "PATCH"},
    )
    assert reply.status == 200, reply
    assert reply.json["nickName"] == "Over"
    assert v1.get(f"/Users/{user_id}.json").json["nickName"] == "Over"


def test_discovery_documents(v1: Any, anonymous: Any) -> None:
    config = anonymous.get("/ServiceProviderConfigs")
    assert config.status == 200
    document = config.json
    assert document["schemas"] == [CORE]
    assert document["patch"] == {"supported": True}
    assert document["xmlDataFormat"] == {"supported": False}
    assert document["filter"] == {"supported": True, "maxResults": 1000}
    assert document["authenticationSchemes"][0]["specUrl"] == (
        "https://www.rfc-editor.org/rfc/rfc6750"
    )
    assert "pagination" not in document

    schemas = v1.get("/Schemas").json
    assert schemas["totalResults"] == 2
    user = v1.get("/Schemas/Users").json
    assert user["name"] == "User"
    assert user["endpoint"] == "/Users"
    assert user["schema"] == CORE
    by_name = {a["name"]: a for a in user["attributes"]}
    assert by_name["id"]["readOnly"] is True
    assert by_name["userName"]["required"] is True
    assert by_name["manager"]["schema"] == ENTERPRISE_1
    assert [s["name"] for s in by_name["manager"]["subAttributes"]] == ["managerId", "displayName"]
    assert v1.get("/Schemas/Groups").json["endpoint"] == "/Groups"
    assert_errors(v1.get("/Schemas/Nope"), 404)


def test_bulk_over_1_1(v1: Any, v2: Any) -> None:
    name = unique("bulk")
    request = {
        "schemas": [CORE],
        "failOnErrors": 2,
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "qwerty",
             "data": {"schemas": [CORE], "userName": name}},
            {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
             "data": {"schemas": [CORE], "displayName": f"Bulk {name}",
                      "members": [{"value": "bulkId:qwerty"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "dup",
             "data": {"schemas": [CORE], "userName": name}},
        ],
    }  # fmt: skip
    reply = v1.post("/Bulk", request)
    assert reply.status == 200, reply
    document = reply.json
    assert document["schemas"] == [CORE]
    user_op, group_op, dup_op = document["Operations"]
    assert user_op["status"] == {"code": "201"}
    assert user_op["location"].startswith(f"{v1.base}/Users/")
    assert group_op["status"] == {"code": "201"}
    assert dup_op["status"]["code"] == "409"
    assert dup_op["status"]["description"].startswith("[uniqueness] ")
    user_id = user_op["location"].rsplit("/", 1)[1]
    group_id = group_op["location"].rsplit("/", 1)[1]
    assert v2.get(f"/Groups/{group_id}").json["members"][0]["value"] == user_id

    patch_and_delete = {
        "schemas": [CORE],
        "Operations": [
            {"method": "PATCH", "path": f"/Groups/{group_id}",
             "data": {"schemas": [CORE], "members": [{"value": user_id, "operation": "delete"}]}},
            {"method": "DELETE", "path": f"/Users/{user_id}"},
        ],
    }  # fmt: skip
    reply = v1.post("/Bulk", patch_and_delete)
    assert [op["status"] for op in reply.json["Operations"]] == [{"code": "200"}, {"code": "200"}]
    assert "members" not in v1.get(f"/Groups/{group_id}").json
    assert_errors(v1.post("/Bulk", {"schemas": [CORE]}), 400)
