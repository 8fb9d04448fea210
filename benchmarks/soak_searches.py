"""Issue 21's stalls, measured at their scale: costly filters against a real server.

    python benchmarks/soak_searches.py [--store sqlite|postgres|memory] [--users 50000]

Loads the users, serves them with ``scimcore serve``'s app (uvicorn, in a child
process), then measures, over real HTTP on loopback:

1. the issue's request: 388 ``emails.value co`` terms (under the length cap);
2. a filter under the cost budget that is slow over every user, and the latency of
   GETs of other users sent while it runs;
3. twelve such searches whose clients disconnect after 0.2 s: the queries still
   running in PostgreSQL afterwards (none may be), and a GET's latency.

Run through ``nox -s soak``. It prints figures; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import threading
import time
from http import client as httpclient
from pathlib import Path
from typing import Any
from urllib.parse import quote

DSN = os.environ.get("SCIMCORE_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "scimcore_soak"
TOKEN = "soak-token"
HEAVY = " or ".join(f'emails.value co "{i:03d}"' for i in range(388))
SLOW = " or ".join(f'emails.value co "{i:03d}"' for i in range(240))
FIFTY = " or ".join(f'emails.value co "{i:03d}"' for i in range(50))


def make_store(kind: str, where: str) -> Any:
    from scimcore import stores

    if kind == "memory":
        return stores.MemoryStore()
    if kind == "postgres":
        return stores.PostgresStore(DSN, schema=SCHEMA)
    return stores.SQLiteStore(where)


def load(kind: str, where: str, users: int) -> list[str]:
    """Create the users (PostgreSQL and SQLite: before the server starts); their ids."""
    from scimcore.models import Email, User

    store = make_store(kind, where)
    try:
        if kind == "postgres":
            store.drop()
            store.close()
            store = make_store(kind, where)
        made = store.create_many(
            User(
                user_name=f"user{i:06d}",
                emails=[Email(value=f"user{i}@example.com"), Email(value=f"u{i}@home.example")],
            )
            for i in range(users)
        )
        return [u.id for u in made]
    finally:
        store.close()


def serve(kind: str, where: str, port: int, users: int, ready: Any) -> None:
    import uvicorn

    from scimcore._guard import Limits, guarded_protocol
    from scimcore._serve import build_app
    from scimcore.policy import Policy

    store = make_store(kind, where)
    if kind == "memory":
        from scimcore.models import Email, User

        store.create_many(
            User(user_name=f"user{i:06d}", emails=[Email(value=f"user{i}@example.com")])
            for i in range(users)
        )
    ready.set()
    uvicorn.run(
        build_app(store, [TOKEN], Policy.interop()),
        host="127.0.0.1",
        port=port,
        http=guarded_protocol(Limits()),
        log_level="error",
        access_log=False,
    )


def get(port: int, target: str, timeout: float = 600) -> tuple[int, float, dict[str, Any]]:
    started = time.perf_counter()
    connection = httpclient.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", target, headers={"Authorization": f"Bearer {TOKEN}"})
        response = connection.getresponse()
        body = response.read()
        return response.status, time.perf_counter() - started, json.loads(body or b"{}")
    finally:
        connection.close()


def abandon(port: int, target: str, after: float) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\r\n".encode()
        )
        time.sleep(after)


def running_queries() -> int:
    import psycopg

    with psycopg.connect(DSN) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
            "AND query ILIKE %s AND pid <> pg_backend_pid()",
            ("%scim_%",),
        ).fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sqlite", "postgres", "memory"], default="sqlite")
    parser.add_argument("--users", type=int, default=50_000)
    args = parser.parse_args()
    where = str(Path(tempfile.mkdtemp()) / "soak.sqlite3")
    started = time.perf_counter()
    ids = [] if args.store == "memory" else load(args.store, where, args.users)
    print(f"{args.store}: {args.users} users loaded in {time.perf_counter() - started:.1f} s")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ready = multiprocessing.Event()
    child = multiprocessing.Process(
        target=serve, args=(args.store, where, port, args.users, ready), daemon=True
    )
    child.start()
    ready.wait(600)
    for _ in range(200):
        try:
            get(port, "/scim/v2/ServiceProviderConfig", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    if not ids:
        ids = [r["id"] for r in get(port, "/scim/v2/Users?count=200")[2]["Resources"]]
    try:
        status, took, body = get(port, f"/scim/v2/Users?filter={quote(HEAVY)}")
        print(f"388 terms ({len(HEAVY)} chars): {status} {body.get('scimType')} in {took:.3f} s")

        result: list[Any] = []
        slow = threading.Thread(
            target=lambda: result.append(get(port, f"/scim/v2/Users?filter={quote(SLOW)}"))
        )
        slow.start()
        time.sleep(0.2)
        latencies = []
        while slow.is_alive() and len(latencies) < 200:
            latencies.append(get(port, f"/scim/v2/Users/{ids[len(latencies) * 7 % len(ids)]}")[1])
            time.sleep(0.02)
        slow.join()
        status, took, body = result[0]
        print(
            f"240 terms: {status} {body.get('scimType')} in {took:.3f} s; meanwhile "
            f"{len(latencies)} GETs by id, slowest {max(latencies) * 1000:.1f} ms, "
            f"median {sorted(latencies)[len(latencies) // 2] * 1000:.1f} ms"
        )

        threads = [
            threading.Thread(
                target=abandon, args=(port, f"/scim/v2/Users?filter={quote(FIFTY)}", 0.2)
            )
            for _ in range(12)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(0.5)
        if args.store == "postgres":
            still = running_queries()
            print(f"12 abandoned 50-term searches: {still} queries still running 0.5 s on")
        took = get(port, f"/scim/v2/Users/{ids[42]}")[1]
        print(f"then a GET by id: {took * 1000:.1f} ms")
    finally:
        child.terminate()
        child.join()
        if args.store == "postgres":
            load_store = make_store("postgres", where)
            load_store.drop()
            load_store.close()


if __name__ == "__main__":
    sys.exit(main())
