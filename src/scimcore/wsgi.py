"""A WSGI application serving a :class:`~scimcore.ScimService`, with no framework dependency.

>>> from io import BytesIO
>>> from scimcore.service import ScimService
>>> from scimcore.stores import MemoryStore
>>> app = create_app(ScimService(MemoryStore()))
>>> seen = []
>>> body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/Users", "wsgi.input": BytesIO(),
...             "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http"},
...            lambda status, headers: seen.append(status))
>>> import json
>>> seen, json.loads(b"".join(body))["totalResults"]
(['200 OK'], 0)

Mount it in any WSGI server or framework (gunicorn, Flask through
``DispatcherMiddleware``, Django through a view that calls
:meth:`~scimcore.ScimService.handle`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from scimcore.errors import NotFound
from scimcore.service import Request, Response, ScimService
from scimcore.service._http import BODY_METHODS, environ_headers, trusted_host

__all__ = ["create_app"]

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _body(environ: dict[str, Any], limit: int) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        if not environ.get("wsgi.input_terminated"):
            return b""
        data: bytes = stream.read(limit + 1)
        return data
    return bytes(stream.read(min(length, limit + 1)))


def _base_url(environ: dict[str, Any], prefix: str, trusted: frozenset[str] | None) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST", "")
    if not trusted_host(host, trusted):
        host = environ.get("SERVER_NAME", "localhost")
        port = str(environ.get("SERVER_PORT", ""))
        if port and (scheme, port) not in (("http", "80"), ("https", "443")):
            host = f"{host}:{port}"
    script = _text(environ.get("SCRIPT_NAME", ""))
    return f"{scheme}://{host}{script}{prefix}"


def _text(native: str) -> str:
    """A WSGI "native string" (bytes as latin-1) read as UTF-8, as RFC 3986 paths are."""
    return native.encode("latin-1", "replace").decode("utf-8", "replace")


def create_app(
    service: ScimService, *, prefix: str = "", trusted_hosts: Iterable[str] | None = None
) -> WSGIApp:
    """A WSGI application serving ``service`` under ``prefix`` (``""`` or ``/scim/v2``).

    The path the service sees is ``PATH_INFO`` without ``prefix``. ``Location``
    URLs come from the service's ``base_url`` when it has one; otherwise from
    the scheme, ``Host``, ``SCRIPT_NAME`` and ``prefix``, where ``Host`` is
    reflected only if it is one of ``trusted_hosts`` (else ``SERVER_NAME`` and
    ``SERVER_PORT``; ``None``, the default, trusts any host). ``REMOTE_USER``,
    when the server or a middleware set it, becomes the request's
    ``principal``. A request without a good bearer token is refused before its
    body is read (:meth:`~scimcore.ScimService.refuse_unauthenticated`).
    """
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    trusted = None if trusted_hosts is None else frozenset(h.lower() for h in trusted_hosts)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = _text(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD", "GET")
        response: Response | None
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            error = NotFound(f"There is no endpoint at {path!r}.")
            response = service._error(error, Request(method, path))
        else:
            headers = environ_headers(environ)
            response = None
            if method in BODY_METHODS or environ.get("CONTENT_LENGTH"):
                response = service.refuse_unauthenticated(
                    Request(method, path[len(prefix) :], headers=headers)
                )
            if response is None:
                request = Request(
                    method,
                    path[len(prefix) :],
                    query=_text(environ.get("QUERY_STRING", "")),
                    headers=headers,
                    body=_body(environ, service.max_payload_size),
                    base_url=_base_url(environ, prefix, trusted),
                    principal=environ.get("REMOTE_USER"),
                )
                if service._is_async:
                    response = asyncio.run(service.handle_async(request))
                else:
                    response = service.handle(request)
        headers_out = [*response.headers, ("Content-Length", str(len(response.body)))]
        start_response(_status_line(response.status), headers_out)
        return [response.body]

    return app
