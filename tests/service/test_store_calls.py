"""The typed store calls a handler yields, run on sync and async stores, and the
async ``update`` fallback for an async store that has no ``update``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from scimcore.errors import NotFound, PreconditionFailed
from scimcore.models import Group, GroupMember, User
from scimcore.service import Request, ScimService, StoreCall
from scimcore.service._store_calls import (
    Create,
    Delete,
    Get,
    GetDocument,
    Memberships,
    Replace,
    Search,
    SearchDocuments,
    Update,
)
from scimcore.storage import AsyncStoreAdapter, Page, Query
from scimcore.stores import MemoryStore

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class AsyncWithoutUpdate:
    """An async store with the required methods only: no ``update``, no JSON reads."""

    def __init__(self) -> None:
        self._store = MemoryStore()

    async def create(self, resource: Any) -> Any:
        return self._store.create(resource)

    async def get(self, model: type[Any], resource_id: str) -> Any:
        return self._store.get(model, resource_id)

    async def replace(self, resource: Any, *, expected_version: str | None = None) -> Any:
        return self._store.replace(resource, expected_version=expected_version)

    async def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        self._store.delete(model, resource_id, expected_version=expected_version)

    async def search(self, query: Query) -> Page[Any]:
        page: Page[Any] = self._store.search(query)
        return page

    async def aclose(self) -> None:
        self._store.close()


def test_store_call_is_the_base_of_every_call() -> None:
    calls = [
        Get(User, "1"),
        GetDocument(User, "1"),
        Search(Query(models=(User,))),
        SearchDocuments(Query(models=(User,))),
        Memberships(Group, ["1"]),
        Create(User(user_name="b")),
        Replace(User(user_name="b")),
        Delete(User, "1"),
        Update(User, "1", lambda user: user),
    ]
    assert all(isinstance(call, StoreCall) for call in calls)
    with pytest.raises(NotImplementedError):
        StoreCall().run(MemoryStore())


def test_each_call_runs_on_a_sync_store_as_on_an_async_one() -> None:
    store = MemoryStore()
    twin = AsyncStoreAdapter(MemoryStore())
    performers: list[Callable[[StoreCall], Any]] = [
        lambda call: call.run(store),
        lambda call: asyncio.run(call.run_async(twin)),
    ]
    for perform in performers:
        user = perform(Create(User(user_name="bjensen")))
        group = perform(Create(Group(display_name="g", members=[GroupMember(value=user.id)])))
        assert perform(Get(User, user.id)).user_name == "bjensen"
        assert perform(Search(Query(models=(User,)))).total == 1
        renamed = perform(
            Update(User, user.id, lambda u: _renamed(u, "b"), expected_version=user.meta.version)
        )
        assert renamed.user_name == "b"
        replaced = perform(Replace(_renamed(renamed, "c"), expected_version=renamed.meta.version))
        assert replaced.user_name == "c"
        assert perform(Delete(Group, group.id)) is None
        with pytest.raises(NotFound):
            perform(Get(Group, group.id))
    (user,) = store.search(Query(models=(User,))).resources
    assert GetDocument(User, user.id).run(store)["userName"] == "c"
    assert SearchDocuments(Query(models=(User,))).run(store).resources[0]["userName"] == "c"
    assert Memberships(Group, [user.id]).run(store) == {user.id: []}


def _renamed(user: Any, name: str) -> Any:
    user.user_name = name
    return user


def test_update_on_an_async_store_without_update_reads_then_replaces() -> None:
    store = AsyncWithoutUpdate()

    async def main() -> None:
        user = await Create(User(user_name="bjensen")).run_async(store)
        tag = user.meta.version
        changed = await Update(
            User, user.id, lambda u: _renamed(u, "b"), expected_version=f'W/"nope", {tag}'
        ).run_async(store)
        assert changed.user_name == "b"
        with pytest.raises(PreconditionFailed):
            await Update(User, user.id, lambda u: _renamed(u, "c"), expected_version=tag).run_async(
                store
            )

    asyncio.run(main())


def test_a_service_over_an_async_store_without_update_patches() -> None:
    service = ScimService(AsyncWithoutUpdate())

    def send(method: str, path: str, body: Any = None, **headers: str) -> Any:
        data = json.dumps(body).encode() if body is not None else b""
        return asyncio.run(service.handle_async(Request(method, path, headers=headers, body=data)))

    created = send("POST", "/Users", {"schemas": [USER], "userName": "bjensen"})
    assert created.status == 201
    path, tag = f"/Users/{created.json()['id']}", created.header("ETag")
    patch = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "replace", "path": "title", "value": "Tour Guide"}],
    }
    stale = send("PATCH", path, patch, **{"If-Match": 'W/"0"'})
    assert stale.status == 412
    patched = send("PATCH", path, patch, **{"If-Match": f'W/"0", {tag}'})
    assert patched.status == 200, patched.body
    assert patched.json()["title"] == "Tour Guide"
    assert patched.header("ETag") != tag
    assert send("PATCH", path, patch).status == 200  # no change: nothing written
    assert send("GET", path).header("ETag") == patched.header("ETag")
