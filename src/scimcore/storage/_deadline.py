"""How long a search may run: :class:`Deadline`, carried by a :class:`~scimcore.storage.Query`.

A filter can ask a store for far more work than any client should get (a
few hundred substring tests on a multi-valued attribute, over every row).
The service gives each search a deadline (``ScimService(query_timeout=…)``,
5 s by default) and the store stops the search when it passes, or when the
client that asked has gone (:meth:`Deadline.cancel`): SQLite through its
progress handler, PostgreSQL through ``statement_timeout`` and a cancel
request, the memory store between rows. The search then fails with
:class:`~scimcore.errors.TooMany` (400 ``tooMany``, RFC 7644 §3.12: "more
results than the server is willing to calculate or process").

A host's own store honours it the same way: check :meth:`Deadline.expired`
now and then, or register a way to stop the running statement with
:meth:`Deadline.on_cancel`, and raise :meth:`Deadline.error`.

>>> deadline = Deadline(5.0)
>>> deadline.expired(), deadline.remaining() <= 5.0
(False, True)
>>> deadline.cancel()
>>> deadline.expired(), deadline.remaining()
(True, 0.0)
>>> deadline.error().scim_type
'tooMany'
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

from scimcore.errors import TooMany

__all__ = ["CLIENT_GONE", "Deadline"]

#: The detail of a search stopped because its client went away.
CLIENT_GONE = "The search was stopped: the client went away."


class Deadline:
    """A point in time a search must finish by; it can also be cancelled early.

    Thread-safe: the service cancels from the event loop while the store runs
    the search in a worker thread.
    """

    __slots__ = ("_callbacks", "_cancelled", "_lock", "expires", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        #: ``time.monotonic()`` at which the search must stop.
        self.expires = time.monotonic() + seconds
        self._cancelled = False
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], object]] = []

    def __repr__(self) -> str:
        return f"Deadline({self.seconds!r}, remaining={self.remaining():.3f})"

    def remaining(self) -> float:
        """Seconds left (``0.0`` once expired or cancelled)."""
        if self._cancelled:
            return 0.0
        return max(0.0, self.expires - time.monotonic())

    def expired(self) -> bool:
        """Whether the search must stop now."""
        return self._cancelled or time.monotonic() >= self.expires

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called (the client went away)."""
        return self._cancelled

    def cancel(self) -> None:
        """Stop the search now: :meth:`expired` turns true and every registered callback runs."""
        with self._lock:
            self._cancelled = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            with contextlib.suppress(Exception):
                callback()

    @contextlib.contextmanager
    def on_cancel(self, callback: Callable[[], object]) -> Iterator[None]:
        """Run ``callback`` (e.g. ``connection.cancel``) if :meth:`cancel` is called while
        the block runs; right away if it already was.

        >>> stopped = []
        >>> deadline = Deadline(5.0)
        >>> with deadline.on_cancel(lambda: stopped.append(True)):
        ...     deadline.cancel()
        >>> stopped
        [True]
        """
        with self._lock:
            cancelled = self._cancelled
            if not cancelled:
                self._callbacks.append(callback)
        if cancelled:
            callback()
        try:
            yield
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._callbacks.remove(callback)

    def check(self) -> None:
        """Raise :meth:`error` if the search must stop."""
        if self.expired():
            raise self.error()

    def error(self) -> TooMany:
        """The error a search stopped by this deadline fails with."""
        if self._cancelled:
            return TooMany(CLIENT_GONE)
        return TooMany(
            f"The search took longer than the server allows ({self.seconds:g} s): "
            "narrow the filter (fewer terms, an indexed attribute such as userName)."
        )
