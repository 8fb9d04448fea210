"""AsyncMappedStore: MappedStore's tests and StoreContract on an async engine (aiosqlite on a
SQLite file, psycopg's async driver on PostgreSQL), and a service on it over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from scimcore.contrib.sqlalchemy import AsyncMappedStore, MappedStore
from scimcore.models import User
from scimcore.service import ScimService
from scimcore.storage import Query
from scimcore.testing import BlockingStore
from scimcore.testing._base import StoreShape
from tests.contrib._host import ACCOUNTS, Account
from tests.contrib.conftest import drop_schema, postgres_engine, sqlite_engine
from tests.contrib.test_sqlalchemy import (
    after_thread,
    test_a_value_the_column_cannot_hold_is_invalid_value,
    test_concurrent_writes_lose_no_update,
    test_cursors_walk_every_row_once_both_ways,
    test_filters_on_attributes_not_kept_are_invalid,
    test_filters_pushed_down,
    test_filters_the_evaluator_refuses_are_refused,
    test_host_unique_constraint_is_409_uniqueness,
    test_other_resource_types_are_refused,
    test_round_trip_through_the_host_row,
    test_sort_and_pages,
    test_update_is_one_transaction_and_skips_no_change,
    test_versions_and_preconditions,
)
from tests.contrib.test_sqlalchemy_contract import TestMappedStoreContract as SyncContract

__all__ = [
    "after_thread",
    "test_a_value_the_column_cannot_hold_is_invalid_value",
    "test_concurrent_writes_lose_no_update",
    "test_cursors_walk_every_row_once_both_ways",
    "test_filters_on_attributes_not_kept_are_invalid",
    "test_filters_pushed_down",
    "test_filters_the_evaluator_refuses_are_refused",
    "test_host_unique_constraint_is_409_uniqueness",
    "test_other_resource_types_are_refused",
    "test_round_trip_through_the_host_row",
    "test_sort_and_pages",
    "test_update_is_one_transaction_and_skips_no_change",
    "test_versions_and_preconditions",
]


def async_engine(engine: Engine) -> AsyncEngine:
    """An async engine on the same database (and PostgreSQL schema) as the sync ``engine``."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        url = url.set(drivername="sqlite+aiosqlite")
    else:
        url = url.set(drivername="postgresql+psycopg_async")
    translate = engine.get_execution_options().get("schema_translate_map")
    if not translate:
        return create_async_engine(url)
    # the schema's own scimcore_fold first on the search_path, as postgres_engine has it
    return create_async_engine(
        url,
        execution_options={"schema_translate_map": translate},
        connect_args={"options": f"-c search_path={translate[None]}"},
    )


class _OwnEngine(AsyncMappedStore):
    """A test's store, which owns its engine: closing it disposes of the engine."""

    async def aclose(self) -> None:
        await self.sessions.kw["bind"].dispose()


def blocking(engine: AsyncEngine, **options: Any) -> BlockingStore:
    """The async store as the sync tests drive it (its event loop in a thread)."""
    return BlockingStore(_OwnEngine(engine, Account, ACCOUNTS, cursor_secret=b"k" * 32, **options))


@pytest.fixture
def store(engine: Engine) -> Iterator[BlockingStore]:
    found = blocking(async_engine(engine))
    yield found
    found.close()


