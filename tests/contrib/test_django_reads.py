"""How DjangoStore reads: a GET is one statement compiled once per connection, rows are the
map's columns (the model itself for computed getters), a short page is not counted."""

from __future__ import annotations

from typing import Any

import pytest

from scimcore.contrib.django import DjangoStore
from scimcore.errors import NotFound
from scimcore.mapping import AttributeMap, Computed
from scimcore.models import User
from scimcore.storage import Query
from tests.contrib._host import ACCOUNTS


def _queries(alias: str, run: Any) -> list[str]:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connections[alias]) as captured:
        run()
    return [query["sql"] for query in captured.captured_queries]


@pytest.fixture
def store(django_alias: str) -> DjangoStore:
    from tests.contrib.django_host import Account

    return DjangoStore(Account, ACCOUNTS, using=django_alias)


def test_a_get_is_one_statement_of_the_mapped_columns(store: DjangoStore) -> None:
    first = store.create(User(user_name="bjensen", display_name="Babs", active=True))
    second = store.create(User(user_name="jsmith"))
    seen = []
    for user in (first, second, first):
        assert user.id is not None
        sql = _queries(store.using, lambda user=user: seen.append(store.get(User, user.id)))
        assert len(sql) == 1
        assert "login_count" not in sql[0]  # the host's own column, which SCIM does not map
        assert '"username"' in sql[0]
    assert seen == [first, second, first]
    assert seen[0].active is True
    assert seen[0].meta is not None
    assert first.meta is not None
    assert seen[0].meta.created == first.meta.created


@pytest.mark.parametrize(
    "resource_id", ["nope", "12a", "-1", "", "1.0", str(2**63), str(2**64 + 1), "٣"]
)
def test_ids_the_key_column_cannot_hold_are_not_found(store: DjangoStore, resource_id: str) -> None:
    store.create(User(user_name="bjensen"))
    with pytest.raises(NotFound) as raised:
        store.get(User, resource_id)
    assert raised.value.detail == f"User {resource_id!r} not found."


def test_a_big_id_is_not_found_before_and_after_the_statement_is_compiled(
    store: DjangoStore,
) -> None:
    user = store.create(User(user_name="bjensen"))
    assert user.id is not None
    with pytest.raises(NotFound):
        store.get(User, str(2**63))
    assert store.get(User, user.id) == user
    with pytest.raises(NotFound):
        store.get(User, str(2**63))
    with pytest.raises(NotFound):
        store.get(User, str(int(user.id) + 1))


def test_computed_getters_read_the_model(django_alias: str) -> None:
    from tests.contrib.django_host import Account

    logins = AttributeMap(
        User,
        {
            "userName": "username",
            "nickName": Computed(lambda row: f"{row.first_name}:{row.login_count}"),
        },
        version="version",
    )
    store = DjangoStore(Account, logins, using=django_alias)
    user = store.create(User(user_name="bjensen"))
    assert user.id is not None
    Account.objects.using(django_alias).filter(pk=int(user.id)).update(
        first_name="Barbara", login_count=7
    )
    assert store.get(User, user.id).nick_name == "Barbara:7"
    page = store.search(Query(models=User, filter='userName eq "BJENSEN"'))
    assert [u.nick_name for u in page.resources] == ["Barbara:7"]


@pytest.mark.parametrize(
    ("query", "counted", "total", "names"),
    [
        (Query(models=User, filter='userName sw "b"'), False, 2, ["b1", "b2"]),
        (Query(models=User, filter='userName eq "nobody"'), False, 0, []),
        (Query(models=User, count=2), True, 3, ["b1", "b2"]),
        (Query(models=User, count=2, start_index=3), False, 3, ["c3"]),
        (Query(models=User, count=2, start_index=5), True, 3, []),
        (Query(models=User, count=0), True, 3, []),
        (Query(models=User, cursor="", count=5), False, 3, ["b1", "b2", "c3"]),
    ],
)
def test_a_short_page_tells_its_total_without_a_count(
    store: DjangoStore, query: Query, counted: bool, total: int, names: list[str]
) -> None:
    for name in ("b1", "b2", "c3"):
        store.create(User(user_name=name))
    pages = []
    sql = _queries(store.using, lambda: pages.append(store.search(query)))
    assert [u.user_name for u in pages[0].resources] == names
    assert pages[0].total == total
    assert any("COUNT(" in statement for statement in sql) is counted
