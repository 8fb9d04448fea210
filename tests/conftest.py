"""Shared fixtures.

``postgres_dsn`` gives the DSN of a reachable PostgreSQL server
(``SCIMCORE_POSTGRES_DSN``, default ``postgresql://postgres@127.0.0.1:5432/test``).
When the server cannot be reached the test is skipped with a message naming it,
except under ``CI=true``, where it fails: CI must never skip these tests.

The tests' PostgreSQL sessions commit without waiting for the server's WAL flush
(``synchronous_commit = off``, through libpq's ``PGOPTIONS``, unless it is already
set): what a commit makes visible, and when, is unchanged, and no test crashes the
PostgreSQL server itself, so no test can tell the difference but the time (a fuzzed
run of 2,000 PATCHes against the PostgreSQL store took 96 s with the flush, 57 s
without).

Tests marked ``slow`` (the long property, differential, compliance and multi-process
HTTP tests) are left out by ``nox -s quick`` (``-m "not slow"``); the full suite runs them.
"""

from __future__ import annotations

import os

import pytest

DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"

# Set before any connection is made (the servers the tests start inherit it too).
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")

#: Tests inherited from ``scimcore.testing.StoreContract`` (library code, which cannot
#: assume the ``slow`` marker): the differential searches against the evaluator, slow
#: wherever a store runs them.
SLOW_CONTRACT_TESTS = frozenset({"test_differential_search", "test_differential_search_generated"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the store contract's differential searches ``slow``, and run the ``slow`` tests
    first: under ``-n auto`` a long test that starts last would leave one worker running it
    alone at the end."""
    for item in items:
        if isinstance(item, pytest.Function) and item.originalname in SLOW_CONTRACT_TESTS:
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: else in order


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """The DSN of a reachable PostgreSQL server; skips (fails under CI=true) otherwise."""
    dsn = os.environ.get("SCIMCORE_POSTGRES_DSN", DEFAULT_POSTGRES_DSN)
    try:
        import psycopg

        with psycopg.connect(dsn, connect_timeout=5) as connection:
            connection.execute("select 1")
    except Exception as exc:  # any failure to reach the server
        message = f"PostgreSQL at {dsn} is not reachable ({type(exc).__name__}: {exc})"
        if _in_ci():
            pytest.fail(f"{message}; CI=true requires it", pytrace=False)
        pytest.skip(message)
    return dsn
