"""A real uvicorn server on 127.0.0.1 (a free port) and a real HTTP client (``tests._live``).

``live`` serves a fresh :class:`~scimcore.service.ScimService` over a
``SQLiteStore`` in a temporary directory, with the bearer token ``TOKEN``;
``http`` is a client for it. Tests that need their own service use
``serve(service)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scimcore.asgi import create_app
from scimcore.service import ScimService
from scimcore.stores import SQLiteStore
from tests._live import Client, LiveServer

TOKEN = "test-token-0123456789"
PREFIX = "/scim/v2"


@pytest.fixture
def serve() -> Iterator[Callable[..., Client]]:
    """Serve a service over real HTTP; returns a client for it."""
    servers: list[LiveServer] = []

    def start(service: ScimService, token: str | None = TOKEN) -> Client:
        server = LiveServer(create_app(service, prefix=PREFIX))
        port = server.__enter__()
        servers.append(server)
        return Client(port, PREFIX, token)

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
        yield Client(port, PREFIX, TOKEN)
    finally:
        server.__exit__(None, None, None)
        store.close()


@pytest.fixture
def http(live: Client) -> Client:
    """The client of the module's live server."""
    return live
