"""Log lines that stay one line: escaped values, bounded sizes, tracebacks at DEBUG only.

A request controls much of what is logged about it (its path, its query, the
detail of the error it caused), so every such value goes through
:func:`printable` first; an unexpected error logs one line at ERROR and its
traceback at DEBUG (:func:`log_unexpected`), so that a flood of bad requests
cannot flood the log with tracebacks.

``scimcore serve`` writes its lines through :class:`LineHandler`
(:func:`configure_logging`): one line a request costs about a microsecond
there, not the ten of a :class:`logging.LogRecord` formatted and flushed on its
own (:meth:`LineHandler.request_line`), because a server answering thousands of
requests a second would otherwise spend a third of its time logging them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
from typing import Any, TextIO

__all__ = [
    "MAX_LOGGED_TARGET",
    "JsonFormatter",
    "LineHandler",
    "configure_logging",
    "log_unexpected",
    "printable",
]

# C0 and C1 controls, DEL, the backslash (so that an escape cannot be forged) and the
# Unicode line and paragraph separators: whatever could break a log line or a terminal.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\\\u2028\u2029]")
#: The longest request target a log line shows; the rest is elided.
MAX_LOGGED_TARGET = 2000


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x5C:
        return "\\\\"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, limit: int = MAX_LOGGED_TARGET) -> str:
    r"""``text`` safe to write on one log line: controls escaped, at most ``limit`` characters kept.

    >>> print(printable("/Users/x%0a\n\x1b[31m\u2028\\"))
    /Users/x%0a\x0a\x1b[31m\u2028\\
    >>> printable("a" * 10, limit=4)
    'aaaa…(6 more)'
    """
    if len(text) > limit:
        text = f"{text[:limit]}…({len(text) - limit} more)"
    elif text.isascii() and text.isprintable() and "\\" not in text:
        return text  # nothing to escape: the common case, in a tenth of the time
    return _UNSAFE.sub(_escape, text)


def log_unexpected(log: logging.Logger, what: str, *args: object) -> None:
    r"""Log the exception being handled: one line at ERROR, the traceback at DEBUG.

    ``what`` is a %-format of ``args``; each ``str`` argument goes through
    :func:`printable`.

    >>> import sys
    >>> log = logging.getLogger("scimcore.example")
    >>> log.addHandler(logging.StreamHandler(sys.stdout)); log.propagate = False
    >>> try:
    ...     {}["missing"]
    ... except KeyError:
    ...     log_unexpected(log, "serving %s %s", "GET", "/Users/\n")
    scimcore: unexpected error serving GET /Users/\x0a: KeyError: 'missing'
    """
    error = sys.exc_info()[1]
    shown = tuple(printable(a, 500) if isinstance(a, str) else a for a in args)
    summary = printable(f"{type(error).__name__}: {error}", 500) if error else "-"
    log.error("scimcore: unexpected error " + what + ": %s", *shown, summary)
    log.debug("scimcore: the traceback of that error:", exc_info=True)


class _Stamps:
    """A time as a log line shows it, made once a second rather than once a line."""

    def __init__(self, convert: Any, form: str) -> None:
        self.convert, self.form = convert, form
        self.second = -1
        self.text = ""

    def __call__(self, created: float) -> str:
        second = int(created)
        if second != self.second:
            self.second, self.text = second, time.strftime(self.form, self.convert(second))
        return self.text


class TextFormatter(logging.Formatter):
    """``time LEVEL message``, the time in local time with milliseconds.

    >>> record = logging.LogRecord("scimcore.serve", logging.INFO, "", 0, "GET", (), None)
    >>> TextFormatter().format(record).split(" ", 2)[2]
    'INFO GET'
    """

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self.stamp = _Stamps(time.localtime, "%Y-%m-%d %H:%M:%S")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return f"{self.stamp(record.created)},{int(record.msecs):03d}"

    def line(self, created: float, level: str, message: str, fields: dict[str, Any]) -> str:
        """The line of a record made of these (what :meth:`format` gives)."""
        msecs = int((created - int(created)) * 1000)
        return f"{self.stamp(created)},{msecs:03d} {level} {message}"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, message, and a request's fields (``scim``).

    >>> record = logging.LogRecord("scimcore.serve", logging.INFO, "", 0, "GET", (), None)
    >>> record.created, record.msecs = 0.0, 0.0
    >>> record.scim = {"status": 200}
    >>> JsonFormatter().format(record)
    '{"time": "1970-01-01T00:00:00.000Z", "level": "info", "message": "GET", "status": 200}'
    """

    def __init__(self) -> None:
        super().__init__()
        self.stamp = _Stamps(time.gmtime, "%Y-%m-%dT%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        traceback = self.formatException(record.exc_info) if record.exc_info else None
        return self._line(
            record.created,
            int(record.msecs),
            record.levelname,
            record.getMessage(),
            getattr(record, "scim", {}),
            traceback,
        )

    def line(self, created: float, level: str, message: str, fields: dict[str, Any]) -> str:
        """The line of a record made of these (what :meth:`format` gives)."""
        return self._line(created, int((created - int(created)) * 1000), level, message, fields)

    def _line(
        self,
        created: float,
        msecs: int,
        level: str,
        message: str,
        fields: dict[str, Any],
        traceback: str | None = None,
    ) -> str:
        line: dict[str, object] = {
            "time": f"{self.stamp(created)}.{msecs:03d}Z",
            "level": level.lower(),
            "message": message,
        }
        line.update(fields)
        if traceback is not None:
            line["traceback"] = traceback
        return json.dumps(line, ensure_ascii=False)


_LEVEL_NAMES = {
    level: logging.getLevelName(level)
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL)
}


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    r"""A stream handler that also takes request lines without a :class:`logging.LogRecord`.

    :meth:`request_line` formats the line as the formatter would a record, and
    keeps it for at most :attr:`WAIT` seconds (or until :attr:`MOST_KEPT` lines
    are kept): the lines of all the requests answered meanwhile go out in one
    write, where one write a request (of the loop's turn) cost a busy server a
    tenth of its throughput. A record logged the usual way writes what is kept
    first, then itself, at once; so does closing the handler (logging does at
    exit).

    >>> import io
    >>> handler = LineHandler(io.StringIO(), "json")
    >>> handler.request_line(logging.INFO, "GET /Users", {"status": 200}, created=0.0)
    >>> print(handler.stream.getvalue(), end="")
    {"time": "1970-01-01T00:00:00.000Z", "level": "info", "message": "GET /Users", "status": 200}
    """

    #: The longest a request line waits to be written, in seconds.
    WAIT = 0.02
    #: The most lines kept before they are written, whatever the wait.
    MOST_KEPT = 1000

    def __init__(self, stream: TextIO | None = None, form: str = "text") -> None:
        super().__init__(stream)
        self.line_formatter: TextFormatter | JsonFormatter = (
            JsonFormatter() if form == "json" else TextFormatter()
        )
        self.setFormatter(self.line_formatter)
        #: Whether a request line's fields are written (JSON), not only its message (text).
        self.wants_fields = form == "json"
        self._kept: list[str] = []

    def takes(self, logger: logging.Logger, level: int) -> bool:
        """Whether ``logger``'s lines at ``level`` go to this handler alone, unfiltered."""
        if not logger.isEnabledFor(level) or level < self.level or self.filters:
            return False
        while logger.propagate and not logger.handlers and not logger.filters:
            parent = logger.parent
            if parent is None:
                return False
            logger = parent
        return logger.handlers == [self] and not logger.filters and not logger.propagate

    def request_line(
        self, level: int, message: str, fields: dict[str, Any], *, created: float | None = None
    ) -> None:
        """Write one request's line: within :attr:`WAIT` seconds if an event loop runs in
        this thread, else at once (or with the lines already kept, when they go)."""
        when = time.time() if created is None else created
        name = _LEVEL_NAMES.get(level) or logging.getLevelName(level)
        text = self.line_formatter.line(when, name, message, fields)
        with self.lock:  # type: ignore[union-attr]
            self._kept.append(text)
            kept = len(self._kept)
        if kept == 1:  # the first line kept sets the time (the loop is looked up only then)
            try:
                asyncio.get_running_loop().call_later(self.WAIT, self.flush)
                return
            except RuntimeError:  # no event loop runs in this thread
                pass
        elif kept < self.MOST_KEPT:
            return
        self.flush()

    def flush(self) -> None:
        """Write the kept lines, then flush the stream."""
        with self.lock:  # type: ignore[union-attr]
            if self._kept:
                kept, self._kept = self._kept, []
                try:
                    self.stream.write("\n".join(kept) + "\n")
                except Exception:  # as logging does: a broken stream never breaks the server
                    self.handleError(
                        logging.LogRecord("scimcore", logging.ERROR, "", 0, kept[0], (), None)
                    )
            super().flush()

    def emit(self, record: logging.LogRecord) -> None:
        with self.lock:  # type: ignore[union-attr]
            if self._kept:
                self.flush()
            super().emit(record)


def configure_logging(level: str = "info", form: str = "text") -> LineHandler:
    """Send scimcore's log lines to stderr, at ``level`` and above, as ``text`` or ``json``."""
    handler = LineHandler(form=form)
    root = logging.getLogger("scimcore")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    return handler
