"""Engines for the host table: a SQLite file, and PostgreSQL in a schema of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from scimcore.contrib.sqlalchemy import install_fold
from tests.contrib._host import Base
from tests.postgres.conftest import schema_name

#: The Django model module is imported by the fixtures once Django is configured, not collected.
collect_ignore = ["django_host.py"]


def sqlite_engine(path: Path, *, tables: bool = True) -> Engine:
    """A SQLite file with the host's table (with ``tables``)."""
    engine = create_engine(f"sqlite:///{path}")
    install_fold(engine)
    if tables:
        Base.metadata.create_all(engine)
    return engine


def postgres_engine(dsn: str, *, tables: bool = True) -> tuple[Engine, str]:
    """A PostgreSQL engine whose tables (and ``scimcore_fold``) live in a new schema, the
    first of its ``search_path``, and that schema."""
    schema = schema_name()
    url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    setup = create_engine(url)
    with setup.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    setup.dispose()
    engine = create_engine(
        url,
        execution_options={"schema_translate_map": {None: schema}},
        connect_args={"options": f"-c search_path={schema}"},
    )
    install_fold(engine)
    if tables:
        Base.metadata.create_all(engine)
    return engine, schema


def drop_schema(engine: Engine, schema: str) -> None:
    """Drop a schema made by :func:`postgres_engine`."""
    engine.dispose()
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The host's database: a SQLite file, then PostgreSQL."""
    yield from _engines(request, tmp_path, tables=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database (an example app makes its tables): a SQLite file, then PostgreSQL."""
    yield from _engines(request, tmp_path, tables=False)


def _engines(request: pytest.FixtureRequest, tmp_path: Path, *, tables: bool) -> Iterator[Engine]:
    if request.param == "sqlite":
        found = sqlite_engine(tmp_path / "host.sqlite3", tables=tables)
        yield found
        found.dispose()
        return
    dsn: str = request.getfixturevalue("postgres_dsn")
    found, schema = postgres_engine(dsn, tables=tables)
    try:
        yield found
    finally:
        drop_schema(found, schema)


@pytest.fixture(scope="session")
def django_postgres_schema(postgres_dsn: str) -> Iterator[str]:
    """This process's PostgreSQL schema for Django's tables, dropped at the end."""
    import psycopg

    from tests._django import POSTGRES_SCHEMA

    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{POSTGRES_SCHEMA}"')
    from scimcore.contrib.django import install_fold

    install_fold("postgres")  # in the schema, the first of the alias's search_path
    yield POSTGRES_SCHEMA
    from django.db import connections

    connections["postgres"].close()
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{POSTGRES_SCHEMA}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def django_alias(request: pytest.FixtureRequest) -> Iterator[str]:
    """A Django database alias with the host's table: SQLite, then PostgreSQL."""
    from tests._django import configure

    configure()
    from django.db import connections

    from tests.contrib.django_host import Account

    alias = "default" if request.param == "sqlite" else "postgres"
    if alias == "postgres":
        request.getfixturevalue("django_postgres_schema")
    with connections[alias].schema_editor() as editor:
        editor.create_model(Account)
    try:
        yield alias
    finally:
        with connections[alias].schema_editor() as editor:
            editor.delete_model(Account)
        connections[alias].close()
