"""DjangoStore on the host's own model: the MappedStore tests, on a SQLite file and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scimcore.contrib.django import DjangoStore
from tests.contrib._host import ACCOUNTS
from tests.contrib.test_sqlalchemy import (
    test_a_value_the_column_cannot_hold_is_invalid_value,
    test_concurrent_writes_lose_no_update,
    test_cursors_walk_every_row_once_both_ways,
    test_filters_on_attributes_not_kept_are_invalid,
    test_filters_pushed_down,
    test_filters_the_evaluator_refuses_are_refused,
    test_host_unique_constraint_is_409_uniqueness,
    test_other_resource_types_are_refused,
    test_sort_and_pages,
    test_update_is_one_transaction_and_skips_no_change,
    test_versions_and_preconditions,
)

__all__ = [
    "test_a_value_the_column_cannot_hold_is_invalid_value",
    "test_concurrent_writes_lose_no_update",
    "test_cursors_walk_every_row_once_both_ways",
    "test_filters_on_attributes_not_kept_are_invalid",
    "test_filters_pushed_down",
    "test_filters_the_evaluator_refuses_are_refused",
    "test_host_unique_constraint_is_409_uniqueness",
    "test_other_resource_types_are_refused",
    "test_sort_and_pages",
    "test_update_is_one_transaction_and_skips_no_change",
    "test_versions_and_preconditions",
]


@pytest.fixture
def after_thread() -> Callable[[], None]:
    """A writer thread closes the Django connections it opened."""
    from django.db import connections

    def close() -> None:
        connections.close_all()

    return close


@pytest.fixture
def store(django_alias: str) -> DjangoStore:
    from tests.contrib.django_host import Account

    return DjangoStore(Account, ACCOUNTS, using=django_alias, cursor_secret=b"k" * 32)


def test_the_filter_is_a_query(store: DjangoStore) -> None:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from scimcore.models import User
    from scimcore.storage import Query

    store.create(User(user_name="bjensen"))
    store.create(User(user_name="JSmith"))
    with CaptureQueriesContext(connections[store.using]) as captured:
        page = store.search(Query(models=User, filter='userName eq "JSMITH"', count=5))
    assert [u.user_name for u in page.resources] == ["JSmith"]
    selects: list[Any] = [q["sql"] for q in captured.captured_queries if "LIMIT" in q["sql"]]
    assert len(selects) == 1
    assert 'LOWER("accounts"."username") =' in selects[0]
