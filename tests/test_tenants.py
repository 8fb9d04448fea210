"""Tenants of ``scimcore serve``: ``/t/{tenant}/scim/v2`` with their own store, tokens and policy.

The cross-tenant matrix: every route x every method, SCIM 2.0 and 1.1, sent with
one tenant's token to another tenant's URLs (401 or 429, or 200 for the public
ServiceProviderConfig, which holds no tenant's data), and with one tenant's token
to its own URLs naming the other tenant's ids (404, or 405 where the method is not
allowed). No answer shows any of the other tenant's data, and the other tenant's
data is unchanged afterwards. It runs on every store: memory, SQLite, PostgreSQL.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scimcore._keys import Keys
from scimcore._serve import build_app, tenant_store_name
from scimcore.policy import Policy
from scimcore.stores import MemoryStore, SQLiteStore
from tests._live import Client, LiveServer

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class Deployment:
    """``build_app`` with tenants acme and globex served on a real port."""

    def __init__(self, port: int, tokens: dict[str, str]) -> None:
        self.port = port
        self.tokens = tokens

    def client(self, tenant: str, token_of: str, version: int = 2) -> Client:
        prefix = f"/scim/v{version}" if tenant == "" else f"/t/{tenant}/scim/v{version}"
        return Client(self.port, prefix, self.tokens[token_of])


def _deploy(
    keys: Keys, default_store: Any, tenant_store: Callable[[str], Any]
) -> Iterator[Deployment]:
    keys.add_tenant("acme", "entra")
    keys.add_tenant("globex", "okta")
    tokens = {
        "": keys.create("default"),
        "acme": keys.create("idp", "acme"),
        "globex": keys.create("idp", "globex"),
    }
    from scimcore._keys import StoredTokens

    app = build_app(
        default_store,
        StoredTokens(keys, ""),
        Policy(),
        keys=keys,
        tenant_store=tenant_store,
        failed_auth_per_minute=100_000,
    )
    with LiveServer(app) as port:
        yield Deployment(port, tokens)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    """Tenants acme (Entra preset) and globex (Okta preset) on each store."""
    made: list[Any] = []

    def keep(store: Any) -> Any:
        made.append(store)
        return store

    if request.param == "memory":
        keys = Keys.sqlite(":memory:")
        stores: Callable[[str], Any] = lambda name: keep(MemoryStore())  # noqa: E731
        default = keep(MemoryStore())
    elif request.param == "sqlite":
        db = str(tmp_path / "scim.sqlite3")
        keys = Keys.sqlite(db)
        stores = lambda name: keep(SQLiteStore(tenant_store_name(db, name)))  # noqa: E731
        default = keep(SQLiteStore(db))
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        from scimcore.stores import PostgresStore

        schema = f"scim_test_{secrets.token_hex(6)}"
        keys = Keys.postgres(dsn, schema=schema)
        stores = lambda name: keep(  # noqa: E731
            PostgresStore(dsn, schema=tenant_store_name(schema, name), pool_size=2)
        )
        default = keep(PostgresStore(dsn, schema=schema, pool_size=2))
    try:
        yield from _deploy(keys, default, stores)
    finally:
        for store in made:
            if hasattr(store, "drop"):
                store.drop()
            store.close()
        if request.param == "postgres":
            import psycopg

            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute(f"drop schema if exists {schema} cascade")
        keys.close()


def _seed(client: Client, tag: str) -> dict[str, str]:
    """A user and a group (with the user as member) in a tenant; their ids and names."""
    secret = f"{tag}-secret-{secrets.token_hex(4)}"
    user = client.post(
        "/Users", {"schemas": [USER], "userName": f"{tag}-user", "displayName": secret}
    )
    assert user.status == 201, user
    group = client.post(
        "/Groups",
        {
            "schemas": [GROUP],
            "displayName": f"{tag}-group-{secret}",
            "members": [{"value": user.json["id"]}],
        },
    )
    assert group.status == 201, group
    return {
        "user": user.json["id"],
        "group": group.json["id"],
        "name": f"{tag}-user",
        "secret": secret,
    }


def _routes(ids: dict[str, str]) -> list[str]:
    """Every route of a service, naming ``ids`` where a route names a resource."""
    return [
        "/",
        "/.search",
        "/Users",
        "/Users/.search",
        f"/Users/{ids['user']}",
        f"/Users?filter=id%20eq%20%22{ids['user']}%22",
        f"/Users?filter=userName%20eq%20%22{ids['name']}%22",
        "/Groups",
        "/Groups/.search",
        f"/Groups/{ids['group']}",
        f"/Groups/{ids['group']}/members",
        "/Bulk",
        "/Me",
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/ResourceTypes/User",
        "/Schemas",
        f"/Schemas/{USER}",
    ]


def _body(method: str, route: str, ids: dict[str, str]) -> Any:
    """A body that would succeed on the route if the token were good."""
    if method in ("GET", "DELETE"):
        return None
    if route.endswith(".search"):
        return {"schemas": [SEARCH], "filter": f'id eq "{ids["user"]}"'}
    if route == "/Bulk":
        return {
            "schemas": [BULK],
            "Operations": [
                {"method": "DELETE", "path": f"/Users/{ids['user']}"},
                {
                    "method": "PATCH",
                    "path": f"/Groups/{ids['group']}",
                    "data": {
                        "schemas": [PATCH],
                        "Operations": [{"op": "replace", "path": "displayName", "value": "x"}],
                    },
                },
                {
                    "method": "PUT",
                    "path": f"/Users/{ids['user']}",
                    "data": {"schemas": [USER], "userName": "taken-over"},
                },
            ],
        }
    if method == "PATCH":
        return {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "path": "userName", "value": "taken-over"}],
        }
    if "Groups" in route:
        return {
            "schemas": [GROUP],
            "displayName": "taken-over",
            "members": [{"value": ids["user"]}],
        }
    return {"schemas": [USER], "userName": ids["name"], "id": ids["user"]}


def _snapshot(client: Client, ids: dict[str, str]) -> list[Any]:
    replies = [
        client.get(f"/Users/{ids['user']}"),
        client.get(f"/Groups/{ids['group']}"),
        client.get("/Users"),
        client.get("/Groups"),
    ]
    assert all(r.status == 200 for r in replies), replies
    return [r.json for r in replies]


def _leaks(body: bytes, ids: dict[str, str], sent: str) -> list[str]:
    """The other tenant's values in a reply that the request did not itself send.

    An error may echo the path it was asked about; it must never show what is stored
    (the secret display name, an id the request did not name).
    """
    return [value for value in ids.values() if value.encode() in body and value not in sent]


def test_cross_tenant_matrix(deployment: Deployment) -> None:
    acme = deployment.client("acme", "acme")
    globex = deployment.client("globex", "globex")
    acme_ids = _seed(acme, "acme")
    globex_ids = _seed(globex, "globex")
    before = _snapshot(globex, globex_ids)
    checked = 0
    leaks: list[tuple[str, str, str, int, list[str]]] = []
    wrong: list[tuple[str, str, str, int]] = []
    for version in (2, 1):
        # Another tenant's token on globex's URLs: 401 (the public SPC aside).
        for token_of in ("acme", ""):
            intruder = deployment.client("globex", token_of, version)
            for route in _routes(globex_ids):
                for method in METHODS:
                    body = _body(method, route, globex_ids)
                    reply = intruder.request(method, route, body)
                    checked += 1
                    public = method == "GET" and route == "/ServiceProviderConfig"
                    # 429: the failed-authentication limiter took over from 401.
                    if reply.status not in ((200,) if public else (401, 429)):
                        wrong.append((f"v{version}", method, route, reply.status))
                    if found := _leaks(reply.body, globex_ids, route + json.dumps(body)):
                        leaks.append((f"v{version}", method, route, reply.status, found))
        # acme's token on acme's URLs naming globex's ids: 404 (or 405, 201 for a create).
        for route in _routes(globex_ids):
            for method in METHODS:
                own = deployment.client("acme", "acme", version)
                where = route.partition("?")[0]
                names_id = globex_ids["user"] in where or globex_ids["group"] in where
                # A create on acme's collections writes acme's own data: with values of its own.
                neutral = {"user": "none", "group": "none", "name": f"acme-{checked}"}
                aims = names_id or route == "/Bulk" or route.endswith(".search")
                body = _body(method, route, globex_ids if aims else neutral)
                reply = own.request(method, route, body)
                checked += 1
                if found := _leaks(reply.body, globex_ids, route + json.dumps(body)):
                    leaks.append((f"v{version}", method, route, reply.status, found))
                if names_id and reply.status not in (400, 404, 405):
                    wrong.append((f"v{version}", method, route, reply.status))
                if route == "/Bulk" and method == "POST":
                    statuses = [op["status"] for op in reply.json.get("Operations", [])]
                    if version == 2 and statuses != ["404", "404", "404"]:
                        wrong.append(("bulk", method, route, reply.status))
    assert leaks == []
    assert wrong == []
    assert checked == 2 * (2 + 1) * len(_routes(globex_ids)) * len(METHODS)
    assert _snapshot(globex, globex_ids) == before
    # acme's own data is still its own, and its ids mean nothing at globex.
    assert globex.get(f"/Users/{acme_ids['user']}").status == 404


def test_a_tenant_has_its_policy_and_its_resources(deployment: Deployment) -> None:
    acme = deployment.client("acme", "acme")
    default = deployment.client("", "")
    created = acme.post("/Users", {"schemas": [USER], "userName": "same-name"})
    assert created.status == 201
    # The same userName in another tenant is not a uniqueness conflict: separate data.
    assert (
        deployment.client("globex", "globex")
        .post("/Users", {"schemas": [USER], "userName": "same-name"})
        .status
        == 201
    )
    assert default.get("/Users").json["totalResults"] == 0
    assert created.json["meta"]["location"] == (
        f"http://127.0.0.1:{deployment.port}/t/acme/scim/v2/Users/{created.json['id']}"
    )
    # Entra's preset (acme) takes the "True" string of a PATCH; strict would refuse it.
    patch = {
        "schemas": [PATCH],
        "Operations": [{"op": "Replace", "path": "active", "value": "True"}],
    }
    assert acme.patch(f"/Users/{created.json['id']}", patch).json["active"] is True


def test_unknown_tenant_is_404_whatever_the_token(deployment: Deployment) -> None:
    for token_of in ("", "acme"):
        reply = deployment.client("initech", token_of).get("/Users")
        assert reply.status == 404
        assert reply.json["detail"] == "There is no endpoint at '/initech/scim/v2/Users'."


def test_host_supplied_resolver_by_host_header() -> None:
    from scimcore.service import Request, ScimService, Tenants

    services = {n: ScimService(MemoryStore(), tokens=[f"{n}-t"]) for n in ("acme", "globex")}

    def by_host(request: Request) -> Any:
        name = (request.header("host") or "").split(".")[0]
        service = services.get(name)
        return None if service is None else (service, request)

    tenants = Tenants(by_host)

    def send(host: str, token: str, method: str = "GET", body: bytes = b"") -> Any:
        headers = {"Host": host, "Authorization": f"Bearer {token}"}
        return tenants.handle(Request(method, "/Users", headers=headers, body=body))

    made = send(
        "acme.example.com",
        "acme-t",
        "POST",
        json.dumps({"schemas": [USER], "userName": "a"}).encode(),
    )
    assert made.status == 201
    assert send("globex.example.com", "acme-t").status == 401
    assert send("globex.example.com", "globex-t").json()["totalResults"] == 0
    assert send("acme.example.com", "acme-t").json()["totalResults"] == 1
    assert send("initech.example.com", "acme-t").status == 404
