"""scimcore's own service, in process, has no findings: each store, ASGI and WSGI, 2.0 and 1.1."""

from __future__ import annotations

from typing import Any

import pytest

from scimcore import ScimService
from scimcore.asgi import create_app
from scimcore.check import Report, assert_conforms, check
from tests.check._apps import TOKEN, wsgi_app

ALL_PASSED = [
    ("discovery", "passed"),
    ("auth.bad_token", "passed"),
    ("errors.not_found", "passed"),
    ("create.uniqueness", "passed"),
    ("delete.twice", "passed"),
    ("filter.username_case", "passed"),
    ("etag", "passed"),
    ("concurrency.members", "passed"),
    ("paging", "passed"),
    ("filter.differential", "passed"),
    ("patch.differential", "passed"),
    ("projection.differential", "passed"),
    ("replay.entra", "skipped"),
    ("replay.okta", "skipped"),
]


def statuses(report: Report) -> list[tuple[str, str]]:
    return [(o.check, o.status) for o in report.outcomes]


def left_behind(service: ScimService, report: Report) -> list[Any]:
    """Resources the run did not delete (its prefix names every one it made)."""
    from scimcore.models import Group, User
    from scimcore.storage import Query

    store: Any = service.store
    found = store.search(Query(models=(User, Group)))
    return [
        r
        for r in found.resources
        if (getattr(r, "user_name", None) or r.display_name or "").startswith(report.prefix)
    ]


def test_memory_asgi_version_2(memory_service: ScimService) -> None:
    app = create_app(memory_service, prefix="/scim/v2")
    report = check(app, token=TOKEN, max_examples=100, allow_destructive=True, seed=0)
    assert statuses(report) == ALL_PASSED, report.render()
    assert report.ok and report.exit_code == 0
    assert [o.examples for o in report.outcomes][-5:-3] == [100, 100]
    assert left_behind(memory_service, report) == []


def test_sqlite_wsgi_version_2(sqlite_service: ScimService) -> None:
    report = check(
        wsgi_app(sqlite_service), token=TOKEN, max_examples=60, allow_destructive=True, seed=1
    )
    assert statuses(report) == ALL_PASSED, report.render()
    assert left_behind(sqlite_service, report) == []


@pytest.mark.slow
def test_postgres_version_2(postgres_service: ScimService) -> None:
    app = create_app(postgres_service, prefix="/scim/v2")
    report = check(app, token=TOKEN, max_examples=60, allow_destructive=True, seed=2)
    assert statuses(report) == ALL_PASSED, report.render()
    assert left_behind(postgres_service, report) == []


def test_memory_version_1(memory_service: ScimService) -> None:
    app = wsgi_app(memory_service, version=1)
    report = check(app, token=TOKEN, version=1, max_examples=60, allow_destructive=True, seed=3)
    expected = dict(ALL_PASSED)
    expected["concurrency.members"] = "skipped"
    expected["patch.differential"] = "skipped"
    expected["projection.differential"] = "skipped"
    assert statuses(report) == list(expected.items()), report.render()
    reasons = {o.check: o.reason for o in report.outcomes if o.status == "skipped"}
    assert reasons == {
        "concurrency.members": "needs SCIM 2.0 PATCH",
        "patch.differential": "SCIM 1.1 PATCH is not compared yet",
        "projection.differential": "SCIM 1.1 projections are not compared yet",
        "replay.entra": "a compatibility replay: runs with --profile entra",
        "replay.okta": "a compatibility replay: runs with --profile okta",
    }


def test_destructive_checks_wait_for_permission(memory_service: ScimService) -> None:
    report = check(
        wsgi_app(memory_service), token=TOKEN, only=["concurrency.members"], max_examples=5
    )
    assert [(o.check, o.status, o.reason) for o in report.outcomes] == [
        ("discovery", "passed", ""),
        (
            "concurrency.members",
            "skipped",
            "destructive: needs allow_destructive (--allow-destructive)",
        ),
    ]


def test_the_pytest_helper_passes_a_conformant_app(memory_service: ScimService) -> None:
    report = assert_conforms(
        create_app(memory_service, prefix="/scim/v2"), token=TOKEN, max_examples=20
    )
    assert report.ok


@pytest.mark.slow
def test_the_acceptance_budget_of_2000_examples(memory_service: ScimService) -> None:
    # Issue 18's acceptance: no findings with a budget of 2,000 examples (every check,
    # against `scimcore serve` over loopback: benchmarks/bench_check.py).
    fuzzed = ["filter.differential", "patch.differential"]
    report = check(wsgi_app(memory_service), token=TOKEN, max_examples=2000, only=fuzzed, seed=4)
    assert statuses(report) == [
        ("discovery", "passed"),
        ("filter.differential", "passed"),
        ("patch.differential", "passed"),
    ], report.render()
    assert [o.examples for o in report.outcomes] == [0, 2000, 2000]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize(
    ("store", "version"),
    [("sqlite", 2), ("postgres", 2), ("memory", 1), ("sqlite", 1), ("postgres", 1)],
)
def test_the_acceptance_budget_on_every_store_and_version(
    store: str, version: int, request: pytest.FixtureRequest
) -> None:
    # The rest of issue 18's acceptance: 2,000 examples of each differential check on the
    # SQLite and PostgreSQL stores and on SCIM 1.1 (which compares filters only), no findings.
    service: ScimService = request.getfixturevalue(f"{store}_service")
    fuzzed = ["filter.differential"] + (["patch.differential"] if version == 2 else [])
    report = check(
        wsgi_app(service, version=version),
        token=TOKEN,
        version=version,
        max_examples=2000,
        only=fuzzed,
        seed=5,
    )
    assert report.ok, report.render()
    assert [o.examples for o in report.outcomes][1:] == [2000] * len(fuzzed)
