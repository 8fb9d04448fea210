"""The two read paths of the service give the same responses.

A store that offers its JSON (:class:`~scimcore.storage.SupportsDocuments`:
``SQLiteStore``, ``MemoryStore``) is served without building models; any other
store goes through ``get``/``search`` and the codec. Every request here is
sent to both, over the same data, and the responses must be equal: status,
headers and the JSON body (``groups`` computed from membership, ``returned``,
``attributes``/``excludedAttributes``, ETags, 304 and 412, lists over two
resource types, cursors).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scimcore.service import Request, ScimService
from scimcore.storage import Page, Query, SupportsDocuments, SupportsMemberships
from scimcore.stores import MemoryStore, SQLiteStore

BASE = "https://example.com/scim/v2"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
JSON = {"Content-Type": "application/scim+json"}


class ModelsOnly:
    """A store that hides the JSON read path of the store it wraps."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def create(self, resource: Any) -> Any:
        return self._store.create(resource)

    def get(self, model: type[Any], resource_id: str) -> Any:
        return self._store.get(model, resource_id)

    def replace(self, resource: Any, *, expected_version: str | None = None) -> Any:
        return self._store.replace(resource, expected_version=expected_version)

    def delete(self, model: type[Any], resource_id: str, **kwargs: Any) -> None:
        self._store.delete(model, resource_id, **kwargs)

    def search(self, query: Query) -> Page[Any]:
        page: Page[Any] = self._store.search(query)
        return page

    def update(self, *args: Any, **kwargs: Any) -> Any:
        return self._store.update(*args, **kwargs)

    def close(self) -> None:
        self._store.close()


class DocumentsOnly(ModelsOnly):
    """A store with the JSON read path but no ``memberships``: groups are searched."""

    def get_document(self, model: type[Any], resource_id: str) -> Any:
        return self._store.get_document(model, resource_id)

    def search_documents(self, query: Query) -> Page[Any]:
        page: Page[Any] = self._store.search_documents(query)
        return page


def _users_and_groups(service: ScimService) -> dict[str, str]:
    """Three users (one with the enterprise extension and a password) in two groups."""
    ids = {}
    bodies = {
        "bjensen": {
            "schemas": [USER, ENTERPRISE],
            "userName": "bjensen",
            "password": "t1meMa$heen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
            "title": "Tour Guide",
            ENTERPRISE: {"employeeNumber": "701984", "manager": {"value": "26118915"}},
        },
        "jsmith": {"schemas": [USER], "userName": "jsmith", "active": False},
        "alone": {"schemas": [USER], "userName": "alone", "x509Certificates": []},
    }
    for name, body in bodies.items():
        response = service.handle(
            Request("POST", "/Users", headers=JSON, body=json.dumps(body).encode(), base_url=BASE)
        )
        assert response.status == 201, response.body
        ids[name] = response.json()["id"]
    for name, members in (("Tour Guides", ["bjensen", "jsmith"]), ("Staff", ["bjensen"])):
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": name,
            "members": [{"value": ids[m]} for m in members],
        }
        response = service.handle(
            Request("POST", "/Groups", headers=JSON, body=json.dumps(body).encode(), base_url=BASE)
        )
        assert response.status == 201, response.body
        ids[name] = response.json()["id"]
    return ids


@pytest.fixture(params=["sqlite", "memory", "sqlite-no-memberships"])
def services(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Any, Any, dict[str, dict[str, str]]]]:
    def store() -> Any:
        if request.param.startswith("sqlite"):
            return SQLiteStore(tmp_path / f"{len(list(tmp_path.iterdir()))}.sqlite3")
        return MemoryStore()

    documents: Any = DocumentsOnly(store()) if request.param == "sqlite-no-memberships" else store()
    models_only = ModelsOnly(store())
    opened: list[Any] = [documents, models_only]
    assert isinstance(documents, SupportsDocuments)
    assert not isinstance(models_only, SupportsDocuments)
    assert isinstance(documents, SupportsMemberships) is (request.param != "sqlite-no-memberships")
    fast, slow = ScimService(documents), ScimService(models_only)
    fast_ids, slow_ids = _users_and_groups(fast), _users_and_groups(slow)
    yield fast, slow, {"fast": fast_ids, "slow": slow_ids}
    for opened_store in opened:
        opened_store.close()


