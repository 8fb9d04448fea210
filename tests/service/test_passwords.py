"""Passwords are hashed before any store sees them, and never filtered, sorted or returned."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scimcore.models import User
from scimcore.passwords import is_hashed, verify_password
from scimcore.service import Request, ScimService
from scimcore.stores import MemoryStore, SQLiteStore

JSON = {"Content-Type": "application/scim+json"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SECRET = "Tr0ub4dor&3-" + secrets.token_hex(8)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        store: Any = MemoryStore()
    elif request.param == "sqlite":
        store = SQLiteStore(tmp_path / "users.db")
    else:
        from scimcore.stores import PostgresStore

        dsn = request.getfixturevalue("postgres_dsn")
        store = PostgresStore(dsn, schema=f"scim_test_{secrets.token_hex(6)}")
    yield store
    if request.param == "postgres":
        store.drop()
    store.close()


def _send(service: ScimService, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    data = json.dumps(body).encode() if body is not None else b""
    return service.handle(Request(method, path, headers=JSON, body=data, **kw))


def test_a_password_is_stored_hashed_and_kept_across_writes(store: Any) -> None:
    service = ScimService(store)
    created = _send(
        service, "POST", "/Users", {"schemas": [USER], "userName": "b", "password": SECRET}
    )
    assert created.status == 201
    assert "password" not in created.json()
    user_id = created.json()["id"]
    stored = store.get(User, user_id).password
    assert is_hashed(stored) and verify_password(SECRET, stored)

    # A PATCH that leaves the password alone, and a PUT without it, keep the very same hash.
    patch = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}
    assert _send(service, "PATCH", f"/Users/{user_id}", patch).status == 200
    assert (
        _send(service, "PUT", f"/Users/{user_id}", {"schemas": [USER], "userName": "b"}).status
        == 200
    )
    assert store.get(User, user_id).password == stored

    # A new password (PATCH or PUT) is hashed anew.
    patch = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "password", "value": "n3w"}],
    }
    assert _send(service, "PATCH", f"/Users/{user_id}", patch).status == 200
    changed = store.get(User, user_id).password
    assert changed != stored and verify_password("n3w", changed)
    body = {"schemas": [USER], "userName": "b", "password": SECRET}
    assert _send(service, "PUT", f"/Users/{user_id}", body).status == 200
    assert verify_password(SECRET, store.get(User, user_id).password)


def test_no_password_in_the_database_files(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "users.db")
    service = ScimService(store)
    for n in range(3):
        body = {"schemas": [USER], "userName": f"u{n}", "password": f"{SECRET}-{n}"}
        assert _send(service, "POST", "/Users", body).status == 201
    files = sorted(tmp_path.iterdir())
    assert files[0].name == "users.db"
    for file in files:
        raw = file.read_bytes()
        assert SECRET.encode() not in raw and SECRET.encode("utf-16-le") not in raw, file
    store.close()


@pytest.mark.parametrize(
    "query",
    ['filter=password eq "x"', "filter=password pr", "sortBy=password", "sortBy=PASSWORD"],
)
def test_the_password_is_no_oracle(store: Any, query: str) -> None:
    service = ScimService(store)
    _send(service, "POST", "/Users", {"schemas": [USER], "userName": "b", "password": SECRET})
    reply = service.handle(Request("GET", "/Users", query=query.replace(" ", "%20")))
    assert reply.status == 400, reply.json()
    assert reply.json()["scimType"] in ("invalidFilter", "invalidValue")
