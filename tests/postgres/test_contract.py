"""PostgresStore and its async twin pass the store contract, the Hypothesis differential included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from scimcore.stores import AsyncPostgresStore, PostgresStore
from scimcore.testing import BlockingStore, StoreContract
from tests.postgres.conftest import schema_name

pytestmark = pytest.mark.postgres


class TestPostgresStore(StoreContract):
    #: SQL against the evaluator: 1,000 generated filters over generated users.
    hypothesis_examples: ClassVar[int] = 1000

    @pytest.fixture
    def store(self, pg_store: PostgresStore) -> PostgresStore:
        return pg_store


class TestAsyncPostgresStore(StoreContract):
    """The async twin, driven through BlockingStore on its own event loop."""

    hypothesis_examples: ClassVar[int] = 50
    threads: ClassVar[int] = 4

    @pytest.fixture
    def store(self, postgres_dsn: str) -> Iterator[BlockingStore]:
        schema = schema_name()
        store = BlockingStore.open(
            lambda: AsyncPostgresStore.open(postgres_dsn, schema=schema, pool_size=4)
        )
        try:
            yield store
        finally:
            store.close()
            dropper = PostgresStore(postgres_dsn, schema=schema, pool_size=1)
            dropper.drop()
            dropper.close()
