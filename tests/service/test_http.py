"""RFC 7644 behaviour over real HTTP: lifecycle, media types, errors, auth, ETags, discovery.

Each test names the RFC section it checks.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from scimcore.errors import ERROR_LOCATION_SCHEMA

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def unique(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def new_user(http: Any, **extra: Any) -> dict[str, Any]:
    body = {"schemas": [USER], "userName": unique(), **extra}
    reply = http.post("/Users", body)
    assert reply.status == 201, reply
    document: dict[str, Any] = reply.json
    return document


def assert_error(reply: Any, status: int, scim_type: str | None = None) -> None:
    assert reply.status == status, reply
    assert reply.headers["content-type"] == "application/scim+json"
    body = reply.json
    # The scimcore extension names the bad value, when the error is about one.
    assert body["schemas"] in ([ERROR], [ERROR, ERROR_LOCATION_SCHEMA])
    assert body["status"] == str(status)  # a JSON string (RFC 7644 §3.12)
    assert body.get("scimType") == scim_type


# --- D. Resource lifecycle (RFC 7644 §3.3, §3.4.1, §3.5.1, §3.6) -------------------


def test_T071_create_returns_201_location_and_meta(http: Any) -> None:
    name = unique()
    reply = http.post("/Users", {"schemas": [USER], "userName": name})
    assert reply.status == 201
    assert reply.headers["content-type"] == "application/scim+json"
    body = reply.json
    assert body["userName"] == name
    assert body["id"]
    assert reply.headers["location"] == body["meta"]["location"]
    assert body["meta"]["location"] == f"{http.base}/Users/{body['id']}"
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["created"] == body["meta"]["lastModified"]
    assert reply.headers["etag"] == body["meta"]["version"]


def test_T072_duplicate_username_is_409_uniqueness_case_insensitively(http: Any) -> None:
    name = unique()
    assert http.post("/Users", {"schemas": [USER], "userName": name}).status == 201
    assert_error(
        http.post("/Users", {"schemas": [USER], "userName": name.upper()}), 409, "uniqueness"
    )


def test_T073_read_only_id_meta_groups_in_a_create_are_ignored(http: Any) -> None:
    reply = http.post(
        "/Users",
        {
            "schemas": [USER],
            "userName": unique(),
            "id": "chosen-by-client",
            "meta": {"resourceType": "Group", "created": "2001-01-01T00:00:00Z"},
            "groups": [{"value": "g1"}],
        },
    )
    assert reply.status == 201
    body = reply.json
    assert body["id"] != "chosen-by-client"
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["created"] != "2001-01-01T00:00:00Z"
    assert "groups" not in body


def test_T074_missing_required_attributes_are_400(http: Any) -> None:
    reply = http.post("/Users", {"schemas": [USER], "displayName": "No user name"})
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidValue"
    reply = http.post("/Groups", {"schemas": [GROUP]})
    assert reply.status == 400  # Group displayName is required (erratum 5368)


def test_T077_attribute_names_are_case_insensitive_and_output_canonical(http: Any) -> None:
    reply = http.post(
        "/Users", {"SCHEMAS": [USER], "USERNAME": unique(), "NAME": {"GIVENNAME": "B"}}
    )
    assert reply.status == 201, reply
    assert reply.json["name"] == {"givenName": "B"}
    assert "userName" in reply.json


def test_T080_unknown_id_is_404_with_an_error_body(http: Any) -> None:
    assert_error(http.get("/Users/does-not-exist"), 404)
    assert_error(http.get(f"/{uuid.uuid4()}"), 404)


def test_T082_put_replaces_clears_omitted_and_keeps_created(http: Any) -> None:
    user = new_user(http, nickName="Babs", title="Boss")
    reply = http.put(
        f"/Users/{user['id']}", {"schemas": [USER], "userName": user["userName"], "title": "CEO"}
    )
    assert reply.status == 200, reply
    body = reply.json
    assert body["title"] == "CEO"
    assert "nickName" not in body
    assert body["meta"]["created"] == user["meta"]["created"]
    assert body["meta"]["lastModified"] >= user["meta"]["lastModified"]
    assert body["meta"]["version"] != user["meta"]["version"]
    assert "nickName" not in http.get(f"/Users/{user['id']}").json


def test_T084_put_never_creates(http: Any) -> None:
    reply = http.put("/Users/nobody", {"schemas": [USER], "userName": unique()})
    assert_error(reply, 404)


def test_T085_put_without_required_username_is_400(http: Any) -> None:
    user = new_user(http)
    reply = http.put(f"/Users/{user['id']}", {"schemas": [USER], "displayName": "x"})
    assert reply.status == 400


def test_T086_put_with_another_id_in_the_body_ignores_it(http: Any) -> None:
    user = new_user(http)
    reply = http.put(
        f"/Users/{user['id']}", {"schemas": [USER], "id": "other", "userName": user["userName"]}
    )
    assert reply.status == 200
    assert reply.json["id"] == user["id"]


def test_put_keeps_a_password_the_client_could_not_have_read(http: Any) -> None:
    user = new_user(http, password="t1meMa$heen")
    assert "password" not in user  # returned: never
    reply = http.put(f"/Users/{user['id']}", {"schemas": [USER], "userName": user["userName"]})
    assert reply.status == 200
    assert "password" not in reply.json


def test_T087_delete_is_204_then_404_everywhere(http: Any) -> None:
    user = new_user(http)
    path = f"/Users/{user['id']}"
    reply = http.delete(path)
    assert reply.status == 204
    assert reply.body == b""
    assert_error(http.get(path), 404)
    assert_error(http.delete(path), 404)
    assert_error(http.put(path, {"schemas": [USER], "userName": user["userName"]}), 404)
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": "x"}],
    }
    assert_error(http.patch(path, patch), 404)


def test_T088_a_deleted_username_can_be_used_again(http: Any) -> None:
    user = new_user(http)
    assert http.delete(f"/Users/{user['id']}").status == 204
    assert http.post("/Users", {"schemas": [USER], "userName": user["userName"]}).status == 201


def test_T089_json_media_types_are_accepted_scim_json_is_answered(http: Any) -> None:
    for content_type in ("application/json", "application/scim+json; charset=utf-8", "text/json"):
        reply = http.request(
            "POST",
            "/Users",
            raw=f'{{"schemas": ["{USER}"], "userName": "{unique()}"}}'.encode(),
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        assert reply.status == 201, (content_type, reply)
        assert reply.headers["content-type"] == "application/scim+json"


def test_a_body_that_is_not_json_is_415(http: Any) -> None:
    reply = http.request(
        "POST",
        "/Users",
        raw=b"userName=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(reply, 415)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b"", b'{"userName": NaN}', b"\xff\xfe{}", b"[" * 30_000],
    ids=["broken", "array", "empty", "nan", "not-utf8", "deep"],
)
def test_T090_malformed_json_is_400_invalid_syntax(http: Any, raw: bytes) -> None:
    reply = http.request(
        "POST", "/Users", raw=raw, headers={"Content-Type": "application/scim+json"}
    )
    assert_error(reply, 400, "invalidSyntax")


def test_T091_version_segment(http: Any) -> None:
    assert http.get("/v2/ServiceProviderConfig").status == 200
    assert http.get("/v2/Users").status == 200
    assert_error(http.get("/v3/Users"), 400, "invalidVers")


def test_T092_no_or_bad_credentials_are_401_with_www_authenticate(http: Any) -> None:
    saved = http.token
    try:
        http.token = None
        reply = http.get("/Users")
        assert_error(reply, 401)
        assert reply.headers["www-authenticate"] == 'Bearer realm="SCIM"'
        http.token = "wrong"
        reply = http.get("/Users/x")
        assert_error(reply, 401)
        assert reply.headers["www-authenticate"] == 'Bearer realm="SCIM", error="invalid_token"'
        # Unknown paths do not tell a stranger what exists.
        assert_error(http.get("/Nope"), 401)
        # The service provider configuration (its authenticationSchemes) is public.
        assert http.get("/ServiceProviderConfig").status == 200
    finally:
        http.token = saved


def test_T093_null_and_empty_list_clear_attributes_on_put(http: Any) -> None:
    user = new_user(http, nickName="Babs", emails=[{"value": "b@example.com"}])
    reply = http.put(
        f"/Users/{user['id']}",
        {"schemas": [USER], "userName": user["userName"], "nickName": None, "emails": []},
    )
    assert reply.status == 200
    assert "nickName" not in reply.json
    assert "emails" not in reply.json


def test_request_bodies_over_max_payload_size_are_413(http: Any) -> None:
    body = {"schemas": [USER], "userName": unique(), "title": "x" * 70_000}
    reply = http.post("/Users", body)
    assert_error(reply, 413)
    assert "maxPayloadSize (64000)" in reply.json["detail"]
    huge = http.request(
        "POST", "/Users", raw=b"x" * 5_000_000, headers={"Content-Type": "application/scim+json"}
    )
    assert_error(huge, 413)


# --- PATCH (RFC 7644 §3.5.2) ----------------------------------------------------------


def test_T123_patch_answers_200_with_the_resource(http: Any) -> None:
    user = new_user(http)
    patch = {
        "schemas": [PATCH_OP],
        # As Entra sends it: a capitalised op, a string boolean (Policy.string_booleans).
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
    reply = http.patch(f"/Users/{user['id']}", patch)
    assert reply.status == 200, reply
    assert reply.json["active"] is False
    assert reply.headers["etag"] == reply.json["meta"]["version"]
    assert reply.json["meta"]["version"] != user["meta"]["version"]


def test_T066_patch_with_attributes_is_200_with_the_projection(http: Any) -> None:
    user = new_user(http, title="x")
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": "y"}],
    }
    reply = http.patch(f"/Users/{user['id']}?attributes=userName", patch)
    assert reply.status == 200
    assert set(reply.json) == {"schemas", "id", "userName"}


def test_T099_a_patch_that_changes_nothing_keeps_the_etag(http: Any) -> None:
    user = new_user(http, title="Same")
    patch = {"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "title", "value": "Same"}]}
    reply = http.patch(f"/Users/{user['id']}", patch)
    assert reply.status == 200
    assert reply.headers["etag"] == user["meta"]["version"]
    assert reply.json["meta"]["lastModified"] == user["meta"]["lastModified"]


def test_T120_a_failing_patch_changes_nothing(http: Any) -> None:
    user = new_user(http, displayName="Old", emails=[{"value": "a@x.org", "type": "work"}])
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "replace", "path": "displayName", "value": "New"},
            {"op": "replace", "path": "meta.created", "value": "2001-01-01T00:00:00Z"},
        ],
    }
    reply = http.patch(f"/Users/{user['id']}", patch)
    assert reply.status == 400
    assert reply.json["scimType"] == "mutability"
    again = http.get(f"/Users/{user['id']}")
    assert again.json["displayName"] == "Old"
    assert again.headers["etag"] == user["meta"]["version"]


def test_T095_patch_without_the_patchop_schema_is_400(http: Any) -> None:
    user = new_user(http)
    reply = http.patch(
        f"/Users/{user['id']}", {"Operations": [{"op": "add", "path": "title", "value": "x"}]}
    )
    assert reply.status == 400


def test_T108_patch_of_a_read_only_attribute_is_mutability(http: Any) -> None:
    user = new_user(http)
    patch = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "id", "value": "x"}]}
    assert_error(http.patch(f"/Users/{user['id']}", patch), 400, "mutability")


# --- F. ETags (RFC 7644 §3.14) ----------------------------------------------------------


def test_T130_T134_etag_on_every_read_and_write_and_stable_between_reads(http: Any) -> None:
    user = new_user(http)
    first = http.get(f"/Users/{user['id']}")
    second = http.get(f"/Users/{user['id']}")
    assert first.headers["etag"] == second.headers["etag"] == first.json["meta"]["version"]
    assert first.headers["etag"].startswith('W/"')


def test_T131_if_none_match_gives_304_when_current(http: Any) -> None:
    user = new_user(http)
    path = f"/Users/{user['id']}"
    tag = user["meta"]["version"]
    reply = http.get(path, headers={"If-None-Match": tag})
    assert reply.status == 304
    assert reply.body == b""
    assert reply.headers["etag"] == tag
    assert http.get(path, headers={"If-None-Match": 'W/"stale"'}).status == 200


def test_T132_stale_if_match_is_412_and_nothing_changes(http: Any) -> None:
    user = new_user(http, title="Kept")
    path = f"/Users/{user['id']}"
    stale = {"If-Match": 'W/"stale"'}
    body = {"schemas": [USER], "userName": user["userName"], "title": "Changed"}
    assert_error(http.put(path, body, headers=stale), 412)
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": "x"}],
    }
    assert_error(http.patch(path, patch, headers=stale), 412)
    assert_error(http.delete(path, headers=stale), 412)
    assert http.get(path).json["title"] == "Kept"


def test_T133_weak_and_star_if_match_succeed(http: Any) -> None:
    user = new_user(http)
    path = f"/Users/{user['id']}"
    opaque = user["meta"]["version"].removeprefix("W/")
    patch: dict[str, Any] = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": "a"}],
    }
    reply = http.patch(path, patch, headers={"If-Match": opaque})
    assert reply.status == 200
    patch["Operations"][0]["value"] = "b"
    assert http.patch(path, patch, headers={"If-Match": "*"}).status == 200
    assert http.delete(path, headers={"If-Match": reply.headers["etag"]}).status == 412
    assert http.delete(path, headers={"If-Match": "*"}).status == 204


# --- H. Discovery (RFC 7644 §4) ---------------------------------------------------------


def test_T147_service_provider_config(http: Any) -> None:
    body = http.get("/ServiceProviderConfig").json
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]
    for block in ("patch", "bulk", "filter", "changePassword", "sort", "etag"):
        assert "supported" in body[block]
    assert body["bulk"] == {"supported": True, "maxOperations": 10, "maxPayloadSize": 64000}
    assert body["filter"] == {"supported": True, "maxResults": 1000}
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert body["pagination"]["cursor"] is True
    assert body["pagination"]["index"] is True


def test_T148_resource_types(http: Any) -> None:
    body = http.get("/ResourceTypes").json
    assert body["schemas"] == [LIST]
    assert body["totalResults"] == 2
    user = next(r for r in body["Resources"] if r["name"] == "User")
    assert user["endpoint"] == "/Users"
    assert user["schema"] == USER
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    single = http.get("/ResourceTypes/User").json
    assert single["name"] == "User"
    assert single["meta"]["location"] == f"{http.base}/ResourceTypes/User"
    assert_error(http.get("/ResourceTypes/Nope"), 404)


def test_T149_schemas(http: Any) -> None:
    body = http.get("/Schemas").json
    ids = [s["id"] for s in body["Resources"]]
    assert ids == [USER, GROUP, ENTERPRISE]
    assert not any(i.startswith("urn:ietf:params:scim:api:") for i in ids)
    group = http.get(f"/Schemas/{GROUP}").json
    display = next(a for a in group["attributes"] if a["name"] == "displayName")
    assert display["required"] is True
    assert_error(http.get("/Schemas/urn:nope"), 404)


def test_T150_discovery_filters_are_403_and_paging_is_ignored(http: Any) -> None:
    assert_error(http.get("/Schemas?filter=id+pr"), 403)
    assert_error(http.get("/ResourceTypes?filter=name+eq+%22User%22"), 403)
    assert http.get("/Schemas?count=1&startIndex=2&sortBy=id").json["totalResults"] == 3


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/ServiceProviderConfig"),
        ("PUT", "/ResourceTypes/User"),
        ("PATCH", "/Schemas"),
        ("DELETE", f"/Schemas/{USER}"),
        ("DELETE", "/Users"),
        ("POST", "/Users/some-id"),
        ("GET", "/Bulk"),
        ("GET", "/.search"),
    ],
)
def test_wrong_methods_are_405_with_allow(http: Any, method: str, path: str) -> None:
    reply = http.request(method, path)
    assert_error(reply, 405)
    assert reply.headers["allow"]
    assert method not in reply.headers["allow"].split(", ")


def test_T151_me_is_501_when_the_service_does_not_know_the_subject(http: Any) -> None:
    assert_error(http.get("/Me"), 501)


# --- Identity providers' request shapes ---------------------------------------------------


def test_E14_E15_entra_creates(http: Any) -> None:
    group = http.post(
        "/Groups",
        {
            "schemas": [
                GROUP,
                "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group",
            ],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": unique("Group"),
            "meta": {"resourceType": "Group"},
        },
    )
    assert group.status == 201, group
    user = http.post(
        "/Users",
        {
            "schemas": [USER, ENTERPRISE],
            "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
            "userName": unique("Test_User"),
            "active": True,
            "emails": [{"primary": True, "type": "work", "value": "Test_User@testuser.com"}],
            "meta": {"resourceType": "User"},
            "name": {
                "formatted": "givenName familyName",
                "familyName": "familyName",
                "givenName": "givenName",
            },
            "roles": [],
        },
    )
    assert user.status == 201, user
    assert user.json["meta"]["resourceType"] == "User"


def test_O2_O3_okta_create_then_put_with_id_groups_and_meta(http: Any) -> None:
    name = unique("test.user") + "@okta.local"
    created = http.post(
        "/Users",
        {
            "schemas": [USER],
            "userName": name,
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": True, "value": name, "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
        },
    )
    assert created.status == 201, created
    assert "password" not in created.json
    user_id = created.json["id"]
    replaced = http.put(
        f"/Users/{user_id}",
        {
            "schemas": [USER],
            "id": user_id,
            "userName": name,
            "name": {"givenName": "Another", "middleName": "", "familyName": "User"},
            "emails": [{"primary": True, "value": name, "type": "work"}],
            "displayName": "Another User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "groups": [],
            "password": "1mz050nq",
            "active": True,
            "meta": {"resourceType": "User"},
        },
    )
    assert replaced.status == 200, replaced
    assert replaced.json["name"]["givenName"] == "Another"
    deactivated = http.patch(
        f"/Users/{user_id}",
        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]},
    )
    assert deactivated.status == 200
    assert deactivated.json["active"] is False
