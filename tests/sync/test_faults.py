"""Sync into a real server (scimcore's ASGI app on uvicorn, loopback) that answers 429 and 503
and drops connections in the middle of a run, after acting on the write."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from scimcore.asgi import create_app
from scimcore.client import Client, Retry
from scimcore.models import Email, Group, GroupMember, User
from scimcore.service import ScimService
from scimcore.stores import MemoryStore, SQLiteStore
from scimcore.sync import ClientEndpoint, Match, Rules, StoreEndpoint, Sync
from tests._live import LiveServer
from tests.sync._faulty import Faulty


@pytest.fixture
def faulty(tmp_path: Any) -> Iterator[tuple[Client, Faulty, SQLiteStore]]:
    store = SQLiteStore(str(tmp_path / "target.sqlite3"))
    app = Faulty(create_app(ScimService(store), prefix="/scim/v2"))
    # uvicorn logs the dropped connections' exception: expected here.
    logging.getLogger("uvicorn.error").disabled = True
    try:
        with LiveServer(app) as port:
            retry = Retry(attempts=4, backoff=0.0)
            with Client(f"http://127.0.0.1:{port}/scim/v2", retry=retry) as client:
                yield client, app, store
    finally:
        logging.getLogger("uvicorn.error").disabled = False
        store.close()


def wire(store: Any) -> dict[str, Any]:
    """Each user and group, by name, as the other side cannot tell apart (no ids, no meta)."""
    end = StoreEndpoint(store)
    names = {u.id: u.user_name for u in end.read(User)}
    seen: dict[str, Any] = {}
    for user in end.read(User):
        seen[f"User {user.user_name}"] = (
            user.title,
            user.display_name,
            user.active,
            [e.value for e in user.emails],
            user.external_id,
        )
    for group in end.read(Group):
        seen[f"Group {group.display_name}"] = sorted(names[m.value] for m in group.members)
    return seen


def seed(store: Any, n: int) -> list[User]:
    made = [
        store.create(
            User(
                user_name=f"user{i:02}",
                external_id=f"e{i}",
                title=f"t{i}",
                emails=[Email(value=f"user{i}@example.org")],
            )
        )
        for i in range(n)
    ]
    store.create(Group(display_name="ops", members=[GroupMember(value=u.id) for u in made[::2]]))
    return made


def test_429_503_and_dropped_connections_end_equal_without_duplicates(
    faulty: tuple[Client, Faulty, SQLiteStore],
) -> None:
    client, app, target = faulty
    source = MemoryStore()
    made = seed(source, 12)
    # Creates: a 429, a 503, two creates acted on whose answers are lost.
    app.faults = {1: "429", 3: "503", 4: "drop", 9: "drop", 13: "drop"}
    one_by_one = ClientEndpoint(client, bulk=0)
    sync = Sync(source, one_by_one, rules=Rules(users=Match("externalId", "userName")))
    plan, report = sync.run()
    assert plan.counts() == {"create": 13}
    assert report.ok, report.table()
    assert report.count("create") == 13
    assert [fault for _, fault, _, _ in app.served if fault] == [
        "429",
        "503",
        "drop",
        "drop",
        "drop",
    ]
    assert wire(target) == wire(source)
    # Updates: the PATCHes' answers are lost too; each is read and planned again.
    for user in made[:6]:
        user = source.get(User, user.id or "")
        user.title = f"new {user.title}"
        source.replace(user)
    app.faults = {app.writes + 1: "drop", app.writes + 3: "503", app.writes + 4: "drop"}
    plan, report = sync.run()
    assert plan.mode == "incremental" and plan.counts() == {"update": 6}
    assert report.ok, report.table()
    assert wire(target) == wire(source)
    assert sync.plan(full=True).actions == ()


def test_a_target_that_already_holds_users_adopts_them_on_409(
    faulty: tuple[Client, Faulty, SQLiteStore],
) -> None:
    client, app, target = faulty
    source = MemoryStore()
    seed(source, 6)
    for i in (1, 4):  # already there, without the externalId the match rule looks for
        target.create(User(user_name=f"USER{i:02}", title="stale"))
    sync = Sync(source, ClientEndpoint(client, bulk=0), rules=Rules(users=Match("externalId")))
    plan, report = sync.run()

    def found(name: str) -> str:
        (user,) = StoreEndpoint(target).find(User, "userName", name)
        return user.id or ""

    assert plan.counts() == {"create": 7}
    assert report.ok, report.table()
    assert report.count("create") == 7
    # Seven creates sent, two answered 409 and adopted: looked up by userName, then patched.
    assert [(m, p) for _, _, m, p in app.served] == [
        ("POST", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users"),  # user01: 409
        ("PATCH", f"/scim/v2/Users/{found('user01')}"),
        ("POST", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users"),
        ("POST", "/scim/v2/Users"),  # user04: 409
        ("PATCH", f"/scim/v2/Users/{found('user04')}"),
        ("POST", "/scim/v2/Users"),
        ("POST", "/scim/v2/Groups"),
    ]
    assert len(StoreEndpoint(target).find(User, "userName", "user01")) == 1
    assert wire(target) == wire(source)
    assert sync.plan(full=True).actions == ()


def test_bulk_creates_survive_a_429_and_a_bulk_request_dropped_after_it_acted(
    faulty: tuple[Client, Faulty, SQLiteStore],
) -> None:
    client, app, target = faulty
    source = MemoryStore()
    seed(source, 25)
    for i in (3, 17):  # already there: 409 inside the bulk response, adopted
        target.create(User(user_name=f"user{i:02}", title="stale"))
    # Bulk requests of 10: the first is answered 429 (retried), the second acted on and
    # dropped (each of its users is then looked up, found and adopted, none created twice).
    app.faults = {0: "429", 2: "drop"}
    by_external_id = Rules(users=Match("externalId"))
    sync = Sync(source, ClientEndpoint(client, bulk=10), rules=by_external_id)
    plan, report = sync.run()
    assert plan.counts() == {"create": 26}
    assert report.ok, report.table()
    assert report.count("create") == 26
    assert [(m, p) for _, _, m, p in app.served if p.endswith(("/Bulk", "/Groups"))] == [
        ("POST", "/scim/v2/Bulk"),  # 429
        ("POST", "/scim/v2/Bulk"),
        ("POST", "/scim/v2/Bulk"),  # dropped
        ("POST", "/scim/v2/Bulk"),
        ("POST", "/scim/v2/Groups"),
    ]
    assert wire(target) == wire(source)
    assert sync.plan(full=True).actions == ()
