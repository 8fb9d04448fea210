"""Leaf values: type checks for the RFC 7643 §2.3 data types, dateTime both ways.

Every check raises :class:`Fault`, a private exception that the generated
hooks decorate with JSON path segments on its way out; :func:`decode` turns it
into the public :class:`~scimcore.errors.InvalidValue` or
:class:`~scimcore.errors.InvalidSyntax` with the full ``location``.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from scimcore.errors import InvalidValue, ScimError

__all__ = ["Fault", "format_datetime", "parse_datetime"]


class Fault(Exception):
    """A decoding failure on its way up; ``parts`` are path segments, innermost first."""

    def __init__(self, detail: str, error: type[ScimError] = InvalidValue) -> None:
        super().__init__(detail)
        self.detail = detail
        self.error = error
        self.parts: list[str] = []

    def located(self) -> ScimError:
        """The public error, with the JSON path of the bad value."""
        return self.error(self.detail, location="$" + "".join(reversed(self.parts)))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def wrong(value: Any, expected: str) -> Fault:
    """The fault for a value of the wrong JSON type."""
    return Fault(f"Expected {expected}, got {_json_type(value)}.")


def check_string(value: Any) -> str:
    """A string (also reference): returned as is, else a fault."""
    if type(value) is not str:
        raise wrong(value, "a string")
    return value


_BASE64 = re.compile(r"[A-Za-z0-9+/\-_\s]*={0,2}")


def check_binary(value: Any) -> str:
    """Base64 text (RFC 7643 §2.3.6; padding optional, base64url tolerated), kept as text."""
    if type(value) is not str:
        raise wrong(value, "a base64 string")
    if _BASE64.fullmatch(value) is None:
        raise Fault("Expected base64 data (RFC 7643 §2.3.6).")
    return value


_TRUE_FALSE = {"true": True, "false": False}


def to_bool(value: Any, string_booleans: bool) -> bool:
    """A JSON boolean; with ``string_booleans``, also "True"/"False" in any case."""
    if type(value) is bool:
        return value
    if string_booleans and type(value) is str:
        found = _TRUE_FALSE.get(value.casefold())
        if found is not None:
            return found
    raise wrong(value, "a boolean")


def to_int(value: Any) -> int:
    """A JSON integer: no fraction, no exponent (RFC 7643 §2.3.4)."""
    if type(value) is int:
        return value
    raise wrong(value, "an integer")


def to_float(value: Any) -> float:
    """A finite JSON number, as a ``float`` (RFC 7643 §2.3.3 decimal)."""
    if type(value) is float:
        if not math.isfinite(value):
            raise Fault("Expected a finite decimal number.")
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise Fault("The number is too large for a decimal.") from None
    raise wrong(value, "a decimal number")


_DATETIME = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)


def parse_datetime(value: Any) -> datetime:
    """An xsd:dateTime (RFC 7643 §2.3.5) as a timezone-aware datetime.

    Both a date and a time are required; a value without an offset is read as
    UTC. Fractions beyond microseconds are truncated.

    >>> parse_datetime("2011-08-01T18:29:49.793Z")
    datetime.datetime(2011, 8, 1, 18, 29, 49, 793000, tzinfo=datetime.timezone.utc)
    """
    if type(value) is not str:
        raise wrong(value, "a dateTime string")
    if _DATETIME.fullmatch(value) is None:
        raise Fault(f"Expected an xsd:dateTime with date and time, got {value!r}.")
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError as exc:
        raise Fault(f"Invalid dateTime {value!r}: {exc}.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


_ZERO = timedelta(0)


def format_datetime(value: datetime) -> str:
    """RFC 3339 text: ``Z`` for UTC, milliseconds or microseconds only when present.

    A naive datetime is taken as UTC.

    >>> from datetime import datetime, timezone
    >>> format_datetime(datetime(2011, 8, 1, 18, 29, 49, 793000, tzinfo=timezone.utc))
    '2011-08-01T18:29:49.793Z'
    >>> format_datetime(datetime(2011, 8, 1, 20, 0, tzinfo=timezone(timedelta(hours=2))))
    '2011-08-01T20:00:00+02:00'
    """
    global _last_formatted
    last = _last_formatted
    if value is last[0]:  # meta.created and meta.lastModified are most often one object
        return last[1]
    text = _format_datetime(value)
    _last_formatted = (value, text)
    return text


#: The last datetime :func:`format_datetime` formatted, and its text.
_last_formatted: tuple[datetime | None, str] = (None, "")


def _format_datetime(value: datetime) -> str:
    micro = value.microsecond
    spec = "seconds" if not micro else "milliseconds" if not micro % 1000 else "microseconds"
    offset = value.utcoffset()
    if offset is None or offset == _ZERO:
        return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    if offset.seconds % 60 or offset.microseconds:
        return _format_datetime(value.astimezone(UTC))
    return value.isoformat(timespec=spec)
