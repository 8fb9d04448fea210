"""PostgresStore passes the store contract, the Hypothesis differential included."""

from __future__ import annotations

from typing import ClassVar

import pytest

from scimcore.stores import PostgresStore
from scimcore.testing import StoreContract

pytestmark = pytest.mark.postgres


class TestPostgresStore(StoreContract):
    #: SQL against the evaluator: 1,000 generated filters over generated users.
    hypothesis_examples: ClassVar[int] = 1000

    @pytest.fixture
    def store(self, pg_store: PostgresStore) -> PostgresStore:
        return pg_store
