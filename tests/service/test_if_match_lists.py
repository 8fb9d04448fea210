"""Conditional headers that list several tags (RFC 9110 §13.1.1, RFC 7644 §3.14), every store.

``If-Match: W/"x", W/"<current>"`` names the current version, so GET, PUT,
PATCH and DELETE go ahead; a list naming only stale versions is 412. The
service compares the list, and so does the store it hands the header to
(PATCH and DELETE pass it on as ``expected_version``): both must read it tag by
tag, a comma inside a quoted tag included.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scimcore.service import Request, Response, ScimService
from scimcore.stores import MemoryStore, PostgresStore, SQLiteStore

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScimService]:
    """A service over each shipped store: memory, a SQLite file, PostgreSQL (own schema)."""
    store: Any
    if request.param == "memory":
        store = MemoryStore()
    elif request.param == "sqlite":
        store = SQLiteStore(tmp_path / "scim.sqlite3")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        store = PostgresStore(dsn, schema=f"scim_test_{secrets.token_hex(6)}", pool_size=2)
    try:
        yield ScimService(store)
    finally:
        if isinstance(store, PostgresStore):
            store.drop()
        store.close()


def _send(
    service: ScimService, method: str, path: str, body: Any = None, **headers: str
) -> Response:
    data = b"" if body is None else json.dumps(body).encode()
    wire = {name.replace("_", "-"): value for name, value in headers.items()}
    if body is not None:
        wire["Content-Type"] = "application/scim+json"
    return service.handle(Request(method, path, headers=wire, body=data))


def _user(service: ScimService, name: str = "bjensen") -> tuple[str, str]:
    """A new user's id and the opaque part of its ETag (``W/"<opaque>"``)."""
    response = _send(service, "POST", "/Users", {"schemas": [USER], "userName": name})
    assert response.status == 201, response.body
    tag = response.header("etag")
    assert tag is not None and tag.startswith('W/"')
    return response.json()["id"], tag[3:-1]


def _patch(title: str) -> dict[str, Any]:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": title}],
    }


#: Headers that name the current version (``{v}``) among others.
LISTS = (
    'W/"x", W/"{v}"',
    '"stale", "{v}"',
    'W/"a,b", W/"{v}"',  # a comma inside a quoted tag is part of that tag
    'W/"{v}", W/"x"',
    "*",
)


def test_get_honours_if_match_and_if_none_match_lists(service: ScimService) -> None:
    user_id, current = _user(service)
    for header in (h.format(v=current) for h in LISTS):
        assert _send(service, "GET", f"/Users/{user_id}", if_match=header).status == 200
        response = _send(service, "GET", f"/Users/{user_id}", if_none_match=header)
        assert response.status == 304  # RFC 9110 §13.1.2: Not Modified
    stale = 'W/"x", W/"a,b"'
    assert _send(service, "GET", f"/Users/{user_id}", if_match=stale).status == 412
    assert _send(service, "GET", f"/Users/{user_id}", if_none_match=stale).status == 200


def test_put_honours_an_if_match_list(service: ScimService) -> None:
    user_id, current = _user(service)
    for n, template in enumerate(LISTS):
        header = template.format(v=current)
        body = {"schemas": [USER], "userName": "bjensen", "title": f"t{n}"}
        response = _send(service, "PUT", f"/Users/{user_id}", body, if_match=header)
        assert response.status == 200, (header, response.body)
        assert response.json()["title"] == f"t{n}"
        current = response.header("etag")[3:-1]  # type: ignore[index]


def test_patch_honours_an_if_match_list(service: ScimService) -> None:
    user_id, current = _user(service)
    for n, template in enumerate(LISTS):
        header = template.format(v=current)
        response = _send(service, "PATCH", f"/Users/{user_id}", _patch(f"t{n}"), if_match=header)
        assert response.status == 200, (header, response.body)
        assert response.json()["title"] == f"t{n}"
        tag = response.header("etag")
        assert tag is not None and tag != f'W/"{current}"'
        current = tag[3:-1]


@pytest.mark.parametrize("header", ['W/"x", W/"{v}"', '"a,b", "{v}"', '"{v}"', "*"])
def test_delete_honours_an_if_match_list(service: ScimService, header: str) -> None:
    user_id, current = _user(service)
    response = _send(service, "DELETE", f"/Users/{user_id}", if_match=header.format(v=current))
    assert response.status == 204, response.body
    assert _send(service, "GET", f"/Users/{user_id}").status == 404


def test_a_stale_list_is_precondition_failed_and_changes_nothing(service: ScimService) -> None:
    user_id, current = _user(service)
    stale = f'W/"x", W/"{current}0", "a,{current}"'
    body = {"schemas": [USER], "userName": "bjensen", "title": "lost"}
    assert _send(service, "PUT", f"/Users/{user_id}", body, if_match=stale).status == 412
    assert (
        _send(service, "PATCH", f"/Users/{user_id}", _patch("lost"), if_match=stale).status == 412
    )
    assert _send(service, "DELETE", f"/Users/{user_id}", if_match=stale).status == 412
    response = _send(service, "GET", f"/Users/{user_id}")
    assert response.status == 200
    assert response.header("etag") == f'W/"{current}"'
    assert "title" not in response.json()
