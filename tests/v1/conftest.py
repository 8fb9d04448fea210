"""A real server for the SCIM 1.1 tests: the app ``scimcore serve`` runs, on uvicorn.

``server`` starts :func:`scimcore._serve.build_app` (SCIM 2.0 under ``/scim/v2``
and SCIM 1.1 under ``/scim/v1``, one SQLite store) on 127.0.0.1 and a free
port, once per module; ``v1`` and ``v2`` are real HTTP clients (http.client)
for the two versions of that one server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scimcore._serve import build_app
from scimcore.policy import Policy
from scimcore.stores import SQLiteStore
from tests._live import Client, LiveServer

TOKEN = "v1-test-token-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The port of a running ``scimcore serve`` app (SQLite store in a temporary directory)."""
    path: Path = tmp_path_factory.mktemp("v1") / "scim.sqlite3"
    store = SQLiteStore(str(path))
    try:
        with LiveServer(build_app(store, [TOKEN], Policy())) as port:
            yield port
    finally:
        store.close()


@pytest.fixture
def v1(server: int) -> Client:
    """A client for SCIM 1.1 at ``/scim/v1``."""
    return _client(server, "/scim/v1", TOKEN)


@pytest.fixture
def v2(server: int) -> Client:
    """A client for SCIM 2.0 at ``/scim/v2`` of the same server."""
    return _client(server, "/scim/v2", TOKEN)


@pytest.fixture
def anonymous(server: int) -> Client:
    """A client for SCIM 1.1 that sends no bearer token."""
    return _client(server, "/scim/v1", None)


def _client(port: int, prefix: str, token: str | None) -> Client:
    """A client that sends and accepts ``application/json``, as SCIM 1.1 clients do."""
    return Client(port, prefix, token, media_type="application/json", accept="application/json")
