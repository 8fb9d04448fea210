"""Log lines that stay one line: escaped values, bounded sizes, tracebacks at DEBUG only.

A request controls much of what is logged about it (its path, its query, the
detail of the error it caused), so every such value goes through
:func:`printable` first; an unexpected error logs one line at ERROR and its
traceback at DEBUG (:func:`log_unexpected`), so that a flood of bad requests
cannot flood the log with tracebacks.
"""

from __future__ import annotations

import logging
import re
import sys

__all__ = ["MAX_LOGGED_TARGET", "log_unexpected", "printable"]

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
