"""The server under check: a URL, or an ASGI or WSGI application called in process.

Every request the checks send goes through :class:`Target.send`, which returns an
:class:`~scimcore.client.HttpResponse` and remembers the request as a :class:`Sent`
(what a finding prints as a ``curl`` command). A URL is reached with httpx; an
application is called in process through an httpx transport (httpx's own
``WSGITransport``, or :class:`_AsgiTransport`, which runs an ASGI application on
an event loop of its own), so no socket is opened. The typed operations the
checks also need (discovery) go through :class:`scimcore.client.Client` on the
same httpx client.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import shlex
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

import attrs
import httpx

from scimcore.client import Client, HttpRequest, HttpResponse
from scimcore.client._stdlib import StdlibEngine

__all__ = ["APP_BASE_URL", "Sent", "Target", "is_asgi"]

#: The base URL an in-process application is called at (no request leaves the process).
APP_BASE_URL = "http://scimcore-check.invalid"

SCIM_JSON = "application/scim+json"


@attrs.frozen
class Sent:
    """One request as it was sent: enough to send it again with ``curl``."""

    method: str
    url: str
    body: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)

    def curl(self, *, token_placeholder: str = "$TOKEN") -> str:
        """The request as a ``curl`` command line; the bearer token is ``$TOKEN``.

        >>> Sent("GET", "http://h/scim/v2/Users?filter=x").curl()
        'curl -s -X GET -H "Authorization: Bearer $TOKEN" \\'http://h/scim/v2/Users?filter=x\\''
        """
        parts = ["curl", "-s", "-X", self.method]
        for name, value in self.headers.items():
            parts += ["-H", shlex.quote(f"{name}: {value}")]
        auth = f'-H "Authorization: Bearer {token_placeholder}"'
        line = " ".join(parts) + " " + auth
        if self.body is not None:
            if not any(name.lower() == "content-type" for name in self.headers):
                line += f" -H 'Content-Type: {SCIM_JSON}'"
            line += " --data " + shlex.quote(json.dumps(self.body, ensure_ascii=False))
        return line + " " + shlex.quote(self.url)


def is_asgi(app: Callable[..., Any]) -> bool:
    """Whether ``app`` is an ASGI application (a coroutine function of three arguments)."""
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else type(app).__call__
    return inspect.iscoroutinefunction(call)


class _AsgiTransport(httpx.BaseTransport):
    """A blocking httpx transport calling an ASGI application on a loop thread of its own."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="scimcore-check-asgi", daemon=True
        )
        self._thread.start()

    async def _call(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(body)
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return asyncio.run_coroutine_threadsafe(self._call(request), self._loop).result()

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        self._loop.close()


class Target:
    """The server under check, its base URL and token; sends raw requests and typed ones.

    ``target`` is a base URL (``https://example.com/scim/v2``) or an ASGI or WSGI
    application, called in process at ``base_url`` (default :data:`APP_BASE_URL`
    followed by ``/scim/v2``, or ``/scim/v1`` for ``version=1``).
    """

    def __init__(
        self,
        target: str | Callable[..., Any],
        *,
        token: str | None,
        version: int,
        base_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        transport: httpx.BaseTransport | None = None
        if isinstance(target, str):
            url = target
        else:
            url = base_url or f"{APP_BASE_URL}/scim/v{version}"
            transport = (
                _AsgiTransport(target) if is_asgi(target) else httpx.WSGITransport(app=target)
            )
        self.base_url = url.rstrip("/")
        self.token = token
        self.version = version
        self.in_process = transport is not None
        self._transport = transport
        self.http = httpx.Client(timeout=timeout, transport=transport)
        # A URL is reached with the client's http.client engine (a quarter of httpx's CPU
        # time a request: the fuzzers send thousands); an application through httpx.
        self._engine = None if transport is not None else StdlibEngine(timeout)
        if self._engine is None:
            self.client = Client(self.base_url, token=token, version=version, http=self.http)
        else:
            self.client = Client(
                self.base_url, token=token, version=version, engine="stdlib", timeout=timeout
            )
        self.requests = 0

    def close(self) -> None:
        """Close the connections (and stop the in-process application's loop)."""
        self.client.close()
        self.http.close()
        if self._engine is not None:
            self._engine.close()
        if isinstance(self._transport, _AsgiTransport):
            self._transport.close()

    def url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        """The absolute URL of ``path`` (``/Users``) with ``query``."""
        url = self.base_url + path
        if query:
            url += "?" + urlencode({k: str(v) for k, v in query.items()})
        return url

    def sent(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Sent:
        """The :class:`Sent` for a request (not sent)."""
        return Sent(method, self.url(path, query), body, dict(headers or {}))

    def send(self, request: Sent, *, token: str | bool | None = True) -> HttpResponse:
        """Send ``request`` with the target's token (``token=False``: none; a string: that one).

        A connection failure is raised as :class:`scimcore.client.TransportError` (a URL)
        or ``httpx.TransportError`` (an application).
        """
        headers = {"Accept": SCIM_JSON, **request.headers}
        bearer = self.token if token is True else (token or None)
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        content = None
        if request.body is not None:
            content = json.dumps(request.body).encode()
            headers.setdefault("Content-Type", SCIM_JSON)
        self.requests += 1
        if self._engine is not None:
            return self._engine.send(HttpRequest(request.method, request.url, headers, content))
        reply = self.http.request(request.method, request.url, headers=headers, content=content)
        return HttpResponse(
            reply.status_code,
            {k.lower(): v for k, v in reply.headers.items()},
            reply.content,
            reply.elapsed.total_seconds() if _has_elapsed(reply) else 0.0,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        token: str | bool | None = True,
    ) -> tuple[Sent, HttpResponse]:
        """Build and send one request; the request and its response."""
        sent = self.sent(method, path, query=query, body=body, headers=headers)
        return sent, self.send(sent, token=token)


def _has_elapsed(reply: httpx.Response) -> bool:
    try:
        reply.elapsed  # noqa: B018
    except RuntimeError:
        return False
    return True


def json_body(response: HttpResponse) -> Any:
    """The response's JSON body, or ``None`` when it has none or it is not JSON."""
    if not response.body:
        return None
    try:
        return json.loads(response.body)
    except ValueError:
        return None
