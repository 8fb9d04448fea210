"""A lean blocking HTTP/1.1 engine from the standard library (``Client(engine="stdlib")``).

One keep-alive ``http.client`` connection per thread and origin. It costs about a
quarter of httpx's CPU time per request (see ``benchmarks/bench_client.py``), and
needs no third-party package; it has no HTTP/2, proxies or cookies. A connection
the server closed while idle is noticed before the request is written (its socket
reads as closed) and replaced, so a keep-alive timeout never fails a ``POST``.
"""

from __future__ import annotations

import http.client
import select
import ssl
import threading
from urllib.parse import urlsplit

from scimcore.client._core import HttpRequest, HttpResponse, TransportError

__all__ = ["StdlibEngine"]


def _dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether an idle keep-alive connection was closed by the server (or is unusable)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)  # an idle HTTP/1.1 connection has nothing to read but its close


class StdlibEngine:
    """Sends :class:`HttpRequest` objects with ``http.client``; thread-safe (a pool per thread)."""

    def __init__(self, timeout: float = 30.0, context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout
        self.context = context
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__.setdefault(
            "pool", {}
        )
        connection = pool.get((scheme, netloc))
        if connection is not None and connection.sock is not None and not _dropped(connection):
            return connection
        if connection is not None:
            connection.close()
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                netloc, timeout=self.timeout, context=self.context or ssl.create_default_context()
            )
        elif scheme == "http":
            connection = http.client.HTTPConnection(netloc, timeout=self.timeout)
        else:
            raise TransportError(f"Unsupported URL scheme {scheme!r}.", sent=False)
        pool[(scheme, netloc)] = connection
        with self._lock:
            self._all.append(connection)
        return connection

    def send(self, request: HttpRequest) -> HttpResponse:
        """Send one request; a connection failure is a :class:`TransportError`."""
        parts = urlsplit(request.url)
        connection = self._connection(parts.scheme, parts.netloc)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        fresh = connection.sock is None
        try:
            connection.request(
                request.method, target, body=request.body, headers=dict(request.headers)
            )
        except (ConnectionRefusedError, TimeoutError, ssl.SSLError, OSError) as error:
            connection.close()
            # A new connection that failed to open never carried the request.
            raise TransportError(f"{type(error).__name__}: {error}", sent=not fresh) from error
        try:
            reply = connection.getresponse()
            body = reply.read()
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise TransportError(f"{type(error).__name__}: {error}", sent=True) from error
        headers = {name.lower(): value for name, value in reply.getheaders()}
        if reply.will_close:
            connection.close()
        return HttpResponse(reply.status, headers, body)

    def close(self) -> None:
        """Close every connection this engine opened."""
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
