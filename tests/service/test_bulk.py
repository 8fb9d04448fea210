"""Bulk over real HTTP (RFC 7644 §3.7), with bulkId references; the RFC's example as data.

The module server has ``maxOperations`` 10 and ``maxPayloadSize`` 64000.
"""

from __future__ import annotations

import uuid
from typing import Any

from scimcore.service import ScimService
from scimcore.stores import MemoryStore

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
BULK_REQUEST = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def tag() -> str:
    return uuid.uuid4().hex[:10]


def bulk(http: Any, *operations: dict[str, Any], **extra: Any) -> Any:
    return http.post("/Bulk", {"schemas": [BULK_REQUEST], "Operations": list(operations), **extra})


def new_user(name: str, bulk_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "method": "POST",
        "path": "/Users",
        "bulkId": bulk_id,
        "data": {"schemas": [USER], "userName": name, **extra},
    }


def test_T135_two_creates(http: Any) -> None:
    # RFC 7644 §3.7.1 (the request), user names made unique for the shared server.
    t = tag()
    reply = bulk(
        http,
        new_user(f"Alice-{t}", "qwerty"),
        new_user(f"Bob-{t}", "ytrewq"),
        failOnErrors=1,
    )
    assert reply.status == 200
    body = reply.json
    assert body["schemas"] == [BULK_RESPONSE]
    assert [op["bulkId"] for op in body["Operations"]] == ["qwerty", "ytrewq"]
    for op in body["Operations"]:
        assert op["method"] == "POST"
        assert op["status"] == "201"
        assert op["location"].startswith(f"{http.base}/Users/")
        assert op["version"].startswith('W/"')
        assert http.get(op["location"].removeprefix(http.base)).status == 200


def test_T136_T137_references_resolved_in_any_order(http: Any) -> None:
    t = tag()
    group_first = {
        "method": "POST",
        "path": "/Groups",
        "bulkId": "g",
        "data": {
            "schemas": [GROUP],
            "displayName": f"Tour Guides {t}",
            "members": [{"type": "User", "value": "bulkId:qwerty"}],
        },
    }
    reply = bulk(http, group_first, new_user(f"Alice-{t}", "qwerty"))
    ops = reply.json["Operations"]
    assert [op["bulkId"] for op in ops] == ["qwerty", "g"]  # dependency order
    assert [op["status"] for op in ops] == ["201", "201"]
    user_id = ops[0]["location"].rsplit("/", 1)[1]
    group = http.get(ops[1]["location"].removeprefix(http.base)).json
    assert group["members"][0]["value"] == user_id
    assert http.get(f"/Users/{user_id}").json["groups"][0]["value"] == group["id"]


def test_T138_circular_references_are_refused_with_409(http: Any) -> None:
    t = tag()
    a = {
        "method": "POST",
        "path": "/Groups",
        "bulkId": "a",
        "data": {
            "schemas": [GROUP],
            "displayName": f"A {t}",
            "members": [{"type": "Group", "value": "bulkId:b"}],
        },
    }
    b = {
        "method": "POST",
        "path": "/Groups",
        "bulkId": "b",
        "data": {
            "schemas": [GROUP],
            "displayName": f"B {t}",
            "members": [{"type": "Group", "value": "bulkId:a"}],
        },
    }
    reply = bulk(http, a, b)
    assert reply.status == 200
    statuses = {op["bulkId"]: op["status"] for op in reply.json["Operations"]}
    assert statuses == {"a": "409", "b": "409"}
    assert "circular" in reply.json["Operations"][0]["response"]["detail"]
    assert "location" not in reply.json["Operations"][0]


def test_T139_put_patch_delete_and_references_in_patch_paths(http: Any) -> None:
    t = tag()
    created = bulk(http, new_user(f"p-{t}", "u"), new_user(f"q-{t}", "v")).json["Operations"]
    first = created[0]["location"].removeprefix(http.base)
    second_id = created[1]["location"].rsplit("/", 1)[1]
    group_op = {
        "method": "POST",
        "path": "/Groups",
        "bulkId": "grp",
        "data": {"schemas": [GROUP], "displayName": f"G {t}", "members": [{"value": second_id}]},
    }
    reply = bulk(
        http,
        {
            "method": "PUT",
            "path": first,
            "data": {"schemas": [USER], "userName": f"p-{t}", "title": "T"},
        },
        {
            "method": "PATCH",
            "path": first,
            "data": {
                "schemas": [PATCH_OP],
                "Operations": [{"op": "add", "path": "nickName", "value": "N"}],
            },
        },
        group_op,
        {
            "method": "PATCH",
            "path": "/Groups/bulkId:grp",
            "data": {
                "schemas": [PATCH_OP],
                "Operations": [{"op": "remove", "path": f'members[value eq "{second_id}"]'}],
            },
        },
        {"method": "DELETE", "path": f"/Users/{second_id}"},
    )
    ops = reply.json["Operations"]
    assert [op["status"] for op in ops] == ["200", "200", "201", "200", "204"]
    assert all("location" in op for op in ops)
    user = http.get(first).json
    assert (user["title"], user["nickName"]) == ("T", "N")
    group = http.get(ops[2]["location"].removeprefix(http.base)).json
    assert "members" not in group


