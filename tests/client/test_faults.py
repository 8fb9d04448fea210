"""The client against a scripted server that misbehaves, over real HTTP (uvicorn on loopback).

Retries (429 and 503 with Retry-After, dropped connections, idempotent requests only),
and paging: duplicated and missing pages, a server that ignores ``count`` or
``startIndex``, a wrong ``totalResults``, a list that changes while it is read. The
iterator returns every resource exactly once, or raises PagingError; never fewer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scimcore import (
    NotImplementedByServer,
    PayloadTooLarge,
    ServiceProviderConfig,
    ServiceUnavailable,
    User,
)
from scimcore.client import (
    AsyncClient,
    Client,
    PagingError,
    RequestLog,
    Retry,
    TransportError,
)
from scimcore.models import BulkOperation
from tests._live import LiveServer
from tests.client._scripted import Scripted, users

Start = Callable[..., tuple[Client, Scripted]]


@pytest.fixture(params=["httpx", "stdlib"])
def scripted(request: pytest.FixtureRequest) -> Iterator[Start]:
    """Start a scripted server; returns a client for it (that records its sleeps) and it."""
    servers: list[LiveServer] = []
    clients: list[Client] = []

    def start(n: int = 0, retry: Retry | None = None, **config: Any) -> tuple[Client, Scripted]:
        app = Scripted(users(n), **config)
        server = LiveServer(app)
        port = server.__enter__()
        servers.append(server)
        slept: list[float] = []
        client = Client(
            f"http://127.0.0.1:{port}/v2", retry=retry, sleep=slept.append, engine=request.param
        )
        client.slept = slept  # type: ignore[attr-defined]
        clients.append(client)
        return client, app

    yield start
    for client in clients:
        client.close()
    for server in servers:
        server.__exit__(None, None, None)


def _ids(client: Client, **options: Any) -> list[str]:
    return [u.id or "" for u in client.iter_resources(User, **options)]


ALL = [f"u{i:05}" for i in range(250)]


# ---------------------------------------------------------------------------- retries


def test_429_waits_as_retry_after_says(scripted: Start) -> None:
    client, app = scripted(1)
    client.discover()
    app.faults += [("429", 7), ("429", 3)]
    assert client.get(User, "u00000").user_name == "user00000"
    assert client.slept == [7.0, 3.0]  # type: ignore[attr-defined]
    assert [r[0] for r in app.requests[-3:]] == ["GET"] * 3


def test_429_retries_a_post_too(scripted: Start) -> None:
    """A 429 was not acted on: even a create is sent again."""
    client, app = scripted()
    client.discover()
    app.faults.append(("429", 1))
    assert client.create(User(user_name="x")).id == "new1"
    assert [r[0] for r in app.requests[-2:]] == ["POST", "POST"]


def test_503_without_retry_after_backs_off(scripted: Start) -> None:
    client, app = scripted(1, retry=Retry(attempts=4, backoff=0.5, max_backoff=30))
    client.discover()
    app.faults += [("503", None), ("503", None), ("503", None)]
    client.get(User, "u00000")
    slept = client.slept  # type: ignore[attr-defined]
    assert len(slept) == 3
    assert all(0 <= s <= bound for s, bound in zip(slept, [0.5, 1.0, 2.0], strict=True))


def test_retry_after_is_capped(scripted: Start) -> None:
    client, app = scripted(1, retry=Retry(max_wait=10))
    client.discover()
    app.faults.append(("429", 3600))
    client.get(User, "u00000")
    assert client.slept == [10.0]  # type: ignore[attr-defined]


def test_retries_run_out_with_the_last_error(scripted: Start) -> None:
    client, app = scripted(1, retry=Retry(attempts=2))
    client.discover()
    app.faults += [("503", 1), ("503", 1), ("503", 1)]
    with pytest.raises(ServiceUnavailable) as caught:
        client.get(User, "u00000")
    assert caught.value.status == 503 and caught.value.detail == "busy"
    assert client.slept == [1.0]  # type: ignore[attr-defined]


def test_a_dropped_connection_is_retried_for_a_get(scripted: Start) -> None:
    logs: list[RequestLog] = []
    client, app = scripted(1)
    client.core.on_request = logs.append
    client.discover()
    app.faults.append(("drop", None))
    assert client.get(User, "u00000").id == "u00000"
    assert [type(log.error).__name__ for log in logs[-2:]] == ["TransportError", "NoneType"]
    assert [log.attempt for log in logs[-2:]] == [1, 2]


def test_a_dropped_connection_is_not_retried_for_a_create(scripted: Start) -> None:
    client, app = scripted()
    client.discover()
    app.faults.append(("drop", None))
    with pytest.raises(TransportError) as caught:
        client.create(User(user_name="x"))
    assert caught.value.request is not None and caught.value.request.method == "POST"
    assert caught.value.sent is True
    assert [r[0] for r in app.requests[-1:]] == ["POST"]


@pytest.mark.parametrize("engine", ["httpx", "stdlib"])
def test_a_refused_connection_is_retried_then_raised(engine: str) -> None:
    slept: list[float] = []
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with (
            Client(
                f"http://127.0.0.1:{port}/v2", retry=Retry(attempts=3), sleep=slept.append
            ) as client,
            pytest.raises(TransportError) as caught,
        ):
            client.create(User(user_name="x"))
    assert caught.value.sent is False
    assert len(slept) == 2


def test_unsupported_features_fail_locally(scripted: Start) -> None:
    client, app = scripted(1, patch=False)
    with pytest.raises(NotImplementedByServer, match="PATCH"):
        client.patch(User, "u00000", {"Operations": [{"op": "remove", "path": "title"}]})
    assert [r[1] for r in app.requests] == [  # discovery only
        "/v2/ServiceProviderConfig",
        "/v2/ResourceTypes",
        "/v2/Schemas",
    ]
    with pytest.raises(NotImplementedByServer, match="sorting"):
        client.search(User, sort_by="userName")
    assert isinstance(client.discover().config, ServiceProviderConfig)


def test_bulk_filter_and_etags_unsupported_fail_locally(scripted: Start) -> None:
    client, app = scripted(1, supports=False)
    user = User(id="u00000", user_name="user00000")
    with pytest.raises(NotImplementedByServer, match="Bulk"):
        client.bulk([BulkOperation(method="DELETE", path="/Users/u00000")])
    with pytest.raises(NotImplementedByServer, match="filtering"):
        client.search(User, 'userName eq "x"')
    with pytest.raises(NotImplementedByServer, match="ETags"):
        client.replace(user, if_match='W/"1"')
    with pytest.raises(NotImplementedByServer, match="ETags"):
        client.delete(User, "u00000", if_match='W/"1"')
    assert not [r for r in app.requests if "/Users" in r[1] or r[1].endswith("/Bulk")]


def test_update_without_patch_puts(scripted: Start) -> None:
    client, app = scripted(1, patch=False)
    old = User(id="u00000", user_name="user00000")
    new = User(id="u00000", user_name="user00000", title="Boss")
    with pytest.raises(Exception, match="no such endpoint"):
        client.update(old, new)  # the scripted server has no PUT: the request was a PUT
    assert app.requests[-1][0] == "PUT" and app.requests[-1][3]["title"] == "Boss"


def test_count_is_lowered_to_max_results(scripted: Start) -> None:
    client, app = scripted(50, max_results=20)
    page = client.search(User, count=500)
    assert len(page.resources) == 20
    assert app.requests[-1][2]["count"] == ["20"]


# ---------------------------------------------------------------------------- paging


def test_index_paging_reads_everything(scripted: Start) -> None:
    client, _ = scripted(250)
    assert _ids(client, page_size=100) == ALL


def test_cursor_paging_reads_everything(scripted: Start) -> None:
    client, app = scripted(250, cursor=True)
    assert _ids(client, page_size=100) == ALL
    cursors = [r[2].get("cursor") for r in app.requests if r[1] == "/v2/Users"]
    assert cursors == [[""], ["101"], ["201"]]


def test_a_server_that_offers_cursors_but_ignores_them(scripted: Start) -> None:
    client, app = scripted(250, cursor=True, ignore_cursor=True)
    assert _ids(client, page_size=100) == ALL
    assert "startIndex" in app.requests[-1][2]  # read by index after the first page


def test_a_server_that_caps_the_page_size(scripted: Start) -> None:
    client, _ = scripted(250, page_cap=7)
    assert _ids(client, page_size=100) == ALL


def test_a_server_that_ignores_count(scripted: Start) -> None:
    client, app = scripted(250, ignore_count=True)
    assert _ids(client, page_size=10) == ALL
    assert app.list_requests == 2  # everything, then the overlap alone: the end


def test_a_server_that_writes_resources_in_lower_case(scripted: Start) -> None:
    client, _ = scripted(250, lower_case=True)
    assert _ids(client, page_size=100) == ALL
    assert client.search(User, count=5).total_results == 250


def test_a_server_that_ignores_start_index_is_an_error(scripted: Start) -> None:
    client, _ = scripted(250, ignore_start=True)
    with pytest.raises(PagingError):
        _ids(client, page_size=100)


@pytest.mark.parametrize("offset", [-100, -249, 500])
def test_a_wrong_total_results(scripted: Start, offset: int) -> None:
    client, _ = scripted(250, total_offset=offset)
    assert _ids(client, page_size=100) == ALL


@pytest.mark.parametrize("which", [2, 3])
def test_a_repeated_page(scripted: Start, which: int) -> None:
    client, _ = scripted(250, repeat_page=which)
    ids = _ids(client, page_size=100)
    assert sorted(ids) == ALL and len(ids) == len(set(ids))


@pytest.mark.parametrize("which", [1, 2, 3])
def test_a_missing_page(scripted: Start, which: int) -> None:
    client, _ = scripted(250, skip_page=which)
    ids = _ids(client, page_size=100)
    assert sorted(ids) == ALL and len(ids) == len(set(ids))


def test_deletions_before_the_read_position(scripted: Start) -> None:
    """Resources deleted behind the reader shift the rest left: nothing still there is missed."""

    def delete(app: Scripted, n: int) -> None:
        if n == 2:
            del app.users[10:15]

    client, _ = scripted(250, before_list=delete)
    ids = _ids(client, page_size=100)
    survivors = [i for i in ALL if i not in {f"u{k:05}" for k in range(10, 15)}]
    assert set(survivors) <= set(ids) and len(ids) == len(set(ids))


def test_insertions_before_the_read_position(scripted: Start) -> None:
    def insert(app: Scripted, n: int) -> None:
        if n in (2, 3):
            app.users.insert(0, {"id": f"x{n}", "userName": f"x{n}"})

    client, _ = scripted(250, before_list=insert)
    ids = _ids(client, page_size=100)
    assert set(ALL) <= set(ids) and len(ids) == len(set(ids))


def test_a_list_that_never_settles_is_an_error(scripted: Start) -> None:
    def churn(app: Scripted, n: int) -> None:
        del app.users[0]

    client, _ = scripted(250, before_list=churn)
    with pytest.raises(PagingError, match="resources may have been missed"):
        _ids(client, page_size=50)


def test_a_cursor_that_does_not_move_is_an_error(scripted: Start) -> None:
    client, app = scripted(250, cursor=True)
    app.repeat_page = 2
    ids = _ids(client, page_size=100)  # a repeated cursor page: de-duplicated, nothing lost
    assert len(ids) == len(set(ids))


def test_resume_from_a_checkpoint(scripted: Start) -> None:
    client, _ = scripted(250)
    resources = client.iter_resources(User, page_size=100)
    first = [next(resources).id for _ in range(150)]
    checkpoint = resources.checkpoint
    assert checkpoint == "index:100:u00099"  # mid-page: the page being read starts again
    rest = [u.id for u in client.iter_resources(User, page_size=100, checkpoint=checkpoint)]
    assert first + [i for i in rest if i not in first] == ALL
    assert rest[0] == "u00100"
    assert resources.checkpoint is not None


def test_resume_a_cursor(scripted: Start) -> None:
    client, _ = scripted(250, cursor=True)
    resources = client.iter_resources(User, page_size=100)
    first = [next(resources).id for _ in range(100)]
    assert resources.checkpoint == "cursor:101"
    rest = _ids(client, page_size=100, checkpoint=resources.checkpoint)
    assert first + rest == ALL


def test_paging_retries_a_429_mid_list(scripted: Start) -> None:
    client, app = scripted(250)
    resources = client.iter_resources(User, page_size=100)
    ids = [next(resources).id for _ in range(100)]
    app.faults.append(("429", 2))
    ids += [u.id for u in resources]
    assert ids == ALL and client.slept == [2.0]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- bulk


def test_bulk_batches_keep_references(scripted: Start) -> None:
    client, app = scripted(bulk_max=2)
    ops = [
        BulkOperation(
            method="POST",
            path="/Groups",
            bulk_id="g",
            data={"displayName": "G", "members": [{"value": "bulkId:u2"}]},
        ),
        BulkOperation(method="POST", path="/Users", bulk_id="u1", data={"userName": "a"}),
        BulkOperation(method="POST", path="/Users", bulk_id="u2", data={"userName": "b"}),
        BulkOperation(method="PATCH", path="/Users/bulkId:u1", data={"Operations": []}),
    ]
    results = client.bulk(ops)
    batches = [r[3]["Operations"] for r in app.requests if r[1].endswith("/Bulk")]
    assert [[op.get("bulkId") for op in batch] for batch in batches] == [
        ["u1", "u2"],
        ["g", None],
    ]
    assert batches[1][0]["data"]["members"] == [{"value": "id2"}]
    assert batches[1][1]["path"] == "/Users/id1"
    assert [r.status for r in results] == ["201"] * 4


def test_bulk_batches_stay_under_max_payload_size(scripted: Start) -> None:
    client, app = scripted(bulk_bytes=600)
    ops = [
        BulkOperation(method="POST", path="/Users", bulk_id=f"u{i}", data={"userName": "x" * 60})
        for i in range(10)
    ]
    results = client.bulk(ops)
    sizes = [
        len(json.dumps(r[3], separators=(",", ":"))) for r in app.requests if r[1].endswith("/Bulk")
    ]
    assert len(results) == 10 and len(sizes) > 1 and max(sizes) <= 600
    with pytest.raises(PayloadTooLarge, match="takes at most 600"):
        client.bulk([BulkOperation(method="POST", path="/Users", data={"userName": "x" * 700})])


def test_async_client_retries_and_pages(scripted: Start) -> None:
    sync, app = scripted(250)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    async def main() -> list[str]:
        async with AsyncClient(sync.core.base_url, sleep=sleep) as client:
            await client.discover()
            app.faults.append(("429", 5))
            return [u.id or "" async for u in client.iter_resources(User, page_size=60)]

    assert asyncio.run(main()) == ALL
    assert slept == [5.0]


@pytest.mark.parametrize("engine", ["httpx", "stdlib"])
def test_a_keep_alive_connection_closed_while_idle_fails_no_create(engine: str) -> None:
    """The server closes an idle connection (uvicorn after 1 s): the next POST goes through."""
    import time

    app = Scripted(users(0))
    with (
        LiveServer(app, timeout_keep_alive=1) as port,
        Client(f"http://127.0.0.1:{port}/v2", retry=Retry(attempts=1), engine=engine) as client,
    ):
        client.discover()
        time.sleep(2.0)  # twice the server's keep-alive timeout
        assert client.create(User(user_name="x")).id == "new1"
