"""Sync: a full sync of N users into an empty `scimcore serve`, then an incremental run.

The source is a SQLite file (``SQLiteStore``, written directly before the run); the target is
``scimcore serve`` on an empty SQLite file in a child process, reached over loopback with
``scimcore.client.Client(engine="stdlib")``; the users are created in Bulk requests of 1,000
(the server's ``maxOperations``). Then 1% of the source's users change their title and an
incremental run (``meta.lastModified``) carries them over. Each run is reported in users per
second of wall time, with the share of the time spent waiting on the server (inside the
client's HTTP requests, retries' waits included) against the share in the engine (reading the
source, planning, encoding and decoding, the state file). ``SCIMCORE_BENCH_SYNC_USERS`` sets N
(100,000 by default).

    python benchmarks/run.py sync
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import Case

TOKEN = "bench-token-0123456789"
USERS = int(os.environ.get("SCIMCORE_BENCH_SYNC_USERS", 100_000))


def _serve(directory: str) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    scimcore = str(Path(sys.executable).with_name("scimcore"))
    process = subprocess.Popen(
        [
            *(scimcore, "serve", "--db", f"{directory}/target.sqlite3", "--port", str(port)),
            *("--token", TOKEN, "--failed-auth-per-minute", "1000000"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, f"http://127.0.0.1:{port}/scim/v2"


def _populate(path: str, count: int) -> None:
    """``count`` users written directly into the source's SQLite file, stamped over the last
    hour (as a directory's users are: changed at different times, before the sync)."""
    import datetime
    import itertools

    from scimcore.models import Email, Name, User
    from scimcore.stores import SQLiteStore

    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    step = datetime.timedelta(seconds=3000 / count)
    ticks = itertools.count()

    def clock() -> datetime.datetime:
        return an_hour_ago + next(ticks) * step

    store = SQLiteStore(path, clock=clock)
    try:
        for start in range(0, count, 5000):
            store.create_many(
                User(
                    user_name=f"user{i:06}",
                    external_id=f"hr-{i}",
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


def _timed(perform: Callable[[Any], Any], waited: list[float]) -> Callable[[Any], Any]:
    def perform_timed(step: Any) -> Any:
        start = time.perf_counter()
        try:
            return perform(step)
        finally:
            waited[0] += time.perf_counter() - start

    return perform_timed


def _line(name: str, users: int, wall: float, waited: float, cpu: float) -> str:
    return (
        f"   {name}: {users:,} users in {wall:.1f} s = {users / wall:,.0f} users/s;"
        f" waiting on the server {waited / wall:.0%}, in the engine {1 - waited / wall:.0%}"
        f" (reading the source store included; the sync process's CPU: {cpu:.1f} s)"
    )


def measure(count: int = USERS) -> list[str]:
    """Run both syncs once; the report lines."""
    from scimcore.client import Client, Retry
    from scimcore.models import User
    from scimcore.storage import Query
    from scimcore.stores import SQLiteStore
    from scimcore.sync import ClientEndpoint, Match, Rules, Sync

    directory = tempfile.mkdtemp(prefix="scimcore-bench-sync-")
    _populate(f"{directory}/source.sqlite3", count)
    process, url = _serve(directory)
    lines = []
    try:
        client = Client(
            url, token=TOKEN, engine="stdlib", retry=Retry(attempts=200, max_backoff=0.1)
        )
        client.discover()  # waits for the server
        waited = [0.0]
        client._perform = _timed(client._perform, waited)  # type: ignore[method-assign]
        source = SQLiteStore(f"{directory}/source.sqlite3")
        target = ClientEndpoint(client, bulk=1000)
        rules = Rules(users=Match("externalId"))
        sync = Sync(source, target, rules=rules, state=f"{directory}/state.sqlite3")

        waited[0], cpu, start = 0.0, time.process_time(), time.perf_counter()
        plan, report = sync.run()
        wall = time.perf_counter() - start
        assert report.ok, report.table()
        assert report.count("create") == count, report.table()
        lines.append(_line("full sync", count, wall, waited[0], time.process_time() - cpu))

        changed = 0
        page = source.search(Query(models=User, count=count))
        for user in page.resources[::100]:
            user.title = "changed"
            source.replace(user)
            changed += 1
        waited[0], cpu, start = 0.0, time.process_time(), time.perf_counter()
        plan, report = sync.run()
        wall = time.perf_counter() - start
        assert plan.mode == "incremental", plan.mode
        assert report.ok, report.table()
        assert report.count("update") == changed, report.table()
        lines.append(
            _line(
                f"incremental, {changed:,} changed",
                changed,
                wall,
                waited[0],
                time.process_time() - cpu,
            )
        )
        sync.close()
        source.close()
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=20)
    return lines


def cases() -> list[Case]:
    for line in measure():
        print(line)
    return []


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    for line in measure(int(sys.argv[1]) if len(sys.argv) > 1 else USERS):
        print(line)
