"""MappedStore on the host's own table, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from scimcore.contrib.sqlalchemy import MappedStore
from scimcore.errors import InvalidFilter, InvalidValue, NotFound, PreconditionFailed, Uniqueness
from scimcore.models import Email, EnterpriseUser, Group, Name, User
from scimcore.patch import apply_patch
from scimcore.storage import Query, update
from tests.contrib._host import ACCOUNTS, ENTERPRISE, Account


@pytest.fixture
def store(engine: Engine) -> MappedStore:
    return MappedStore(engine, Account, ACCOUNTS, cursor_secret=b"k" * 32)


def _user(user_name: str, **more: Any) -> User:
    return User(user_name=user_name, **more)


def _names(store: MappedStore, **query: Any) -> list[str | None]:
    return [u.user_name for u in store.search(Query(models=User, **query)).resources]


def _seed(store: MappedStore) -> None:
    store.create(
        _user(
            "bjensen",
            name=Name(given_name="Barbara", family_name="Jensen"),
            emails=[Email(value="bjensen@example.com", type="work")],
            active=True,
            external_id="ext-1",
        )
    )
    store.create(
        _user(
            "JSmith",
            name=Name(given_name="John"),
            emails=[Email(value="js@home.test", type="home"), Email(value="j%s@x", type="work")],
            active=False,
        )
    )
    user = _user("a_b", display_name="")
    user[EnterpriseUser] = EnterpriseUser(employee_number="701984")
    store.create(user)


def test_round_trip_through_the_host_row(store: MappedStore, engine: Engine) -> None:
    user = _user(
        "bjensen",
        name=Name(given_name="Barbara"),
        emails=[Email(value="b@example.com", type="work"), Email(value="b@home", type="HOME")],
        title="Tour Guide",  # not kept by the host: left out
    )
    user[EnterpriseUser] = EnterpriseUser(employee_number="42")
    created = store.create(user)
    assert created.id is not None and created.meta is not None
    assert created.meta.version == 'W/"1"'
    assert created.title is None
    assert [(e.type, e.value) for e in created.emails] == [
        ("work", "b@example.com"),
        ("home", "b@home"),
    ]
    enterprise = created[EnterpriseUser]
    assert enterprise is not None and enterprise.employee_number == "42"
    with engine.connect() as connection:
        row = connection.execute(select(Account).where(Account.id == int(created.id))).one()
    assert (row.username, row.email, row.home_email, row.employee_number, row.login_count) == (
        "bjensen",
        "b@example.com",
        "b@home",
        "42",
        0,
    )
    assert store.get(User, created.id) == created


def test_versions_and_preconditions(store: MappedStore) -> None:
    created = store.create(_user("bjensen"))
    assert created.id is not None
    replaced = store.replace(
        _user("babs", id=created.id),
        expected_version=created.meta.version if created.meta else None,
    )
    assert replaced.meta is not None and replaced.meta.version == 'W/"2"'
    assert replaced.meta.created == created.meta.created if created.meta else False
    with pytest.raises(PreconditionFailed):
        store.replace(_user("again", id=created.id), expected_version='W/"1"')
    with pytest.raises(PreconditionFailed):
        store.delete(User, created.id, expected_version='W/"1"')
    assert store.get(User, created.id).user_name == "babs"
    store.delete(User, created.id, expected_version='W/"2"')
    with pytest.raises(NotFound):
        store.get(User, created.id)
    with pytest.raises(NotFound):
        store.get(User, "not-a-number")


def test_update_is_one_transaction_and_skips_no_change(store: MappedStore) -> None:
    created = store.create(_user("bjensen", active=True))
    assert created.id is not None
    op = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    changed = update(store, User, created.id, lambda u: apply_patch(u, op))
    assert (changed.active, changed.meta.version if changed.meta else None) == (False, 'W/"2"')
    again = update(store, User, created.id, lambda u: apply_patch(u, op))
    assert again.meta is not None and again.meta.version == 'W/"2"'


def test_host_unique_constraint_is_409_uniqueness(store: MappedStore) -> None:
    store.create(_user("bjensen"))
    with pytest.raises(Uniqueness) as caught:
        store.create(_user("BJENSEN"))
    assert caught.value.status == 409 and caught.value.scim_type == "uniqueness"
    assert _names(store) == ["bjensen"]


def test_other_resource_types_are_refused(store: MappedStore) -> None:
    with pytest.raises(InvalidValue, match="does not keep Group"):
        store.create(Group(display_name="x"))
    with pytest.raises(InvalidValue, match="does not keep Group"):
        store.search(Query(models=Group))
    store.create(_user("bjensen"))
    assert _names(store) == ["bjensen"]
    assert store.search(Query(models=(User, Group))).total == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('userName eq "BJENSEN"', ["bjensen"]),
        ('userName ne "bjensen"', ["JSmith", "a_b"]),
        ('userName co "_"', ["a_b"]),
        ('userName sw "J"', ["JSmith"]),
        ('userName ew "TH"', ["JSmith"]),
        ('emails co "%"', ["JSmith"]),
        ('emails.value ew ".TEST"', ["JSmith"]),
        ('emails[type eq "home"]', ["JSmith"]),
        ('emails[type eq "work" and value sw "bj"]', ["bjensen"]),
        ('emails[type eq "home" and value sw "j%"]', []),  # one element binds the whole filter
        ('emails.type eq "home" and emails.value sw "j%"', ["JSmith"]),
        ("emails pr", ["bjensen", "JSmith"]),
        ("not (emails pr)", ["a_b"]),
        ("emails eq null", ["a_b"]),
        ("displayName pr", []),  # "" is not present
        ('displayName eq ""', ["a_b"]),
        ("name pr", ["bjensen", "JSmith"]),
        ('name.familyName eq "jensen"', ["bjensen"]),
        ("name.familyName ne null", ["bjensen"]),
        ("name.familyName gt null", []),
        ("active eq false", ["JSmith"]),
        ("not (active eq true)", ["JSmith", "a_b"]),
        ('externalId eq "EXT-1"', []),  # caseExact
        ('externalId eq "ext-1"', ["bjensen"]),
        ('externalId sw "ext"', ["bjensen"]),
        ('externalId sw "EXT"', []),
        ('externalId ew "t-1"', ["bjensen"]),
        ('externalId ew "T-1"', []),
        ('externalId co "xt-"', ["bjensen"]),
        ('externalId co "XT"', []),
        ('externalId sw "ext-1+"', []),
        ('externalId ew "+ext-1"', []),
        (f'{ENTERPRISE}:employeeNumber sw "70"', ["a_b"]),
        ('userName gt "B" and userName lt "k"', ["bjensen", "JSmith"]),
        ('id eq "2" or id eq "x"', ["JSmith"]),
        ('meta.created gt "2000-01-01T00:00:00Z"', ["bjensen", "JSmith", "a_b"]),
        ('meta.lastModified lt "2000-01-01T00:00:00+01:00"', []),
    ],
)
def test_filters_pushed_down(store: MappedStore, text: str, expected: list[str]) -> None:
    _seed(store)
    assert _names(store, filter=text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('title eq "Tour Guide"', "is not kept by this server"),  # the host keeps no title
        ('emails[display eq "x"]', "is not kept by this server"),  # nor an email's display
        ("phoneNumbers pr", "is not kept by this server"),
        ("meta.location pr", "is not kept by this server"),
        ('meta.version eq "1"', "'meta.version' can only be tested with pr"),
    ],
)
def test_filters_on_attributes_not_kept_are_invalid(
    store: MappedStore, text: str, message: str
) -> None:
    with pytest.raises(InvalidFilter, match=message) as caught:
        store.search(Query(models=User, filter=text))
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidFilter")


def test_filters_the_evaluator_refuses_are_refused(store: MappedStore) -> None:
    with pytest.raises(InvalidFilter, match="does not apply"):
        store.search(Query(models=User, filter='active co "t"'))
    with pytest.raises(InvalidFilter, match="never returned"):
        store.search(Query(models=User, filter='password eq "x"'))


def test_the_filter_runs_in_the_database(store: MappedStore, engine: Engine) -> None:
    _seed(store)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert _names(store, filter='userName eq "jsmith"', count=10) == ["JSmith"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    page = [s for s in statements if "LIMIT" in s.upper()]
    assert len(page) == 1
    assert re.search(r"scimcore_fold\(([\w]+\.)?accounts\.username\) = ", page[0]), page[0]


def test_sort_and_pages(store: MappedStore) -> None:
    _seed(store)
    assert _names(store, sort_by="userName") == ["a_b", "bjensen", "JSmith"]
    assert _names(store, sort_by="userName", sort_order="descending") == [
        "JSmith",
        "bjensen",
        "a_b",
    ]
    # Missing values sort last; the work email before the home one.
    assert _names(store, sort_by="emails") == ["bjensen", "JSmith", "a_b"]
    assert _names(store, sort_by="name.familyName") == ["bjensen", "JSmith", "a_b"]
    assert _names(store, sort_by="userName", start_index=2, count=1) == ["bjensen"]
    with pytest.raises(InvalidValue, match="not kept"):
        store.search(Query(models=User, sort_by="title"))
    with pytest.raises(InvalidValue, match="unknown attribute"):
        store.search(Query(models=User, sort_by="nothing"))


@pytest.mark.parametrize("order", ["ascending", "descending"])
def test_cursors_walk_every_row_once_both_ways(store: MappedStore, order: str) -> None:
    for number in range(7):
        store.create(_user(f"user{number % 3}-{number}", display_name=None))
    every = _names(store, sort_by="userName", sort_order=order)
    seen: list[str | None] = []
    page = store.search(
        Query(models=User, sort_by="userName", sort_order=order, count=3, cursor="")
    )
    pages = [page]
    while page.next_cursor is not None:
        page = store.search(
            Query(
                models=User, sort_by="userName", sort_order=order, count=3, cursor=page.next_cursor
            )
        )
        pages.append(page)
    for found in pages:
        seen.extend(u.user_name for u in found.resources)
    assert seen == every and len(pages) == 3
    assert pages[-1].previous_cursor is not None
    back = store.search(
        Query(
            models=User,
            sort_by="userName",
            sort_order=order,
            count=3,
            cursor=pages[-1].previous_cursor,
        )
    )
    assert [u.user_name for u in back.resources] == every[3:6]


@pytest.fixture
def after_thread() -> Callable[[], None]:
    """What a writer thread does when it ends (Django closes its connections)."""
    return lambda: None


def test_concurrent_writes_lose_no_update(store: Any, after_thread: Callable[[], None]) -> None:
    """Eight threads count up with If-Match replaces, then with updates: every write counts."""
    user = store.create(_user("counter", display_name="0"))
    errors: list[str] = []

    def bump(current: User) -> User:
        current.display_name = str(int(current.display_name or "0") + 1)
        return current

    def work() -> None:
        try:
            for _ in range(4):
                while True:
                    current = store.get(User, user.id)
                    try:
                        store.replace(bump(current), expected_version=current.meta.version)
                        break
                    except PreconditionFailed:
                        continue
            for _ in range(4):
                update(store, User, user.id, bump)
        except Exception as exc:  # reported below: a failed write is a failed test
            errors.append(repr(exc))
        finally:
            after_thread()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.get(User, user.id).display_name == "64"


def test_a_value_the_column_cannot_hold_is_invalid_value(store: Any) -> None:
    """PostgreSQL refuses 201 characters in a VARCHAR(200): 400 invalidValue, nothing written
    (SQLite keeps any length)."""
    created = store.create(_user("bjensen"))
    long = "x" * 201
    if not _postgres(store):
        assert store.replace(_user(long, id=created.id)).user_name == long
        return
    with pytest.raises(InvalidValue) as caught:
        store.replace(_user(long, id=created.id))
    assert (caught.value.status, caught.value.scim_type) == (400, "invalidValue")
    assert store.get(User, created.id).user_name == "bjensen"
    with pytest.raises(InvalidValue):
        store.create(_user(long))
    assert _names(store) == ["bjensen"]


def _postgres(store: Any) -> bool:
    from scimcore.contrib.django import DjangoStore

    if isinstance(store, DjangoStore):
        from django.db import connections

        return bool(connections[store.using].vendor == "postgresql")
    store = getattr(store, "store", store)  # an async store, behind a BlockingStore
    return bool(store.render.dialect == "postgresql")
