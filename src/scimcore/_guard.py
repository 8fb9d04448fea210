"""The connection guard of ``scimcore serve``: a read deadline and a connection cap.

uvicorn bounds neither how long a client may take to send its request (a client
that sends half a header keeps its connection, and a file descriptor, for as
long as it likes) nor how many connections are open at once (its
``limit_concurrency`` answers 503 to *requests*, which a client that never
finishes its header never makes). Thousands of such clients exhaust the
process's open files and the server stops answering everyone.

:func:`guarded_protocol` wraps uvicorn's HTTP protocol class (httptools' when
installed, else h11's) with two rules, both independent of any token:

- a request's head and body must arrive within ``read_timeout`` seconds of its
  first byte (of the connection's opening, for its first request); a client
  that is slower is disconnected. Idle keep-alive connections are uvicorn's
  ``timeout_keep_alive``'s to close.
- at most ``max_connections`` connections are open: a new one beyond that
  closes the connection that has been waiting longest for its request (idle or
  half-sent), so that a flood of stalled clients cannot keep a real client out
  for longer than it takes to send one request. A connection whose request is
  being answered is never closed for this.

After a surge of connections ends, the guard gives the memory their buffers
held back to the operating system (glibc's ``malloc_trim``; elsewhere nothing):
freed, it would otherwise stay in the process's resident set, so that a flood
of stalled uploads would leave the server tens of megabytes larger for good.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import attrs

__all__ = [
    "TOO_MANY",
    "FailedAuthentications",
    "Limits",
    "guarded_protocol",
    "send_too_many",
]


@attrs.frozen
class Limits:
    """How long a request may take to arrive, and how many connections may be open.

    >>> Limits().read_timeout, Limits().max_connections
    (10.0, 500)
    """

    read_timeout: float = 10.0
    #: Each open connection holds ~5 KB of Python objects (uvicorn's protocol, uvloop's
    #: transport), and a flood that fills the cap leaves part of the memory it took
    #: held by the few objects that outlive it: 500 keeps that within a tenth of a
    #: fresh server's (``benchmarks/soak_connections.py``); an identity provider uses a few.
    max_connections: int = 500


def _base_protocol() -> type[asyncio.Protocol]:
    try:
        import httptools  # noqa: F401
    except ImportError:  # pragma: no cover - the server extra installs httptools
        from uvicorn.protocols.http.h11_impl import H11Protocol

        return H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    return HttpToolsProtocol


def guarded_protocol(limits: Limits, base: type[Any] | None = None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (``base``, by default the fastest installed) with ``limits``.

    Pass the result as ``uvicorn.Config(http=…)``.

    >>> protocol = guarded_protocol(Limits(read_timeout=5, max_connections=10))
    >>> protocol.__name__
    'GuardedProtocol'
    """
    parent: type[Any] = base if base is not None else _base_protocol()
    surge = _Surge()
    #: The connections waiting for (the rest of) a request, longest-waiting first: the
    #: one to close is found in constant time, however many are open.
    waiting: OrderedDict[Any, None] = OrderedDict()
    #: The read deadlines: the connections receiving a request, in the order they began.
    deadlines = _Deadlines(limits.read_timeout)

    class GuardedProtocol(parent):  # type: ignore[misc]
        _waiting_since: float = 0.0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.transport: Any = _HeldWrites(transport, self.loop)
            self._arm()
            surge.opened(len(self.connections))
            if len(self.connections) > limits.max_connections:
                oldest = next(iter(waiting), self)
                if oldest is self and len(waiting) > 1:  # never itself while others wait
                    oldest = next(c for c in waiting if c is not self)
                oldest._disarm()
                oldest.transport.close()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if not self._waiting():
                self._disarm()
            elif self not in deadlines.started:
                self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():  # idle now: waiting for its next request
                waiting.pop(self, None)
                waiting[self] = None
                self._waiting_since = time.monotonic()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)
            surge.closed(len(self.connections), self.loop)

        def _waiting(self) -> bool:
            """Whether it waits for (the rest of) a request rather than answering one."""
            cycle = self.cycle
            return cycle is None or cycle.response_complete or cycle.more_body

        def _arm(self) -> None:
            waiting.pop(self, None)
            self._waiting_since = deadlines.start(self, self.loop)
            waiting[self] = None

        def _disarm(self) -> None:
            waiting.pop(self, None)
            deadlines.started.pop(self, None)

        def _too_slow(self) -> None:
            waiting.pop(self, None)
            if self._waiting() and not self.transport.is_closing():
                self.transport.close()

    return GuardedProtocol


