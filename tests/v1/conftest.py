"""A real server for the SCIM 1.1 tests: the app ``scimcore serve`` runs, on uvicorn.

``server`` starts :func:`scimcore._serve.build_app` (SCIM 2.0 under ``/scim/v2``
and SCIM 1.1 under ``/scim/v1``, one SQLite store) on 127.0.0.1 and a free
port, once per module; ``v1`` and ``v2`` are real HTTP clients (http.client)
for the two versions of that one server.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http import client as httpclient
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from scimcore._serve import build_app
from scimcore.policy import Policy
from scimcore.stores import SQLiteStore

TOKEN = "v1-test-token-0123456789"


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
    """A small HTTP client for one SCIM base path: one connection per request."""

    def __init__(self, port: int, prefix: str, token: str | None = TOKEN) -> None:
        self.port = port
        self.prefix = prefix
        self.token = token
        self.base = f"http://127.0.0.1:{port}{prefix}"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"Accept": "application/json"}
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        data: bytes | None = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        connection = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, self.prefix + path, body=data, headers=sent)
            response = connection.getresponse()
            received = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, received, response.read())
        finally:
            connection.close()

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Reply:
        return self.request("POST", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> Reply:
        return self.request("PUT", path, body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> Reply:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of a running ``scimcore serve`` app (SQLite store in a temporary directory)."""
    path: Path = tmp_path_factory.mktemp("v1") / "scim.sqlite3"
    store = SQLiteStore(str(path))
    app = build_app(store, [TOKEN], Policy())
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        uv.should_exit = True
        thread.join(timeout=10)
        store.close()


@pytest.fixture
def v1(server: int) -> Client:
    """A client for SCIM 1.1 at ``/scim/v1``."""
    return Client(server, "/scim/v1")


@pytest.fixture
def v2(server: int) -> Client:
    """A client for SCIM 2.0 at ``/scim/v2`` of the same server."""
    return Client(server, "/scim/v2")


@pytest.fixture
def anonymous(server: int) -> Client:
    """A client for SCIM 1.1 that sends no bearer token."""
    return Client(server, "/scim/v1", token=None)
