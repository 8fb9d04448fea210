"""Fixtures: scimcore's own service as an in-process app, over each store."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from scimcore import ScimService
from scimcore.stores import MemoryStore, SQLiteStore
from tests.check._apps import TOKEN


@pytest.fixture
def memory_service() -> ScimService:
    return ScimService(MemoryStore(), tokens=[TOKEN])


@pytest.fixture
def sqlite_service(tmp_path: Path) -> Iterator[ScimService]:
    store = SQLiteStore(tmp_path / "scim.sqlite3")
    yield ScimService(store, tokens=[TOKEN])
    store.close()


@pytest.fixture
def postgres_service(postgres_dsn: str) -> Iterator[ScimService]:
    from scimcore.stores import PostgresStore

    store = PostgresStore(postgres_dsn, schema=f"scim_check_{secrets.token_hex(6)}", pool_size=10)
    try:
        yield ScimService(store, tokens=[TOKEN])
    finally:
        store.drop()
        store.close()
