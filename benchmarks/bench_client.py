"""Client: scimcore.client against scim2-client 0.13.2, on the same `scimcore serve`.

One `scimcore serve` (SQLite file, the default store) runs in a child process; both
clients talk to it over loopback, each on its own HTTP stack (scimcore: httpx;
scim2-client: httpx2, its engine). What is timed is the *client process's CPU time*
per request (``time.process_time``: the server's work is in another process and is
not counted): the cost of building the request, the HTTP stack, and decoding and
validating the answer into typed models. Targets from issue 16: GET by id, a search
page of 100 users decoded, and a create, each ≥3× less CPU than scim2-client.

scimcore is timed with both of its engines: ``engine="stdlib"`` (``http.client``,
the rows with targets) and the default httpx (for information: httpx alone costs
about 0.4 ms of CPU per request, more than all the rest of a GET).

A last row is not a comparison: 100,000 users iterated through ``iter_resources``
(cursor pages of 1,000, every user decoded into a ``User``), in users per second of
wall time (target ≥20,000/s); the server's time is in it (on a loaded machine it
is most of it), so the client's own CPU time per user is printed too. The users are written
into the server's SQLite file before it starts. ``SCIMCORE_BENCH_CLIENT_USERS``
sets their number.

    python benchmarks/run.py client
"""

from __future__ import annotations

import atexit
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _harness import Case

TOKEN = "bench-token-0123456789"
USERS = 100_000
ITERATE = int(os.environ.get("SCIMCORE_BENCH_CLIENT_USERS", USERS))

_SERVERS: list[subprocess.Popen[bytes]] = []


def _stop_all() -> None:
    for process in _SERVERS:
        process.terminate()
        process.wait(timeout=20)


atexit.register(_stop_all)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(directory: str) -> str:
    port = _free_port()
    scimcore = str(Path(sys.executable).with_name("scimcore"))
    process = subprocess.Popen(
        [
            *(scimcore, "serve", "--db", f"{directory}/bench.sqlite3", "--port", str(port)),
            *("--token", TOKEN, "--failed-auth-per-minute", "1000000"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _SERVERS.append(process)
    return f"http://127.0.0.1:{port}/scim/v2"


def _populate(path: str, count: int) -> None:
    """``count`` users in the SQLite file ``scimcore serve`` will open (written directly: an
    import through the store is much faster than over HTTP)."""
    from scimcore.models import Email, Name, User
    from scimcore.stores import SQLiteStore

    store = SQLiteStore(path)
    try:
        for start in range(0, count, 5000):
            store.create_many(
                User(
                    user_name=f"user{i:06}",
                    display_name=f"User {i}",
                    name=Name(given_name="Given", family_name=f"Family{i}"),
                    emails=[Email(value=f"user{i}@example.com", type="work", primary=True)],
                    title=f"title{i % 500}",
                    active=True,
                )
                for i in range(start, min(count, start + 5000))
            )
    finally:
        store.close()


def cases() -> list[Case]:
    from httpx2 import Client as Httpx2Client
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_models import SearchRequest as Scim2Search
    from scim2_models import User as Scim2User

    from scimcore.client import Client, Retry
    from scimcore.models import Email, Name, User

    directory = tempfile.mkdtemp(prefix="scimcore-bench-client-")
    _populate(f"{directory}/bench.sqlite3", ITERATE)
    url = _serve(directory)
    wait = Retry(attempts=200, max_backoff=0.1)
    ours = Client(url, token=TOKEN, retry=wait)
    ours.discover()  # waits for the server (a refused connection is retried)
    lean = Client(url, token=TOKEN, engine="stdlib")
    first = ours.search(User, count=1).resources[0]
    assert first.id is not None
    user_id = first.id

    http = Httpx2Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"})
    peer = SyncSCIMClient(http, resource_models=[Scim2User])
    peer.discover()

    counter = itertools.count()

    def our_get() -> object:
        return ours.get(User, user_id)

    def lean_get() -> object:
        return lean.get(User, user_id)

    def peer_get() -> object:
        return peer.query(Scim2User, user_id)

    def our_page() -> object:
        page = ours.search(User, count=100, start_index=1)
        assert len(page.resources) == 100
        return page

    def lean_page() -> object:
        page = lean.search(User, count=100, start_index=1)
        assert len(page.resources) == 100
        return page

    def peer_page() -> object:
        page = peer.query(Scim2User, query_parameters=Scim2Search(count=100, start_index=1))
        assert len(page.resources) == 100
        return page

    def new_user(n: int) -> User:
        return User(
            user_name=f"new{n}",
            name=Name(given_name="Barbara", family_name="Jensen"),
            emails=[Email(value=f"new{n}@example.com", type="work", primary=True)],
        )

    def our_create() -> object:
        return ours.create(new_user(next(counter)))

    def lean_create() -> object:
        return lean.create(new_user(next(counter)))

    def peer_create() -> object:
        n = next(counter)
        return peer.create(
            Scim2User(
                user_name=f"new{n}",
                name={"given_name": "Barbara", "family_name": "Jensen"},
                emails=[{"value": f"new{n}@example.com", "type": "work", "primary": True}],
            )
        )

    rates: list[float] = []
    cpu_per_user: list[float] = []

    def iterate() -> object:
        cpu_start = time.process_time()
        start = time.perf_counter()
        count = sum(
            1
            for u in lean.iter_resources(User, page_size=1000, method="cursor")
            if u.user_name is not None
        )
        assert count >= ITERATE, count
        rates.append(count / (time.perf_counter() - start))
        cpu_per_user.append((time.process_time() - cpu_start) / count)
        return count

    def report_rate() -> object:
        iterate()
        if len(rates) == 5:  # the harness's last repeat
            print(f"   iter_resources: {max(rates):,.0f} users/s decoded (target ≥20,000/s)")
            best = min(cpu_per_user)
            print(
                f"   iter_resources: the client's CPU {best * 1e6:.1f} µs a user "
                f"({1 / best:,.0f} users per CPU second)"
            )
        return None

    cpu = time.process_time
    peer_name = "scim2-client 0.13.2"
    return [
        Case(
            "client CPU, stdlib engine: GET /Users/{id}",
            lean_get,
            peer_get,
            peer_name,
            target=3,
            number=200,
            clock=cpu,
        ),
        Case(
            "client CPU, stdlib engine: search, 100 users decoded",
            lean_page,
            peer_page,
            peer_name,
            target=3,
            number=20,
            clock=cpu,
        ),
        Case(
            "client CPU, stdlib engine: create a User",
            lean_create,
            peer_create,
            peer_name,
            target=3,
            number=100,
            clock=cpu,
        ),
        Case(
            "client CPU, httpx engine: GET /Users/{id}",
            our_get,
            peer_get,
            peer_name,
            number=200,
            clock=cpu,
        ),
        Case(
            "client CPU, httpx engine: search, 100 users decoded",
            our_page,
            peer_page,
            peer_name,
            number=20,
            clock=cpu,
        ),
        Case(
            "client CPU, httpx engine: create a User",
            our_create,
            peer_create,
            peer_name,
            number=100,
            clock=cpu,
        ),
        Case(f"iter_resources (stdlib): {ITERATE:,} users, wall time", report_rate, None, number=1),
    ]
