"""Hooks over real HTTP: authentication, authorization, /Me, lifecycle; policies per service."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from scimcore.errors import Forbidden, InvalidValue, Unauthorized
from scimcore.models import Group, Role, User
from scimcore.policy import Policy
from scimcore.service import Context, Hooks, Request, ScimService
from scimcore.stores import MemoryStore

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Tenant(Hooks):
    """Header-based identity, read-only viewers, a default role, protected admins."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.me_id: str | None = None

    def authenticate(self, request: Request) -> object:
        who = request.header("x-user")
        if who is None:
            raise Unauthorized("Who are you?")
        return who

    def authorize(
        self, ctx: Context, action: str, model: type[Any] | None, resource_id: str | None
    ) -> None:
        if ctx.principal == "viewer" and action not in ("read", "search", "discovery"):
            raise Forbidden(f"viewers may not {action}")

    def me(self, ctx: Context) -> tuple[type[Any], str] | None:
        return (User, self.me_id) if self.me_id and ctx.principal == "admin" else None

    def before_create(self, ctx: Context, resource: Any) -> Any:
        if isinstance(resource, User) and not resource.roles:
            resource.roles.append(Role(value="member"))
        return resource

    def before_replace(self, ctx: Context, current: Any, resource: Any) -> Any:
        if isinstance(resource, User) and resource.user_name == "root":
            raise InvalidValue("'root' is reserved.")
        return resource

    def before_patch(self, ctx: Context, current: Any, resource: Any) -> Any:
        if isinstance(resource, Group) and resource.display_name:
            resource.display_name = resource.display_name.strip()
        return resource

    def before_delete(self, ctx: Context, current: Any) -> None:
        if getattr(current, "user_name", None) == "keeper":
            raise Forbidden("keeper cannot be deleted")
        self.deleted.append(current.id)


def test_lifecycle_and_authorization_hooks(serve: Any) -> None:
    hooks = Tenant()
    client = serve(ScimService(MemoryStore(), hooks=hooks), token=None)
    admin = {"X-User": "admin"}
    viewer = {"X-User": "viewer"}

    reply = client.get("/Users")
    assert reply.status == 401
    assert reply.headers["www-authenticate"] == 'Bearer realm="SCIM"'

    reply = client.post("/Users", {"schemas": [USER], "userName": "bjensen"}, headers=admin)
    assert reply.status == 201
    assert reply.json["roles"] == [{"value": "member"}]
    user_id = reply.json["id"]

    assert client.get(f"/Users/{user_id}", headers=viewer).status == 200
    reply = client.post("/Users", {"schemas": [USER], "userName": "x"}, headers=viewer)
    assert reply.status == 403
    assert reply.json["detail"] == "viewers may not create"

    reply = client.put(f"/Users/{user_id}", {"schemas": [USER], "userName": "root"}, headers=admin)
    assert reply.status == 400
    assert reply.json["detail"] == "'root' is reserved."

    group = client.post(
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"},
        headers=admin,
    ).json
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "displayName", "value": "  Padded  "}],
    }
    assert (
        client.patch(f"/Groups/{group['id']}", patch, headers=admin).json["displayName"] == "Padded"
    )

    keeper = client.post("/Users", {"schemas": [USER], "userName": "keeper"}, headers=admin).json
    assert client.delete(f"/Users/{keeper['id']}", headers=admin).status == 403
    assert client.delete(f"/Users/{user_id}", headers=admin).status == 204
    assert hooks.deleted == [user_id]


def test_T151_me_in_place_with_location(serve: Any) -> None:
    hooks = Tenant()
    client = serve(ScimService(MemoryStore(), hooks=hooks), token=None)
    admin = {"X-User": "admin"}
    created = client.post("/Users", {"schemas": [USER], "userName": "me"}, headers=admin).json
    hooks.me_id = created["id"]
    reply = client.get("/Me", headers=admin)
    assert reply.status == 200
    assert reply.json["id"] == created["id"]
    assert reply.headers["location"] == f"{client.base}/Users/{created['id']}"
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "nickName", "value": "Me"}],
    }
    reply = client.patch("/Me", patch, headers=admin)
    assert reply.status == 200
    assert reply.json["nickName"] == "Me"
    assert client.get("/Me", headers={"X-User": "viewer"}).status == 501
    assert client.post("/Me", {"schemas": [USER], "userName": "x"}, headers=admin).status == 501


def test_policy_per_service(serve: Any) -> None:
    strict = serve(ScimService(MemoryStore(), policy=Policy.strict()), token=None)
    lenient = serve(ScimService(MemoryStore()), token=None)
    # Entra sends booleans as strings: Policy.string_booleans.
    body = {"schemas": [USER], "userName": "bjensen", "active": "True"}
    assert lenient.post("/Users", body).status == 201
    reply = strict.post("/Users", body)
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidValue"


class HostAuthenticated(Hooks):
    """The host framework authenticated the request; the hooks only read who it was."""

    def authorize(
        self, ctx: Context, action: str, model: type[Any] | None, resource_id: str | None
    ) -> None:
        if ctx.principal != "alice":
            raise Forbidden(f"{ctx.principal!r} may not {action}")


def test_the_host_principal_reaches_the_hooks_through_wsgi_and_asgi() -> None:
    import asyncio
    import json
    from io import BytesIO

    from scimcore.asgi import create_app as asgi_app
    from scimcore.wsgi import create_app as wsgi_app

    service = ScimService(MemoryStore(), hooks=HostAuthenticated())

    def wsgi(user: str | None) -> str:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/Users",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "wsgi.url_scheme": "http",
            "wsgi.input": BytesIO(),
        }
        if user is not None:
            environ["REMOTE_USER"] = user
        seen: list[str] = []
        b"".join(wsgi_app(service)(environ, lambda status, headers: seen.append(status)))
        return seen[0]

    assert wsgi("alice") == "200 OK"
    assert wsgi("mallory") == "403 Forbidden"
    assert wsgi(None) == "403 Forbidden"

    async def asgi(user: str) -> tuple[int, Any]:
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> MutableMapping[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/Users",
            "query_string": b"",
            "headers": [(b"host", b"example.com")],
            "scheme": "https",
            "user": user,
        }
        await asgi_app(service)(scope, receive, send)
        return sent[0]["status"], json.loads(sent[1]["body"])

    assert asyncio.run(asgi("alice"))[0] == 200
    status, error = asyncio.run(asgi("mallory"))
    assert (status, error["detail"]) == (403, "'mallory' may not search")
