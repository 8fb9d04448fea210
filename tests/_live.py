"""A real server for the HTTP tests: uvicorn on 127.0.0.1 in a thread, and a small client.

``LiveServer(app)`` serves any ASGI app on a port the OS chooses; ``Client`` sends
one request per connection with ``http.client`` (no client library between the
test and the bytes on the wire) and returns a ``Reply``. The SCIM 2.0 tests
(``tests/service``) and the SCIM 1.1 tests (``tests/v1``) both use them.
"""

from __future__ import annotations

import json
import threading
import time
from http import client as httpclient
from typing import Any

import uvicorn

__all__ = ["Client", "LiveServer", "Reply"]


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
    """A tiny SCIM client for one base path: one connection per request.

    A ``body`` is sent as JSON (bytes as they are) with ``media_type``; ``raw``
    bytes are sent as they are, with no Content-Type unless ``headers`` give one.
    """

    def __init__(
        self,
        port: int,
        prefix: str,
        token: str | None,
        *,
        media_type: str = "application/scim+json",
        accept: str | None = None,
    ) -> None:
        self.port = port
        self.prefix = prefix
        self.token = token
        self.media_type = media_type
        self.accept = accept
        self.base = f"http://127.0.0.1:{port}{prefix}"

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
        if self.accept is not None:
            sent["Accept"] = self.accept
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        data = raw
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            sent["Content-Type"] = self.media_type
        sent.update(headers or {})
        connection = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, self.prefix + path, body=data, headers=sent)
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
    """uvicorn serving an ASGI app in a thread, on a port the OS chose.

    ``with LiveServer(app) as port:`` starts it and gives the port; leaving the
    block stops it. ``options`` go to ``uvicorn.Config`` as they are.
    """

    def __init__(self, app: Any, **options: Any) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="error",
            access_log=False,
            **{"lifespan": "on", **options},
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