class _HeldWrites:
    """A connection's transport whose writes are held to the end of the event loop's turn,
    then made as one (``writelines``: one system call).

    uvicorn writes a response's head and its body apart, two system calls a response;
    held, they are one, and the responses of all the requests answered in one turn go
    out back to back (``serve --memory`` answered GET by id 1.2–1.4× faster for it on
    the development machine, a virtual machine, where a write that wakes a sleeping
    client is dear). Closing writes what is held first; aborting drops it.
    Everything else is the transport's own.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._held:
            self._loop.call_soon(self._flush)
        self._held.append(data)

    def writelines(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def _flush(self) -> None:
        held, self._held = self._held, []
        if held and not self._transport.is_closing():
            self._transport.writelines(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Deadlines:
    """The read deadlines of every connection on one timer.

    ``started`` holds the connections whose request (or first request) has
    begun, in the order it began (with the time, ``when``), so the next to
    expire is always the first; one timer, set for it, closes the expired ones
    and sets itself for the next. A timer per connection instead would cost a
    timer object per connection of a flood (which outlives it in the allocator's
    memory), and its cancellation on every request.
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started: OrderedDict[Any, float] = OrderedDict()
        self.timer: asyncio.TimerHandle | None = None

    def start(self, connection: Any, loop: asyncio.AbstractEventLoop) -> float:
        """Start ``connection``'s deadline now (again, if it had one); the time now."""
        now = time.monotonic()
        self.started.pop(connection, None)
        self.started[connection] = now
        if self.timer is None:
            self.timer = loop.call_later(self.timeout, self._expire, loop)
        return now

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self.timer = None
        now = time.monotonic()
        while self.started:
            connection, began = next(iter(self.started.items()))
            if began + self.timeout > now:
                self.timer = loop.call_later(began + self.timeout - now, self._expire, loop)
                return
            del self.started[connection]
            connection._too_slow()


class _Surge:
    """Hands freed memory back to the OS once a surge of connections is over: when the
    open connections fall below a tenth of a peak of at least :attr:`SURGE`, a second
    later (one trim for the whole ebb)."""

    SURGE = 100

    def __init__(self) -> None:
        self.peak = 0
        self.pending = False
        self.trim = _malloc_trim()

    def opened(self, open_now: int) -> None:
        self.peak = max(self.peak, open_now)

    def closed(self, open_now: int, loop: asyncio.AbstractEventLoop) -> None:
        if self.peak >= self.SURGE and open_now * 10 < self.peak and not self.pending:
            self.pending = True
            loop.call_later(1.0, self._trim)

    def _trim(self) -> None:
        self.pending = False
        self.peak = 0
        if self.trim is not None:
            self.trim(0)


def _malloc_trim() -> Callable[[int], object] | None:
    """glibc's ``malloc_trim``, or ``None`` where there is none (musl, macOS, Windows)."""
    try:
        import ctypes

        trim: Callable[[int], object] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


class FailedAuthentications:
    """A budget of failed authentications per client address: a token bucket.

    Each address may fail ``burst`` times at once, and earns one more failure
    every ``60 / per_minute`` seconds. Addresses are forgotten least recently
    failed first beyond ``max_addresses``, so the table stays bounded.

    >>> clock = iter([0.0, 0.0, 30.0]).__next__
    >>> budget = FailedAuthentications(per_minute=2, burst=1, clock=clock)
    >>> budget.failed("10.0.0.1"), budget.failed("10.0.0.1"), budget.retry_after("10.0.0.1")
    (None, 30, None)
    """

    def __init__(
        self,
        *,
        per_minute: float = 60.0,
        burst: int = 20,
        max_addresses: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_addresses = max_addresses
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    def _tokens(self, address: str, now: float) -> float:
        tokens, then = self._buckets.get(address, (self.burst, now))
        return min(self.burst, tokens + (now - then) * self.rate)

    def _wait(self, tokens: float) -> int | None:
        """Seconds until a bucket holding ``tokens`` holds one, or ``None`` if it does."""
        return None if tokens >= 1 else max(1, math.ceil((1 - tokens) / self.rate))

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may fail again, or ``None`` if it may now."""
        return self._wait(self._tokens(address, self.clock()))

    def failed(self, address: str) -> int | None:
        """Count a failure of ``address``: ``None`` within its budget, else :meth:`retry_after`."""
        now = self.clock()
        tokens = self._tokens(address, now)
        wait = self._wait(tokens)
        if wait is not None:
            return wait
        self._buckets[address] = (tokens - 1, now)
        self._buckets.move_to_end(address)
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)
        return None


#: The body of the 429 that replaces a 401 beyond a client's budget (``scimcore serve``).
TOO_MANY = json.dumps(
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "429",
        "detail": "Too many failed authentications from this address; retry later.",
    }
).encode()


async def send_too_many(send: Any, wait: int) -> None:
    """Send the 429 (``TOO_MANY``, ``Retry-After: wait``) that replaces a 401 beyond a
    client's budget of failed authentications (RFC 6585 §4)."""
    headers = [
        (b"content-type", b"application/scim+json"),
        (b"retry-after", str(wait).encode()),
        (b"content-length", str(len(TOO_MANY)).encode()),
    ]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": TOO_MANY})
