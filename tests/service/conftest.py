"""A real uvicorn server on 127.0.0.1 (a free port) and a real HTTP client (http.client).

``live`` serves a fresh :class:`~scimcore.service.ScimService` over a
``SQLiteStore`` in a temporary directory, with the bearer token ``TOKEN``;
``http`` is a client for it. Tests that need their own service use
``serve(service)``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http import client as httpclient
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from scimcore.asgi import create_app
from scimcore.service import ScimService
from scimcore.stores import SQLiteStore

TOKEN = "test-token-0123456789"
PREFIX = "/scim/v2"


class Reply:
    """A response as the client received it."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body[:300]!r})"


class Client:
    """A tiny SCIM client over http.client: one connection per request."""

    def __init__(self, port: int, token: str | None = TOKEN) -> None:
        self.port = port
        self.token = token
        self.base = f"http://127.0.0.1:{port}{PREFIX}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        sent: dict[str, str] = {}
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/scim+json"
        sent.update(headers or {})
        connection = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, PREFIX + path, body=data, headers=sent)
            response = connection.getresponse()
            payload = response.read()
            received = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, received, payload)
        finally:
            connection.close()

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


class LiveServer:
    """uvicorn serving an ASGI app in a thread, on a port the OS chose."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="error", access_log=False, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> int:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        sockets = self.server.servers[0].sockets
        port: int = sockets[0].getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def serve() -> Iterator[Callable[..., Client]]:
    """Serve a service over real HTTP; returns a client for it."""
    servers: list[LiveServer] = []

    def start(service: ScimService, token: str | None = TOKEN) -> Client:
        server = LiveServer(create_app(service, prefix=PREFIX))
        port = server.__enter__()
        servers.append(server)
        return Client(port, token)

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], int]]:
    """Serve any ASGI app over real HTTP; returns its port."""
    servers: list[LiveServer] = []

    def start(app: Any) -> int:
        server = LiveServer(app)
        port = server.__enter__()
        servers.append(server)
        return port

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    """One server per test module: SQLite store, bearer token ``TOKEN``."""
    path: Path = tmp_path_factory.mktemp("live") / "scim.sqlite3"
    store = SQLiteStore(path)
    service = ScimService(store, tokens=[TOKEN], max_operations=10, max_payload_size=64_000)
    server = LiveServer(create_app(service, prefix=PREFIX))
    port = server.__enter__()
    try:
        yield Client(port)
    finally:
        server.__exit__(None, None, None)
        store.close()


@pytest.fixture
def http(live: Client) -> Client:
    """The client of the module's live server."""
    return live
