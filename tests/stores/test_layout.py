"""The stores' layout: a package per store on one skeleton, none borrowing from another."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import scimcore.stores

STORES = Path(scimcore.stores.__file__).parent
PACKAGES = ("memory", "sqlite", "postgres")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_a_store_imports_no_other_store(package: str) -> None:
    others = {f"scimcore.stores.{other}" for other in PACKAGES if other != package}
    for path in (STORES / package).glob("*.py"):
        borrowed = {m for m in _imports(path) if any(m.startswith(o) for o in others)}
        assert not borrowed, f"{path.name} imports {borrowed}: share it in stores/_skeleton"


def test_the_public_names_stay_where_they_were() -> None:
    from scimcore.stores import (
        DEFAULT_LOOKUPS,
        SCHEMA_VERSION,
        AsyncPostgresStore,
        MemoryStore,
        PostgresStore,
        SQLiteStore,
    )
    from scimcore.stores.memory import MemoryStore as Memory
    from scimcore.stores.postgres import SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION
    from scimcore.stores.postgres import AsyncPostgresStore as AsyncPostgres
    from scimcore.stores.postgres import PostgresStore as Postgres
    from scimcore.stores.sqlite import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION
    from scimcore.stores.sqlite import SQLiteStore as SQLite

    assert (MemoryStore, SQLiteStore, PostgresStore, AsyncPostgresStore) == (
        Memory,
        SQLite,
        Postgres,
        AsyncPostgres,
    )
    assert (SCHEMA_VERSION, POSTGRES_SCHEMA_VERSION) == (SQLITE_SCHEMA_VERSION, 1)
    assert DEFAULT_LOOKUPS["User"] == ("userName", "externalId", "emails.value")


def test_the_stores_import_without_psycopg() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = sys.modules['psycopg_pool'] = None\n"
        "import scimcore.stores, scimcore.testing\n"
        "from scimcore.stores import PostgresStore, AsyncPostgresStore\n"
        "try:\n"
        "    PostgresStore('postgresql://nowhere')\n"
        "except ImportError:\n"
        "    print('psycopg on first use')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "psycopg on first use"
