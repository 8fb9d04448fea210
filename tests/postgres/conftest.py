"""Fixtures: a PostgresStore in a schema of its own, dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from scimcore.stores import PostgresStore


def schema_name() -> str:
    """A fresh schema name, so that tests and developers never share tables."""
    return f"scim_test_{secrets.token_hex(6)}"


@pytest.fixture
def pg_store(postgres_dsn: str) -> Iterator[PostgresStore]:
    """An empty store in a new schema."""
    store = PostgresStore(postgres_dsn, schema=schema_name(), pool_size=10)
    try:
        yield store
    finally:
        store.drop()
        store.close()
