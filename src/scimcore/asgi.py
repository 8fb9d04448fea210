"""An ASGI application serving a :class:`~scimcore.ScimService`, with no framework dependency.

>>> from scimcore.service import ScimService
>>> from scimcore.stores import MemoryStore
>>> app = create_app(ScimService(MemoryStore()), prefix="/scim/v2")
>>> callable(app)
True

Mount it in any ASGI server or framework (``uvicorn module:app``, Starlette's
``Mount("/scim/v2", app)``, FastAPI's ``app.mount(...)``). Requests run with
:meth:`~scimcore.ScimService.handle_async`: an async store is awaited; a sync
store runs on the event loop if its calls are short (``store.short_calls``:
``MemoryStore``, ``SQLiteStore``), else in a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from scimcore.errors import NotFound
from scimcore.service import Request, Response, ScimService

__all__ = ["create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _base_url(scope: Scope, prefix: str, host: str = "") -> str:
    if not host and scope.get("server"):
        server_host, port = scope["server"][0], scope["server"][1]
        host = f"{server_host}:{port}" if port is not None else str(server_host)
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{prefix}"


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The body, but never more than ``limit + 1`` bytes (enough to answer 413)."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break  # enough to answer 413; the server discards the rest
        more = bool(message.get("more_body", False))
    return b"".join(chunks)[: limit + 1]


async def _send(send: Send, response: Response) -> None:
    headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1", "replace"))
        for name, value in response.headers
    ]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(
    service: ScimService, *, prefix: str = "", sync_to_thread: bool | None = None
) -> ASGIApp:
    """An ASGI 3 application serving ``service`` under ``prefix`` (``""`` or ``/scim/v2``).

    The path the service sees is the request's path without the mount point
    (``root_path``) and without ``prefix``; ``Location`` URLs are built from the
    ``Host`` header, the scheme, ``root_path`` and ``prefix``. A ``user`` the
    host's middleware put in the scope (Starlette's ``AuthenticationMiddleware``
    does) becomes the request's ``principal``. ``sync_to_thread`` is passed to
    :meth:`~scimcore.ScimService.handle_async`: by default a sync store runs on
    the event loop if it declares ``short_calls`` (the shipped ``MemoryStore``
    and ``SQLiteStore`` do), else in a worker thread.
    """
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        root_path: str = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        body = await _read_body(receive, service.max_payload_size)
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            error = NotFound(f"There is no endpoint at {path!r}.")
            await _send(send, service._error(error, Request(scope["method"], path)))
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k.lower() == "host"), "")
        request = Request(
            scope["method"],
            path[len(prefix) :],
            query=scope.get("query_string", b"").decode("utf-8", "replace"),
            headers=headers,
            body=body,
            base_url=_base_url(scope, prefix, host),
            principal=scope.get("user"),
        )
        await _send(send, await service.handle_async(request, sync_to_thread=sync_to_thread))

    return app
