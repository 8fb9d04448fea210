"""The storage protocol values, the async twin, the update helper and the exports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

import scimcore.storage
import scimcore.stores
from scimcore.errors import InvalidValue, NotFound, PreconditionFailed
from scimcore.models import User
from scimcore.storage import (
    AsyncResourceStore,
    AsyncStoreAdapter,
    Page,
    Query,
    ResourceStore,
    SupportsUpdate,
    update,
    versions_match,
)
from scimcore.stores import MemoryStore, SQLiteStore

R = TypeVar("R")


def test_exports_are_pinned() -> None:
    assert scimcore.storage.__all__ == [
        "AsyncResourceStore",
        "AsyncStoreAdapter",
        "Change",
        "CursorCodec",
        "Deadline",
        "Page",
        "Position",
        "Query",
        "ResourceStore",
        "SortKey",
        "SortOrder",
        "SupportsDocuments",
        "SupportsMemberUpdate",
        "SupportsMemberships",
        "SupportsUpdate",
        "comparable",
        "etag",
        "fold",
        "resolve_sort",
        "tag_matches",
        "update",
        "update_async",
        "utc_text",
        "versions_match",
    ]
    assert {"DEFAULT_LOOKUPS", "SCHEMA_VERSION", "MemoryStore", "SQLiteStore"} <= set(
        scimcore.stores.__all__
    )
    assert scimcore.stores.__all__ == sorted(
        scimcore.stores.__all__, key=lambda n: (not n.isupper(), n)
    )


def test_both_stores_implement_the_protocols() -> None:
    for store in (MemoryStore(), SQLiteStore(":memory:")):
        assert isinstance(store, ResourceStore)
        assert isinstance(store, SupportsUpdate)
        store.close()


def test_query_normalises_rfc_7644_parameters() -> None:
    query = Query(models=User, start_index=-3, count=-1, sort_order="Descending")
    assert (query.start_index, query.count, query.sort_order, query.descending) == (
        1,
        0,
        "descending",
        True,
    )
    assert Query(models=[User, User]).models == (User,)
    with pytest.raises(InvalidValue):
        Query(models=User, sort_order="sideways")  # RFC 7644 §3.4.2.3
    with pytest.raises(ValueError, match="at least one"):
        Query(models=())


def test_fingerprint_binds_filter_sort_and_count() -> None:
    base = Query(models=User, filter='userName eq "a"', sort_by="userName", count=10)
    same = Query(
        models=User, filter='userName  eq "a"', sort_by="USERNAME", count=10, start_index=5
    )
    assert base.fingerprint() == same.fingerprint()
    for other in (
        Query(models=User, filter='userName eq "b"', sort_by="userName", count=10),
        Query(models=User, filter='userName eq "a"', sort_by="title", count=10),
        Query(models=User, filter='userName eq "a"', sort_by="userName", count=11),
        Query(
            models=User,
            filter='userName eq "a"',
            sort_by="userName",
            count=10,
            sort_order="descending",
        ),
    ):
        assert other.fingerprint() != base.fingerprint()


@pytest.mark.parametrize(
    ("expected", "actual", "match"),
    [
        (None, 'W/"1"', True),
        ("*", 'W/"1"', True),
        ('W/"1"', 'W/"1"', True),
        ('"1"', 'W/"1"', True),
        ('W/"2"', 'W/"1"', False),
        ('"1"', None, False),
        (" * ", '"x"', True),
    ],
)
def test_versions_match_weakly(expected: str | None, actual: str | None, match: bool) -> None:
    assert versions_match(expected, actual) is match


class GetReplaceOnly:
    """A store without a native update: the helper falls back to get + replace."""

    def __init__(self) -> None:
        self.inner = MemoryStore()

    def create(self, resource: R) -> R:
        return self.inner.create(resource)

    def get(self, model: type[R], resource_id: str) -> R:
        return self.inner.get(model, resource_id)

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        return self.inner.replace(resource, expected_version=expected_version)

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        self.inner.delete(model, resource_id, expected_version=expected_version)

    def search(self, query: Query) -> Page[Any]:
        return self.inner.search(query)

    def close(self) -> None:
        self.inner.close()


def retitle(title: str) -> Callable[[User], User]:
    def change(user: User) -> User:
        user.title = title
        return user

    return change


@pytest.mark.parametrize("make", [MemoryStore, GetReplaceOnly, lambda: SQLiteStore(":memory:")])
def test_update_helper(make: Callable[[], Any]) -> None:
    store = make()
    user = store.create(User(user_name="u"))
    changed = update(store, User, user.id, retitle("x"), expected_version=user.meta.version)
    assert changed.title == "x"
    assert changed.meta.version != user.meta.version  # type: ignore[union-attr]
    with pytest.raises(PreconditionFailed):
        update(store, User, user.id, retitle("y"), expected_version=user.meta.version)
    with pytest.raises(NotFound):
        update(store, User, "nope", retitle("y"))
    assert store.get(User, user.id).title == "x"
    store.close()


def test_async_twin() -> None:
    async def run() -> None:
        store = AsyncStoreAdapter(SQLiteStore(":memory:"))
        assert isinstance(store, AsyncResourceStore)
        user = await store.create(User(user_name="bjensen"))
        assert (await store.get(User, user.id or "")).user_name == "bjensen"
        user.title = "t"
        replaced = await store.replace(
            user, expected_version=user.meta.version if user.meta else None
        )
        changed = await store.update(User, user.id or "", retitle("u"))
        assert changed.title == "u" and replaced.title == "t"
        page = await store.search(Query(models=User, filter='title eq "U"'))
        assert page.total == 1
        await store.delete(User, user.id or "")
        with pytest.raises(NotFound):
            await store.get(User, user.id or "")
        await store.aclose()

    asyncio.run(run())


@pytest.mark.parametrize("make", [MemoryStore, lambda **kw: SQLiteStore(":memory:", **kw)])
def test_an_expired_cursor_is_refused(make: Callable[..., Any]) -> None:
    from scimcore.errors import ExpiredCursor

    store = make(cursor_timeout=-1)
    for name in ("a", "b", "c"):
        store.create(User(user_name=name))
    token = store.search(Query(models=User, cursor="", count=1)).next_cursor
    with pytest.raises(ExpiredCursor):
        store.search(Query(models=User, cursor=token, count=1))
    store.close()
