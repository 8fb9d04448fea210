"""Service over HTTP on loopback: scimcore (SQLite) vs scim2-server 0.8.3, 5,000 users.

Both servers run as separate processes under the same uvicorn (one worker;
httptools and uvloop when installed, as ``uvicorn[standard]`` gives), each
holding the same 5,000 users created over HTTP: scimcore with its default
store (``SQLiteStore``), scim2-server with its ``AsyncInMemoryStorage``.
The client sends one request per call over a persistent keep-alive
connection (a lean raw-socket HTTP/1.1 client). Targets from issue 7: GET by
id ≥3×, a filter on a non-indexed attribute (``title``) ≥20×, create ≥3×.
Each is run twice: with the ASGI app's default (the sync store runs in a
worker thread) and with ``sync_to_thread=False`` (on the event loop).

    python benchmarks/run.py service
"""

from __future__ import annotations

import atexit
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
    """One keep-alive HTTP/1.1 connection, as lean as a load generator's.

    Requests are written as bytes and responses read by ``Content-Length``, so
    that the client costs little next to the servers it measures (http.client
    alone takes about 100 µs a request here). The JSON body is parsed only when
    the caller asks for it.
    """

    def __init__(self, port: int, prefix: str) -> None:
        self.port = port
        self.prefix = prefix
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _read_response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        self.buffer = rest
        if not chunked:
            data = self._exactly(length)
            return status, data
        body = b""
        while True:
            size = int(self._line(), 16)
            if size == 0:
                self._line()
                return status, body
            body += self._exactly(size)
            self._line()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def call(
        self, method: str, path: str, body: Any = None, *, parse: bool = False
    ) -> tuple[int, Any]:
        data = b"" if body is None else json.dumps(body).encode()
        request = (
            f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Accept: application/scim+json\r\nContent-Type: application/scim+json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        try:
            self.sock.sendall(request)
            status, payload = self._read_response()
        except (ConnectionError, OSError):
            self.sock.close()
            self.sock = socket.create_connection(("127.0.0.1", self.port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
            self.sock.sendall(request)
            status, payload = self._read_response()
        return status, json.loads(payload) if parse and payload else None


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
        status, body = client.call("POST", "/Users", _user(i), parse=True)
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

    for client in (ours, peer):  # both answer the same thing
        _, body = client.call("GET", f"/Users?filter={title}", parse=True)
        assert body["totalResults"] == USERS // TITLES, body

    def search(client: Client) -> None:
        status, _ = client.call("GET", f"/Users?filter={title}")
        assert status == 200

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
