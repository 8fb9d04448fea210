"""Issue 21 item 1: no search may stall the server.

A filter too costly per resource is refused before any store sees it; a search
past its deadline stops with 400 ``tooMany`` in every store; searches run off
the event loop, so a GET of another user is answered while one runs; and a
search whose client disconnects is stopped.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from scimcore.asgi import create_app
from scimcore.errors import TooMany
from scimcore.filter import filter_cost, parse_filter
from scimcore.models import Email, Group, GroupMember, User
from scimcore.service import Request, ScimService
from scimcore.storage import Deadline, Query
from scimcore.stores import MemoryStore, SQLiteStore
from tests._live import Client, LiveServer

#: The issue's repro: 388 substring terms on a multi-valued attribute, under the length cap.
HEAVY = " or ".join(f'emails.value co "{i:03d}"' for i in range(388))
#: Under the default cost budget (240 × 4 = 960), but slow over thousands of users.
SLOW = " or ".join(f'emails.value co "{i:03d}"' for i in range(240))


def _users(n: int) -> list[User]:
    return [
        User(
            user_name=f"user{i:06d}",
            emails=[Email(value=f"user{i}@example.com"), Email(value=f"u{i}@home.example")],
        )
        for i in range(n)
    ]


# -- the cost model ----------------------------------------------------------------------


def test_the_issue_filter_is_under_the_length_cap_and_over_the_cost_budget() -> None:
    assert len(HEAVY) < 10_000
    assert filter_cost(parse_filter(HEAVY), User) == 388 * 4


def test_a_filter_over_the_budget_is_refused_before_the_store_sees_it() -> None:
    class Refusing(MemoryStore):
        def search_documents(self, query: Query) -> Any:
            raise AssertionError("the store was asked")

    service = ScimService(Refusing())
    response = service.handle(Request("GET", "/Users", query=urlencode({"filter": HEAVY})))
    assert response.status == 400
    assert response.json()["scimType"] == "invalidFilter"
    assert response.json()["detail"].startswith(
        "The filter is too complex: it needs about 1552 value tests per resource, "
        "and this server allows 1000."
    )


@pytest.mark.parametrize(
    ("text", "cost"),
    [
        ('userName eq "a"', 1),
        ("emails pr", 4),
        ('emails[type eq "work" and value co "x"]', 8),
        ('not (title eq "a") and (nickName sw "b" or title co "c")', 3),
        # The eq terms of an or on one text attribute are one set lookup.
        (" or ".join(f'id eq "{i}"' for i in range(500)), 1),
        ('userName eq "a" or userName eq "b" or title eq "c"', 2),
        # Not with numbers or other operators.
        ('userName co "a" or userName co "b"', 2),
    ],
)
def test_filter_cost(text: str, cost: int) -> None:
    assert filter_cost(text, User) == cost


def test_a_condition_on_groups_is_costed_as_the_set_of_ids_it_becomes() -> None:
    store = MemoryStore()
    users = [store.create(u) for u in _users(50)]
    store.create(Group(display_name="big", members=[GroupMember(value=u.id) for u in users[:40]]))
    service = ScimService(store, max_filter_cost=1)
    response = service.handle(
        Request(
            "GET", "/Users", query=urlencode({"filter": 'groups.display eq "big"', "count": 100})
        )
    )
    assert response.status == 200, response.json()
    assert response.json()["totalResults"] == 40


@pytest.mark.parametrize("case_exact", [False, True])
def test_an_or_of_eq_terms_matches_as_the_terms_do(case_exact: bool) -> None:
    store = MemoryStore()
    made = [store.create(u) for u in _users(20)]
    path = "id" if case_exact else "userName"
    wanted = [getattr(u, "id" if case_exact else "user_name") for u in made[::3]]
    if not case_exact:
        wanted = [w.upper() for w in wanted]  # userName is caseExact false
    text = " or ".join(f'{path} eq "{w}"' for w in wanted) + ' or title eq "none"'
    page = store.search(Query(models=User, filter=text))
    assert [u.id for u in page.resources] == [u.id for u in made[::3]]


# -- the deadline, in every store --------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def filled(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    kind = request.param
    if kind == "memory":
        store: Any = MemoryStore()
    elif kind == "sqlite":
        store = SQLiteStore(tmp_path / "limits.sqlite3")
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        from scimcore.stores import PostgresStore
        from tests.postgres.conftest import schema_name

        store = PostgresStore(dsn, schema=schema_name())
    try:
        store.create_many(_users(4000))
        yield store
    finally:
        if kind == "postgres":
            store.drop()
        store.close()


@pytest.mark.postgres
def test_a_search_past_its_deadline_is_too_many(filled: Any) -> None:
    query = Query(models=User, filter=SLOW, deadline=Deadline(0.05))
    with pytest.raises(TooMany) as caught:
        filled.search(query)
    assert caught.value.status == 400
    assert str(caught.value).startswith("The search took longer than the server allows (0.05 s)")
    # The store is fine afterwards: the same search without a deadline answers.
    page = filled.search(Query(models=User, filter='userName eq "user000007"'))
    assert [u.user_name for u in page.resources] == ["user000007"]


@pytest.mark.postgres
def test_a_cancelled_search_stops(filled: Any) -> None:
    deadline = Deadline(60.0)
    threading.Timer(0.1, deadline.cancel).start()  # the scan takes ~0.5 s on memory
    started = time.monotonic()
    with pytest.raises(TooMany, match="the client went away"):
        filled.search(Query(models=User, filter=SLOW, deadline=deadline))
    assert time.monotonic() - started < 30  # far from the 60 s deadline: it was stopped


# -- off the event loop, over HTTP -------------------------------------------------------


@pytest.fixture
def sqlite_users(tmp_path: Path) -> Iterator[tuple[SQLiteStore, list[User]]]:
    store = SQLiteStore(tmp_path / "live.sqlite3")
    yield store, store.create_many(_users(4000))
    store.close()


def test_a_get_is_answered_while_a_slow_search_runs(
    sqlite_users: tuple[SQLiteStore, list[User]],
) -> None:
    store, users = sqlite_users
    # A search of SLOW over these users takes seconds: the 1 s limit always stops it.
    service = ScimService(store, tokens=["t"], query_timeout=1.0, workers=2)
    finished: list[str] = []
    with LiveServer(create_app(service)) as port:
        client = Client(port, "", "t")

        def search() -> None:
            reply = client.get(f"/Users?filter={_quoted(SLOW)}")
            finished.append(f"search {reply.status}")

        thread = threading.Thread(target=search)
        thread.start()
        time.sleep(0.3)  # the search is running
        assert thread.is_alive(), finished
        reply = client.get(f"/Users/{users[123].id}")
        finished.append(f"get {reply.status}")
        thread.join(120)
    assert finished == ["get 200", "search 400"]


def test_a_search_whose_client_disconnects_is_stopped(
    sqlite_users: tuple[SQLiteStore, list[User]],
) -> None:
    store, _ = sqlite_users
    service = ScimService(store, tokens=["t"], query_timeout=60.0, workers=2)
    stopped: list[BaseException] = []
    original = service.store.search_documents

    def recording(query: Query) -> Any:
        try:
            return original(query)
        except TooMany as error:
            stopped.append(error)
            raise

    service.store.search_documents = recording
    with LiveServer(create_app(service)) as port:
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(
                f"GET /Users?filter={_quoted(SLOW)} HTTP/1.1\r\nHost: x\r\n"
                "Authorization: Bearer t\r\n\r\n".encode()
            )
            time.sleep(0.3)
        for _ in range(200):  # the store gives up within a moment of the disconnect
            if stopped:
                break
            time.sleep(0.05)
    assert [str(e) for e in stopped] == ["The search was stopped: the client went away."]


def test_an_async_store_search_is_cancelled_with_its_task() -> None:
    """With an async store the running call is a task; ``disconnected`` cancels it."""
    from scimcore.storage import AsyncStoreAdapter

    cancelled: list[bool] = []

    class Slow(AsyncStoreAdapter):
        async def search(self, query: Query) -> Any:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancelled.append(True)
                raise

    async def main() -> Any:
        service = ScimService(Slow(MemoryStore()))
        gone = asyncio.Event()
        asyncio.get_running_loop().call_later(0.05, gone.set)
        return await asyncio.wait_for(
            service.handle_async(Request("GET", "/Users"), disconnected=gone.wait), 30
        )

    response = asyncio.run(main())
    assert (response.status, response.json()["scimType"]) == (400, "tooMany")
    assert response.json()["detail"] == "The search was stopped: the client went away."
    assert cancelled == [True]


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@pytest.mark.parametrize(
    ("text", "on_loop"),
    [
        (None, True),  # a page in creation order
        ('userName eq "user000007"', True),  # an index seek
        ('userName eq "a" or externalId eq "b"', True),
        ('title eq "x"', False),  # a scan
        ('userName sw "user"', False),
    ],
)
def test_a_search_runs_on_the_loop_only_if_the_indexes_answer_it(
    tmp_path: Path, text: str | None, on_loop: bool
) -> None:
    threads: list[int] = []

    class Recording(SQLiteStore):
        def search_documents(self, query: Query) -> Any:
            threads.append(threading.get_ident())
            return super().search_documents(query)

    store = Recording(tmp_path / "where.sqlite3")
    service = ScimService(store)
    query = "" if text is None else urlencode({"filter": text})

    async def main() -> int:
        response = await service.handle_async(Request("GET", "/Users", query=query))
        assert response.status == 200, response.json()
        return threading.get_ident()

    try:
        loop_thread = asyncio.run(main())
    finally:
        store.close()
    assert [t == loop_thread for t in threads] == [on_loop]
