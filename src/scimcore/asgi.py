"""An ASGI application serving a :class:`~scimcore.ScimService`, with no framework dependency.

>>> from scimcore.service import ScimService
>>> from scimcore.stores import MemoryStore
>>> app = create_app(ScimService(MemoryStore()), prefix="/scim/v2")
>>> callable(app)
True

Mount it in any ASGI server or framework (``uvicorn module:app``, Starlette's
``Mount("/scim/v2", app)``, FastAPI's ``app.mount(...)``). Requests run with
:meth:`~scimcore.ScimService.handle_async`: an async store is awaited; a sync
store's reads and writes by ``id`` run on the event loop if its calls are short
(``store.short_calls``: ``MemoryStore``, ``SQLiteStore``), and its searches (and
every call of any other sync store) in the service's worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import attrs

from scimcore.errors import NotFound
from scimcore.service import Request, Response, ScimService
from scimcore.service._http import BODY_METHODS, trusted_host
from scimcore.service._tenants import Tenants

__all__ = ["create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _base_url(scope: Scope, prefix: str, host: str, trusted: frozenset[str] | None) -> str:
    if not trusted_host(host, trusted):
        host = ""
        if scope.get("server"):
            server_host, port = scope["server"][0], scope["server"][1]
            host = f"{server_host}:{port}" if port is not None else str(server_host)
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{prefix}"


#: The headers that announce a body (RFC 9112 §6.3; ASGI servers give names in lower case).
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


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


async def _disconnect(receive: Receive) -> None:
    """Return once the client has gone (``http.disconnect``).

    The body has been read, or it is the empty one of a request that announced
    none, never asked for (:func:`_has_body`): that message comes first and is
    passed over. A server that answers ``receive()`` with anything else once the
    body is read (against the ASGI spec, which has it wait for the disconnect)
    gives no signal to watch: then this waits until cancelled, rather than spin
    on the loop.
    """
    message = await receive()
    if message["type"] == "http.request" and not message.get("body"):
        message = await receive()
    if message["type"] != "http.disconnect":
        await asyncio.get_running_loop().create_future()


def _has_body(scope: Scope, announced: bool) -> bool:
    """Whether the request may have a body to read: HTTP/1.x gives a request one only
    with ``Content-Length`` or ``Transfer-Encoding`` (RFC 9112 §6.3); HTTP/2 and 3 frame
    it without either."""
    return announced or scope.get("http_version", "1.1") not in ("1.1", "1.0")


def create_app(
    service: ScimService | Tenants,
    *,
    prefix: str = "",
    sync_to_thread: bool | None = None,
    trusted_hosts: Iterable[str] | None = None,
) -> ASGIApp:
    """An ASGI 3 application serving ``service`` under ``prefix`` (``""`` or ``/scim/v2``).

    The path the service sees is the request's path without the mount point
    (``root_path``) and without ``prefix``. ``Location`` URLs come from the
    service's ``base_url`` when it has one; otherwise from the scheme, the
    ``Host`` header, ``root_path`` and ``prefix``, where the ``Host`` is
    reflected only if it is one of ``trusted_hosts`` (the server's own address
    is used instead; ``None``, the default, trusts any host, for a framework
    that checks it). A ``user`` the host's middleware put in the scope
    (Starlette's ``AuthenticationMiddleware`` does) becomes the request's
    ``principal``. A request without a good bearer token is refused before its
    body is read (:meth:`~scimcore.ScimService.refuse_unauthenticated`).
    ``sync_to_thread`` is passed to :meth:`~scimcore.ScimService.handle_async`:
    by default a sync store's reads and writes by ``id`` run on the event loop
    if it declares ``short_calls`` (the shipped ``MemoryStore`` and
    ``SQLiteStore`` do), and everything else in the service's worker threads.
    A search still running when its client disconnects is stopped.
    """
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    trusted = None if trusted_hosts is None else frozenset(h.lower() for h in trusted_hosts)

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
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            error = NotFound(f"There is no endpoint at {path!r}.")
            await _send(send, service._error(error, Request(scope["method"], path)))
            return
        headers: list[tuple[str, str]] = []
        host = ""
        announces_body = False
        for raw_name, raw_value in scope["headers"]:  # names in lower case (ASGI)
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            headers.append((name, value))
            if raw_name in _BODY_HEADERS:
                announces_body = True
            elif raw_name == b"host" and not host:
                host = value
        if announces_body or scope["method"] in BODY_METHODS:
            head = Request(scope["method"], path[len(prefix) :], headers=headers)
            refused = service.refuse_unauthenticated(head)
            if refused is not None:
                # The body it announced is never read: the connection ends with this answer,
                # so that the server neither reads nor holds what the client goes on sending.
                refused = attrs.evolve(refused, headers=(*refused.headers, ("Connection", "close")))
                await _send(send, refused)
                return
        body = (
            await _read_body(receive, service.max_payload_size)
            if _has_body(scope, announces_body)
            else b""
        )
        request = Request(
            scope["method"],
            path[len(prefix) :],
            query=scope.get("query_string", b"").decode("utf-8", "replace"),
            headers=headers,
            body=body,
            base_url=_base_url(scope, prefix, host, trusted),
            principal=scope.get("user"),
        )
        response = await service.handle_async(
            request, sync_to_thread=sync_to_thread, disconnected=lambda: _disconnect(receive)
        )
        await _send(send, response)

    return app
