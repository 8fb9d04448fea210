"""StoreContract on the stores of the two example apps of docs/own-table.md, as the apps make
them (``accounts_store``), on a SQLite file and on PostgreSQL: the contract learns what they
keep (Users only, the mapped attributes) and tests that, differential searches included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scimcore.testing import StoreContract
from tests.contrib.conftest import drop_schema, postgres_engine, sqlite_engine
from tests.contrib.test_examples import _example


class _ExampleContract(StoreContract):
    hypothesis_examples = 25
    given_id = "4242"  # the examples' keys are integers


class TestFastAPIExampleOnSQLite(_ExampleContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Any]:
        engine = sqlite_engine(tmp_path / "accounts.sqlite3", tables=False)
        yield _example("fastapi_sqlalchemy").accounts_store(engine)
        engine.dispose()


@pytest.mark.postgres
class TestFastAPIExampleOnPostgres(_ExampleContract):
    @pytest.fixture
    def store(self, postgres_dsn: str) -> Iterator[Any]:
        engine, schema = postgres_engine(postgres_dsn, tables=False)
        try:
            yield _example("fastapi_sqlalchemy").accounts_store(engine)
        finally:
            drop_schema(engine, schema)


class _DjangoExampleContract(_ExampleContract):
    alias = "default"

    def thread_done(self) -> None:
        from django.db import connections

        connections.close_all()  # Django's connections are per thread

    @pytest.fixture
    def store(self, request: pytest.FixtureRequest) -> Iterator[Any]:
        from tests._django import configure

        configure()
        from django.db import connections

        if self.alias == "postgres":
            request.getfixturevalue("django_postgres_schema")
        example = _example("django_accounts")
        with connections[self.alias].schema_editor() as editor:
            editor.create_model(example.Account)
        try:
            yield example.accounts_store(self.alias)
        finally:
            with connections[self.alias].schema_editor() as editor:
                editor.delete_model(example.Account)


class TestDjangoExampleOnSQLite(_DjangoExampleContract):
    alias = "default"


@pytest.mark.postgres
class TestDjangoExampleOnPostgres(_DjangoExampleContract):
    alias = "postgres"
