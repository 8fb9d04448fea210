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
    assert 'scimcore_fold("accounts"."username") =' in selects[0]


def test_user_name_eq_uses_the_hosts_index(store: DjangoStore) -> None:
    from django.db import connections

    from scimcore.models import User
    from scimcore.storage import Query
    from tests.contrib.django_host import Account

    for name in ("bjensen", "Straße", "jsmith"):
        store.create(User(user_name=name))
    found = store.search(Query(models=User, filter='userName eq "STRASSE"'))
    assert [u.user_name for u in found.resources] == ["Straße"]
    rows = Account.objects.using(store.using).filter(
        store.render.render(ACCOUNTS.plan('userName eq "STRASSE"'))
    )
    connection = connections[store.using]
    if connection.vendor == "sqlite":
        assert "USING INDEX accounts_username_folded (<expr>=?)" in rows.explain()
        return
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        assert "Index Scan using accounts_username_folded" in rows.explain()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")


@pytest.mark.postgres
@pytest.mark.parametrize("django_alias", ["postgres"], indirect=True)
def test_postgres_without_the_function_fails_loudly(django_alias: str) -> None:
    from django.db import connections

    from scimcore.mapping import FoldMissing
    from scimcore.models import User
    from scimcore.storage import Query
    from tests._django import POSTGRES_SCHEMA
    from tests.contrib.django_host import Account

    bare = f"{POSTGRES_SCHEMA}_bare"
    connection = connections[django_alias]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{bare}"')
        cursor.execute(f'CREATE TABLE "{bare}".accounts (LIKE "{POSTGRES_SCHEMA}".accounts)')
        cursor.execute(f'SET search_path TO "{bare}"')
    try:
        store = DjangoStore(Account, ACCOUNTS, using=django_alias)
        with pytest.raises(FoldMissing, match=r"no scimcore_fold\(\) function.*install_fold"):
            store.search(Query(models=User, filter='userName eq "BJensen"'))
        assert store.search(Query(models=User, filter='id eq "1"')).resources == []
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'SET search_path TO "{POSTGRES_SCHEMA}"')
            cursor.execute(f'DROP SCHEMA "{bare}" CASCADE')


@pytest.mark.postgres
@pytest.mark.parametrize("django_alias", ["postgres"], indirect=True)
def test_the_migration_operation_creates_the_function(django_alias: str) -> None:
    from django.db import connections

    from scimcore.contrib.django import InstallFold
    from scimcore.mapping import fold_ddl

    connection = connections[django_alias]
    operation = InstallFold()
    with connection.schema_editor(collect_sql=True) as editor:
        operation.database_forwards("accounts", editor, None, None)
        operation.database_backwards("accounts", editor, None, None)
    assert [sql.rstrip(";") for sql in editor.collected_sql] == [
        "SELECT pg_advisory_xact_lock(hashtext('scimcore_fold'))",
        fold_ddl(),
        "DROP FUNCTION IF EXISTS scimcore_fold(text)",
    ]
    with connection.schema_editor() as editor:
        operation.database_forwards("accounts", editor, None, None)  # again: it replaces
    with connection.cursor() as cursor:
        cursor.execute("SELECT scimcore_fold('STRASSE') = scimcore_fold('Straße')")
        assert cursor.fetchone() == (True,)
    assert operation.describe() == "Create the scimcore_fold() function (PostgreSQL)"


def test_a_migration_writes_the_public_names() -> None:
    from tests._django import configure

    configure()
    from django.db import models
    from django.db.migrations.writer import MigrationWriter

    from scimcore.contrib.django import Fold, InstallFold

    constraint = models.UniqueConstraint(Fold("username"), name="account_username")
    text, imports = MigrationWriter.serialize(constraint)
    assert "scimcore.contrib.django.Fold('username')" in text
    assert "import scimcore.contrib.django" in imports
    text, imports = MigrationWriter.serialize(InstallFold())
    assert (text.replace("\n", ""), imports) == (
        "scimcore.contrib.django.InstallFold()",
        {"import scimcore.contrib.django"},
    )