class TestAsyncMappedStoreContract(SyncContract):
    """StoreContract on AsyncMappedStore over a SQLite file (aiosqlite), with the sync
    store's expectations (its known failures included)."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Any]:
        sync = sqlite_engine(tmp_path / "accounts.sqlite3")
        found = blocking(async_engine(sync))
        yield found
        found.close()
        sync.dispose()


def test_the_shape_is_the_async_stores(store: BlockingStore) -> None:
    shape = StoreShape.of(store)
    assert shape.models == (User,)
    assert shape.keeps("name.givenName") and not shape.keeps("title")


def test_an_async_session_factory_is_a_bind(engine: Engine) -> None:
    found = async_engine(engine)

    async def run() -> tuple[str | None, list[str | None]]:
        store = AsyncMappedStore(async_sessionmaker(found), Account, ACCOUNTS)
        created = await store.create(User(user_name="bjensen"))
        assert created.id is not None
        got = await store.get(User, created.id)
        page = await store.search(Query(models=User, filter='userName eq "BJENSEN"'))
        await store.aclose()
        await found.dispose()
        return got.user_name, [u.id for u in page.resources]

    user_name, found_ids = asyncio.run(run())
    with engine.connect() as connection:
        assert found_ids == [str(connection.execute(select(Account.id)).scalar_one())]
    assert user_name == "bjensen"


def test_the_wrong_engine_is_a_clear_type_error(engine: Engine) -> None:
    found = async_engine(engine)
    with pytest.raises(TypeError, match="AsyncMappedStore"):
        MappedStore(found, Account, ACCOUNTS)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="for an Engine or a sessionmaker: MappedStore"):
        AsyncMappedStore(engine, Account, ACCOUNTS)  # type: ignore[arg-type]
    asyncio.run(found.dispose())


def test_a_service_on_it_over_http(engine: Engine) -> None:
    """uvicorn on loopback serves the async store (the service awaits it with
    ``handle_async``); the host disposes of its engine when the server shuts down."""
    from scimcore.asgi import create_app
    from tests._live import Client, LiveServer

    found = async_engine(engine)
    store = AsyncMappedStore(found, Account, ACCOUNTS, cursor_secret=b"k" * 32)
    app = create_app(ScimService(store, resource_types=[User], tokens=["t"]))

    async def hosted(scope: Any, receive: Any, send: Any) -> None:
        async def received() -> Any:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await found.dispose()
            return message

        await app(scope, received if scope["type"] == "lifespan" else receive, send)

    schemas = ["urn:ietf:params:scim:schemas:core:2.0:User"]
    with LiveServer(hosted) as port:
        client = Client(port, "", "t")
        created = client.post(
            "/Users",
            {
                "schemas": schemas,
                "userName": "bjensen",
                "emails": [{"type": "work", "value": "b@x"}],
            },
        )
        assert created.status == 201, created
        user_id = created.json["id"]
        assert created.headers["etag"] == 'W/"1"'
        assert created.json["emails"] == [{"type": "work", "value": "b@x"}]
        taken = client.post("/Users", {"schemas": schemas, "userName": "BJensen"})
        assert (taken.status, taken.json["scimType"]) == (409, "uniqueness")
        listed = client.get("/Users?filter=userName%20eq%20%22BJENSEN%22")
        assert listed.json["totalResults"] == 1
        assert [r["id"] for r in listed.json["Resources"]] == [user_id]
        patched = client.patch(
            f"/Users/{user_id}",
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            },
            headers={"If-Match": 'W/"1"'},
        )
        assert patched.status == 200, patched
        assert (patched.json["active"], patched.headers["etag"]) == (False, 'W/"2"')
        stale = client.delete(f"/Users/{user_id}", headers={"If-Match": 'W/"1"'})
        assert (stale.status, stale.json["status"]) == (412, "412")
        bad = client.get("/Users?filter=title%20eq%20%22x%22")
        assert (bad.status, bad.json["scimType"]) == (400, "invalidFilter")
        assert client.delete(f"/Users/{user_id}").status == 204
        assert client.get(f"/Users/{user_id}").status == 404
    with engine.connect() as connection:
        assert connection.execute(select(Account.id)).all() == []


@pytest.mark.postgres
class TestAsyncMappedStorePostgresContract(SyncContract):
    """StoreContract on AsyncMappedStore over PostgreSQL (psycopg's async driver)."""

    @pytest.fixture
    def store(self, postgres_dsn: str) -> Iterator[Any]:
        sync, schema = postgres_engine(postgres_dsn)
        found = blocking(async_engine(sync))
        yield found
        found.close()
        drop_schema(sync, schema)