def test_bulk_id_references_inside_patch_values(http: Any) -> None:
    t = tag()
    group = {
        "method": "POST",
        "path": "/Groups",
        "bulkId": "g",
        "data": {"schemas": [GROUP], "displayName": f"Later {t}"},
    }
    add = {
        "method": "PATCH",
        "path": "/Groups/bulkId:g",
        "data": {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:u"}]}],
        },
    }
    reply = bulk(http, add, group, new_user(f"late-{t}", "u"))
    ops = reply.json["Operations"]
    assert [(op.get("bulkId"), op["status"]) for op in ops] == [
        ("g", "201"),
        ("u", "201"),
        (None, "200"),
    ]
    user_id = ops[1]["location"].rsplit("/", 1)[1]
    members = http.get(ops[0]["location"].removeprefix(http.base)).json["members"]
    assert [m["value"] for m in members] == [user_id]


def test_T140_a_failing_operation_and_the_others(http: Any) -> None:
    t = tag()
    reply = bulk(http, new_user(f"dup-{t}", "one"), new_user(f"DUP-{t}", "two"))
    assert reply.status == 200
    first, second = reply.json["Operations"]
    assert first["status"] == "201"
    assert second["status"] == "409"
    assert second["response"]["scimType"] == "uniqueness"
    assert "location" not in second


def test_T141_fail_on_errors(http: Any) -> None:
    t = tag()
    failing = new_user(f"same-{t}", "x")
    ops = [
        {"method": "DELETE", "path": "/Users/nope"},
        new_user(f"a-{t}", "a"),
        new_user(f"b-{t}", "b"),
    ]
    all_processed = bulk(http, *ops).json["Operations"]
    assert [op["status"] for op in all_processed] == ["404", "201", "201"]
    stopped = bulk(
        http, failing, {**failing, "bulkId": "y"}, new_user(f"c-{t}", "c"), failOnErrors=1
    )
    assert [op["status"] for op in stopped.json["Operations"]] == ["201", "409"]


def test_T142_limits_are_413_and_name_the_limit(http: Any) -> None:
    t = tag()
    ops = [new_user(f"many-{t}-{i}", f"b{i}") for i in range(11)]
    reply = bulk(http, *ops)
    assert reply.status == 413
    assert "maxOperations (10)" in reply.json["detail"]
    big = [new_user(f"big-{t}", "big", title="x" * 70_000)]
    reply = bulk(http, *big)
    assert reply.status == 413
    assert "maxPayloadSize (64000)" in reply.json["detail"]


def test_T143_extension_references_are_resolved(http: Any) -> None:
    t = tag()
    employee = new_user(f"emp-{t}", "emp", **{ENTERPRISE: {"manager": {"value": "bulkId:boss"}}})
    employee["data"]["schemas"] = [USER, ENTERPRISE]
    reply = bulk(http, employee, new_user(f"boss-{t}", "boss"))
    ops = {op["bulkId"]: op for op in reply.json["Operations"]}
    boss_id = ops["boss"]["location"].rsplit("/", 1)[1]
    user = http.get(ops["emp"]["location"].removeprefix(http.base)).json
    assert user[ENTERPRISE]["manager"]["value"] == boss_id


def test_T144_bulk_id_rules(http: Any) -> None:
    t = tag()
    no_id = {"method": "POST", "path": "/Users", "data": {"schemas": [USER], "userName": f"n-{t}"}}
    reply = bulk(http, no_id)
    assert reply.json["Operations"][0]["status"] == "400"
    assert reply.json["Operations"][0]["response"]["scimType"] == "invalidValue"
    reply = bulk(http, new_user(f"d1-{t}", "same"), new_user(f"d2-{t}", "same"))
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidValue"
    dangling = new_user(f"dang-{t}", "d", nickName="bulkId:undefined")
    reply = bulk(http, dangling)
    assert reply.json["Operations"][0]["status"] == "409"
    bad_method = {"method": "FETCH", "path": "/Users"}
    assert bulk(http, bad_method).json["Operations"][0]["response"]["scimType"] == "invalidSyntax"


def test_T145_a_stale_version_is_412(http: Any) -> None:
    t = tag()
    location = bulk(http, new_user(f"v-{t}", "v")).json["Operations"][0]["location"]
    path = location.removeprefix(http.base)
    reply = bulk(http, {"method": "DELETE", "path": path, "version": 'W/"stale"'})
    assert reply.json["Operations"][0]["status"] == "412"
    assert http.get(path).status == 200


def test_T146_bulk_request_schema_is_required(http: Any) -> None:
    reply = http.post("/Bulk", {"Operations": []})
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidSyntax"


def test_bulk_on_an_async_store_twin(serve: Any) -> None:
    from scimcore.storage import AsyncStoreAdapter

    client = serve(ScimService(AsyncStoreAdapter(MemoryStore())), token=None)
    reply = bulk(client, new_user("async", "a"))
    assert reply.json["Operations"][0]["status"] == "201"
    assert (
        client.get(reply.json["Operations"][0]["location"].removeprefix(client.base)).status == 200
    )
