"""Real servers for the sync's live tests: ``scimcore serve`` (SQLite, PostgreSQL) and
scim2-server 0.8.3, each a child process on a free port (the client's test helpers), a fresh
one for each test (the tests compare whole servers)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.client.conftest import TOKEN, _scimcore, spawn, stop

__all__ = ["TOKEN"]


@pytest.fixture
def sqlite_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``scimcore serve --db FILE``: its base URL."""
    directory = tmp_path_factory.mktemp("sync-serve")
    process, url = _scimcore(["--db", str(directory / "scim.sqlite3")], directory / "log")
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture
def postgres_serve(tmp_path_factory: pytest.TempPathFactory, postgres_dsn: str) -> Iterator[str]:
    """``scimcore serve --postgres DSN`` in a schema of its own: its base URL."""
    import psycopg

    schema = f"scim_sync_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_dsn else "?"
    dsn = f"{postgres_dsn}{separator}options=-csearch_path%3D{schema}"
    directory = tmp_path_factory.mktemp("sync-serve-pg")
    try:
        process, url = _scimcore(["--postgres", dsn], directory / "log")
        try:
            yield url
        finally:
            stop(process)
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def scim2_serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """scim2-server 0.8.3 (in memory): its base URL."""
    from tests.client.conftest import BIN

    directory = tmp_path_factory.mktemp("sync-scim2-server")
    command = [str(BIN / "scim2-server"), "--port", "{port}", "--bearer-token", TOKEN]
    process, port = spawn(
        command, "http://127.0.0.1:{port}/v2/ServiceProviderConfig", directory / "log"
    )
    try:
        yield f"http://127.0.0.1:{port}/v2"
    finally:
        stop(process)
