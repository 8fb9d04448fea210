"""Hooks after commit and on error, with the request, the result and the tenant (issue 19)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scimcore.errors import ScimError
from scimcore.models import User
from scimcore.policy import Policy
from scimcore.service import Context, Hooks, Request, ScimService, ScimV1Service
from scimcore.stores import MemoryStore

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


class Recorder(Hooks):
    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def after_write(self, ctx: Context, action: Any, resource: Any) -> None:
        assert ctx.service.store.get(type(resource), resource.id) if action != "delete" else True
        self.seen.append(("after", ctx.tenant, ctx.request.method, action, resource.user_name))

    def on_error(self, ctx: Context, error: ScimError) -> None:
        self.seen.append(("error", ctx.tenant, ctx.request.method, error.status, error.scim_type))


def send(service: Any, method: str, path: str, body: Any = None, token: str = "t") -> Any:
    data = b"" if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {token}"}
    return service.handle(Request(method, path, headers=headers, body=data))


def test_after_write_sees_each_committed_write_and_the_tenant() -> None:
    hooks = Recorder()
    service = ScimService(MemoryStore(), tokens=["t"], hooks=hooks, tenant="acme")
    made = send(service, "POST", "/Users", {"schemas": [USER], "userName": "bjensen"}).json()
    path = f"/Users/{made['id']}"
    replace = {"schemas": [USER], "userName": "bjensen2"}
    assert send(service, "PUT", path, replace).status == 200
    rename = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "userName", "value": "b3"}],
    }
    assert send(service, "PATCH", path, rename).status == 200
    assert send(service, "PATCH", path, rename).status == 200  # changes nothing: no hook
    bulk = {
        "schemas": [BULK],
        "Operations": [
            {
                "method": "POST",
                "path": "/Users",
                "bulkId": "x",
                "data": {"schemas": [USER], "userName": "bulk"},
            }
        ],
    }
    assert send(service, "POST", "/Bulk", bulk).status == 200
    assert send(service, "DELETE", path).status == 204
    assert hooks.seen == [
        ("after", "acme", "POST", "create", "bjensen"),
        ("after", "acme", "PUT", "replace", "bjensen2"),
        ("after", "acme", "PATCH", "patch", "b3"),
        ("after", "acme", "POST", "create", "bulk"),
        ("after", "acme", "DELETE", "delete", "b3"),
    ]


def test_on_error_sees_refused_requests_in_2_0_and_1_1() -> None:
    hooks = Recorder()
    service = ScimService(MemoryStore(), tokens=["t"], hooks=hooks, policy=Policy.strict())
    assert send(service, "GET", "/Users", token="wrong").status == 401
    assert send(service, "GET", "/Users/nope").status == 404
    assert send(service, "POST", "/Users", {"schemas": [USER], "userName": ""}).status == 400
    v1 = ScimV1Service(service)
    assert send(v1, "GET", "/Users/nope").status == 404
    assert hooks.seen == [
        ("error", None, "GET", 401, None),
        ("error", None, "GET", 404, None),
        ("error", None, "POST", 400, "invalidValue"),
        ("error", None, "GET", 404, None),
    ]


def test_a_failing_after_hook_changes_nothing(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Hooks):
        def after_write(self, ctx: Context, action: Any, resource: Any) -> None:
            raise RuntimeError("the mail server is down")

        def on_error(self, ctx: Context, error: ScimError) -> None:
            raise RuntimeError("the event bus is down")

    store = MemoryStore()
    service = ScimService(store, hooks=Broken())
    made = send(service, "POST", "/Users", {"schemas": [USER], "userName": "bjensen"})
    assert made.status == 201
    assert store.get(User, made.json()["id"]).user_name == "bjensen"
    assert send(service, "GET", "/Users/nope").status == 404
    messages = [r.getMessage() for r in caplog.records]
    assert (
        "scimcore: unexpected error in after_write (create): RuntimeError: the mail server is down"
        in messages
    )
    assert (
        "scimcore: unexpected error in on_error for GET /Users/nope: RuntimeError: the event bus is down"
        in messages
    )