def _normalised(response: Any, ids: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    """A response with the ids, times and versions that differ between the stores renamed."""
    text = response.body.decode()
    for name, value in ids.items():
        text = text.replace(value, f"<{name}>")
    body = json.loads(text) if text else None

    def scrub(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: "<t>"
                if k in ("created", "lastModified", "version", "nextCursor", "previousCursor")
                else scrub(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [scrub(v) for v in value]
        return value

    headers = {k: v for k, v in response.headers if k != "ETag"}
    return response.status, headers, scrub(body)


def _both(
    services: tuple[Any, Any, dict[str, dict[str, str]]],
    method: str,
    path: str,
    query: str = "",
    **kw: Any,
) -> Any:
    fast, slow, ids = services
    out = []
    for service, which in ((fast, "fast"), (slow, "slow")):
        real = path.format(**ids[which])
        headers = dict(kw.get("headers", {}))
        for name, value in list(headers.items()):
            headers[name] = value.format(**ids[which])
        request = Request(method, real, query=query.format(**ids[which]), headers=headers)
        response = service.handle(
            Request(
                request.method, request.path, query=request.query, headers=headers, base_url=BASE
            )
        )
        out.append((response, _normalised(response, ids[which])))
    (fast_response, fast_view), (_, slow_view) = out
    assert fast_view == slow_view
    return fast_response


@pytest.mark.parametrize(
    "query",
    [
        "",
        "attributes=userName,groups",
        "attributes=groups.display",
        "attributes=emails.value,name.givenName",
        "excludedAttributes=groups",
        "excludedAttributes=emails,name.familyName,urn:ietf:params:scim:schemas:extension:"
        "enterprise:2.0:User:employeeNumber",
        "attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        "attributes=password",
        "excludedAttributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ],
)
@pytest.mark.parametrize("user", ["bjensen", "jsmith", "alone"])
def test_get_by_id_is_the_same_on_both_paths(services: Any, query: str, user: str) -> None:
    response = _both(services, "GET", f"/Users/{{{user}}}", query)
    assert response.status == 200
    body = response.json()
    assert "password" not in body
    if user == "bjensen" and not query:
        assert [g["display"] for g in body["groups"]] == ["Tour Guides", "Staff"]
        assert body["meta"]["location"] == f"{BASE}/Users/{body['id']}"
        assert response.header("ETag") == body["meta"]["version"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "filter=userName+sw+%22j%22",
        'filter=groups.display+eq+"Staff"',
        "sortBy=userName&sortOrder=descending&count=2",
        "startIndex=2&count=1",
        "count=0",
        "attributes=userName,groups",
        "excludedAttributes=groups,emails",
        "cursor&count=2",
        "filter=active+eq+false&attributes=active",
    ],
)
def test_user_lists_are_the_same_on_both_paths(services: Any, query: str) -> None:
    response = _both(services, "GET", "/Users", query)
    assert response.status == 200


def test_root_and_group_lists_are_the_same_on_both_paths(services: Any) -> None:
    assert _both(services, "GET", "/Groups").json()["totalResults"] == 2
    body = _both(services, "GET", "/", "sortBy=meta.resourceType").json()
    assert [r["meta"]["resourceType"] for r in body["Resources"]] == ["Group"] * 2 + ["User"] * 3
    users = [r for r in body["Resources"] if r["meta"]["resourceType"] == "User"]
    assert {len(u.get("groups", [])) for u in users} == {0, 1, 2}


def test_preconditions_are_the_same_on_both_paths(services: Any) -> None:
    fast, _, ids = services
    version = fast.handle(Request("GET", f"/Users/{ids['fast']['bjensen']}", base_url=BASE)).header(
        "ETag"
    )
    response = fast.handle(
        Request(
            "GET",
            f"/Users/{ids['fast']['bjensen']}",
            headers={"If-None-Match": version},
            base_url=BASE,
        )
    )
    assert (response.status, response.header("ETag"), response.body) == (304, version, b"")
    response = fast.handle(
        Request(
            "GET", f"/Users/{ids['fast']['bjensen']}", headers={"If-Match": 'W/"0"'}, base_url=BASE
        )
    )
    assert response.status == 412
    _both(services, "GET", "/Users/{bjensen}", headers={"If-Match": 'W/"0"'})
    _both(services, "GET", "/Users/nope")
    _both(services, "GET", "/Groups/{bjensen}")


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    attributes=st.lists(
        st.sampled_from(
            [
                "userName",
                "groups",
                "groups.value",
                "emails.type",
                "meta",
                "meta.version",
                "id",
                "name",
                "title",
                "active",
                "password",
                "UserName",
                ENTERPRISE,
                f"{ENTERPRISE}:manager.value",
                "nonsense",
            ]
        ),
        max_size=4,
    ),
    excluded=st.booleans(),
)
def test_projections_are_the_same_on_both_paths(
    tmp_path_factory: pytest.TempPathFactory, attributes: list[str], excluded: bool
) -> None:
    directory = tmp_path_factory.mktemp("paths")
    fast = ScimService(SQLiteStore(directory / "a.sqlite3"))
    slow = ScimService(ModelsOnly(SQLiteStore(directory / "b.sqlite3")))
    ids = {"fast": _users_and_groups(fast), "slow": _users_and_groups(slow)}
    name = "excludedAttributes" if excluded else "attributes"
    query = f"{name}={','.join(attributes)}" if attributes else ""
    try:
        _both((fast, slow, ids), "GET", "/Users/{bjensen}", query)
        _both((fast, slow, ids), "GET", "/Users", query)
    finally:
        fast.store.close()
        slow.store.close()


class _ThreadRecorder:
    """Records the thread each store call runs on (a store without ``short_calls``)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.threads: list[int] = []

    def __getattr__(self, name: str) -> Any:
        if name == "short_calls":
            raise AttributeError(name)
        method = getattr(self.store, name)
        if name.startswith("quick_"):  # where a call runs is decided by asking these
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self.threads.append(threading.get_ident())
            return method(*args, **kwargs)

        return call


class _ShortRecorder(_ThreadRecorder):
    short_calls = True


@pytest.mark.parametrize(
    ("recorder", "sync_to_thread", "path", "on_loop"),
    [
        (_ThreadRecorder, None, "/Users/nope", False),  # an unknown sync store: in a worker
        (_ThreadRecorder, None, "/Users", False),
        # A store whose calls are short: a read by id on the loop, a search in a worker,
        # unless the store says its indexes answer it (quick_search: a page in creation order).
        (_ShortRecorder, None, "/Users/nope", True),
        (_ShortRecorder, None, '/Users?filter=title co "x"', False),
        (_ShortRecorder, None, "/Users", True),
        (_ShortRecorder, True, "/Users/nope", False),
        (_ThreadRecorder, False, "/Users", True),
    ],
)
def test_where_handle_async_runs_a_sync_store(
    recorder: type[_ThreadRecorder], sync_to_thread: bool | None, path: str, on_loop: bool
) -> None:
    store = recorder(MemoryStore())
    service = ScimService(store)

    async def main() -> int:
        route, _, query = path.partition("?")
        await service.handle_async(Request("GET", route, query), sync_to_thread=sync_to_thread)
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert store.threads
    assert all((t == loop_thread) is on_loop for t in store.threads)


def test_the_shipped_sync_stores_declare_short_calls(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    assert store.short_calls is True
    assert MemoryStore().short_calls is True
    store.close()
