"""Both shipped stores pass the store contract (scimcore.testing.StoreContract)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from scimcore.storage import AsyncStoreAdapter
from scimcore.stores import MemoryStore, SQLiteStore
from scimcore.testing import BlockingStore, StoreContract


class TestMemoryStore(StoreContract):
    hypothesis_examples: ClassVar[int] = 300

    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        store = MemoryStore()
        yield store
        store.close()


class TestMemoryStoreEvaluatorOnly(StoreContract):
    """``scan_columns=False``: the evaluator on every row, no hash-column narrowing."""

    hypothesis_examples: ClassVar[int] = 100

    @pytest.fixture
    def store(self) -> Iterator[MemoryStore]:
        store = MemoryStore(scan_columns=False)
        yield store
        store.close()


class TestSQLiteStore(StoreContract):
    #: The acceptance run: SQL against the evaluator, at least 2,000 generated examples.
    hypothesis_examples: ClassVar[int] = 2000

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        store = SQLiteStore(tmp_path / "scim.sqlite3")
        yield store
        store.close()


class TestSQLiteStoreInMemory(StoreContract):
    hypothesis_examples: ClassVar[int] = 100
    threads: ClassVar[int] = 4

    @pytest.fixture
    def store(self) -> Iterator[SQLiteStore]:
        store = SQLiteStore(":memory:")
        yield store
        store.close()


class TestAsyncTwin(StoreContract):
    """The async twin (AsyncStoreAdapter over SQLiteStore), driven through BlockingStore."""

    hypothesis_examples: ClassVar[int] = 50
    threads: ClassVar[int] = 4

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[BlockingStore]:
        store = BlockingStore(AsyncStoreAdapter(SQLiteStore(tmp_path / "scim.sqlite3")))
        yield store
        store.close()
