"""Service over HTTP on loopback: scimcore (SQLite) vs scim2-server 0.8.3, 5,000 users.

Both servers run as separate processes under the same uvicorn (one worker;
httptools and uvloop when installed, as ``uvicorn[standard]`` gives), each
holding the same 5,000 users created over HTTP: scimcore with its default
store (``SQLiteStore``), scim2-server with its ``AsyncInMemoryStorage``.
The client sends one request per call over a persistent keep-alive
connection (http.client). Targets from issue 7: GET by
id ≥3×, a filter on a non-indexed attribute (``title``) ≥20×, create ≥3×.
Each is run twice: with the ASGI app's default (the sync store runs in a
worker thread) and with ``sync_to_thread=False`` (on the event loop).

    python benchmarks/run.py service
"""

from __future__ import annotations

import atexit
import http.client
import itertools
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from _harness import Case

USERS = 5_000
TITLES = 500  # each title is held by 10 users
USER = "urn:ietf:params:scim:schemas:core:2.0:User"

_SERVERS: list[subprocess.Popen[bytes]] = []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(kind: str, port: int, directory: str) -> None:
    """Run one server in this process (the child side)."""
    import uvicorn

    if kind.startswith("scimcore"):
        from scimcore.asgi import create_app
        from scimcore.service import ScimService
        from scimcore.stores import SQLiteStore

        app: Any = create_app(
            ScimService(SQLiteStore(Path(directory) / "bench.sqlite3")),
            prefix="/scim/v2",
            sync_to_thread=kind == "scimcore",
        )
    else:
        from scim2_server.applications.asgi import ASGIApplication
        from scim2_server.memory import AsyncInMemoryStorage
        from scim2_server.utils import load_default_provider

        app = ASGIApplication(AsyncInMemoryStorage(), load_default_provider())
    # The fastest stack uvicorn offers (uvicorn[standard]: httptools, uvloop), for both.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="auto",
        http="auto",
        timeout_keep_alive=3600,
    )


class Client:
    """One keep-alive connection to a server."""

    def __init__(self, port: int, prefix: str) -> None:
        self.prefix = prefix
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Content-Type": "application/scim+json", "Accept": "application/scim+json"}

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        try:
            self.connection.request(method, self.prefix + path, body=data, headers=self.headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            self.connection.close()
            self.connection.request(method, self.prefix + path, body=data, headers=self.headers)
            response = self.connection.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None


def _start(kind: str, prefix: str) -> Client:
    port = _free_port()
    directory = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(port), directory],
        stdout=subprocess.DEVNULL,
    )
    _SERVERS.append(process)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return Client(port, prefix)


def _stop() -> None:
    for process in _SERVERS:
        process.terminate()
        process.wait(timeout=10)


atexit.register(_stop)


def _user(i: int) -> dict[str, Any]:
    return {
        "schemas": [USER],
        "userName": f"user{i:05d}",
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i % 977}"},
        "displayName": f"User {i}",
        "title": f"Title {i % TITLES}",
        "active": i % 3 != 0,
        "emails": [{"value": f"user{i}@example.com", "type": "work", "primary": True}],
    }


def _seed(client: Client) -> list[str]:
    ids = []
    for i in range(USERS):
        status, body = client.call("POST", "/Users", _user(i))
        assert status == 201, (status, body)
        ids.append(body["id"])
    return ids


def _cases_for(ours: Client, peer: Client, label: str) -> list[Case]:
    ours_ids, peer_ids = _seed(ours), _seed(peer)
    ours_next, peer_next = itertools.cycle(ours_ids), itertools.cycle(peer_ids)
    counter = itertools.count(USERS)
    title = quote('title eq "Title 123"')

    def get(client: Client, ids: Any) -> None:
        status, _ = client.call("GET", f"/Users/{next(ids)}")
        assert status == 200

    def search(client: Client) -> None:
        status, body = client.call("GET", f"/Users?filter={title}")
        assert status == 200
        assert body["totalResults"] == USERS // TITLES

    def create(client: Client) -> None:
        status, _ = client.call("POST", "/Users", _user(next(counter)))
        assert status == 201

    return [
        Case(
            f"GET /Users/{{id}}{label}",
            lambda: get(ours, ours_next),
            lambda: get(peer, peer_next),
            "scim2-server 0.8.3",
            3,
        ),
        Case(
            f'GET /Users?filter=title eq "…" (no index){label}',
            lambda: search(ours),
            lambda: search(peer),
            "scim2-server 0.8.3",
            20,
        ),
        Case(
            f"POST /Users{label}",
            lambda: create(ours),
            lambda: create(peer),
            "scim2-server 0.8.3",
            3,
        ),
    ]


def cases() -> list[Case]:
    """The three issue-7 comparisons, for the default ASGI app (a sync store off the
    event loop) and with ``sync_to_thread=False``; starts the servers and seeds them.
    """
    default = _cases_for(_start("scimcore", "/scim/v2"), _start("scim2-server", "/v2"), "")
    inline = _cases_for(
        _start("scimcore-inline", "/scim/v2"),
        _start("scim2-server", "/v2"),
        " (sync_to_thread=False)",
    )
    return default + inline


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--serve":
    _serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
