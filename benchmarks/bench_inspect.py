"""What ``scimcore serve --inspect`` costs: serve's app with the inspector against without it.

In one process, with no network between: ``scimcore serve``'s whole ASGI app
(:func:`scimcore._serve.build_app`: its log and failed-authentication wrappers,
the routing, a SQLite store holding 1,000 users), driven by ASGI calls, once
with ``--inspect`` (200 requests kept) and once without. The peer column is the
app without the inspector, so the ratio is its time over the inspected app's:
the share of requests per second the inspector leaves (issue 19: at least
0.9×). Over HTTP the ratio is closer to 1, the server's fixed costs being in
both. Each call is a batch of ``BATCH`` requests in one event-loop run.

    python benchmarks/run.py inspect

The inspected side is skipped when this scimcore has no inspector (to time the
app without it on an older checkout: ``PYTHONPATH=<checkout>/src``).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import Case

USERS = 1_000
BATCH = 200
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _app(inspect: bool, directory: str) -> Any:
    from scimcore._serve import build_app
    from scimcore.policy import Policy
    from scimcore.stores import SQLiteStore

    store = SQLiteStore(Path(directory) / f"{'on' if inspect else 'off'}.sqlite3")
    options = {"inspect": 200} if inspect else {}
    return build_app(store, [], Policy.interop(), **options)


def _scope(method: str, path: str, query: str = "") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8000"),
            (b"accept", b"application/scim+json"),
            (b"content-type", b"application/scim+json"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _call(app: Any, scope: dict[str, Any], body: bytes = b"") -> tuple[int, bytes]:
    status = 0
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


class Side:
    """One app (inspected or not) with its loop and its seeded users."""

    def __init__(self, inspect: bool, directory: str) -> None:
        self.app = _app(inspect, directory)
        self.loop = asyncio.new_event_loop()
        self.ids: list[str] = []
        self.made = 0
        for n in range(USERS):
            status, body = self.run(self._create(n))
            assert status == 201, body
            self.ids.append(json.loads(body)["id"])

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    def _create(self, n: int) -> Any:
        user = {"schemas": [USER], "userName": f"user{n}", "title": f"Title {n % 100}"}
        return _call(self.app, _scope("POST", "/scim/v2/Users"), json.dumps(user).encode())

    def gets(self) -> None:
        async def batch() -> None:
            for n in range(BATCH):
                status, _ = await _call(self.app, _scope("GET", f"/scim/v2/Users/{self.ids[n]}"))
                assert status == 200

        self.run(batch())

    def searches(self) -> None:
        async def batch() -> None:
            for n in range(BATCH // 10):
                query = f"filter=title%20eq%20%22Title%20{n}%22"
                status, _ = await _call(self.app, _scope("GET", "/scim/v2/Users", query))
                assert status == 200

        self.run(batch())

    def creates(self) -> None:
        async def batch() -> None:
            for _ in range(BATCH):
                self.made += 1
                status, _ = await self._create(USERS + self.made)
                assert status == 201

        self.run(batch())


def _cpu_ratios(on: Side, off: Side, rounds: int = 15) -> None:
    """The ratios in CPU time of this process (the median of ``rounds`` interleaved rounds):
    on a machine shared with other work, steadier than the wall-clock table."""
    for name, work in (("GET /Users/{id}", Side.gets), ("POST /Users", Side.creates)):
        ratios = []
        for _ in range(rounds):
            times = []
            for side in (off, on):
                start = time.process_time()
                work(side)
                times.append(time.process_time() - start)
            ratios.append(times[0] / times[1])
        print(
            f"CPU time, {name}: without / with --inspect = {statistics.median(ratios):.3f}"
            f" (median of {rounds}; quartiles {statistics.quantiles(ratios, n=4)[0]:.3f}"
            f"-{statistics.quantiles(ratios, n=4)[2]:.3f})"
        )


def cases() -> list[Case]:
    """GET by id, a filter, and a create: inspected (ours) against not (the peer)."""
    directory = tempfile.mkdtemp(prefix="scimcore-bench-inspect-")
    off = Side(False, directory)
    try:
        on: Side | None = Side(True, directory)
    except TypeError:  # an older build_app: no inspector to time
        on = None

    def pair(name: str, work: Callable[[Side], None], calls: int) -> Case:
        if on is None:
            return Case(f"{name}, without --inspect", lambda: work(off), None, number=calls)
        return Case(
            f"{name} (--inspect / not)",
            lambda: work(on),
            lambda: work(off),
            "serve's app without --inspect",
            target=0.9,
            number=calls,
        )

    print(f"per call: {BATCH} GETs, {BATCH // 10} filtered GETs, or {BATCH} POSTs")
    if on is not None:
        _cpu_ratios(on, off)
    return [
        pair("GET /Users/{id}", Side.gets, 10),
        pair('GET /Users?filter=title eq "…"', Side.searches, 10),
        pair("POST /Users", Side.creates, 3),
    ]
