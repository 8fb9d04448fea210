"""PostgresStore passes the store contract, the Hypothesis differential included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from scimcore.stores import PostgresStore
from scimcore.testing import StoreContract


class TestPostgresStore(StoreContract):
    hypothesis_examples: ClassVar[int] = 300

    @pytest.fixture
    def store(self, pg_store: PostgresStore) -> Iterator[PostgresStore]:
        yield pg_store
