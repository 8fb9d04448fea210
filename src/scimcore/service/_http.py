"""The request and response values the service reads and writes.

They are plain frozen values with no I/O: an adapter (ASGI, WSGI, a host
framework's view) builds a :class:`Request` from what its server received and
writes the :class:`Response` back. Header names are case-insensitive.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = ["SCIM_MEDIA_TYPE", "Headers", "Request", "Response"]

SCIM_MEDIA_TYPE = "application/scim+json"

Headers = Mapping[str, str] | Iterable[tuple[str, str]]


def _headers(value: Headers) -> dict[str, str]:
    """Header names lower-cased; repeated headers joined with ``", "`` (RFC 9110 §5.3)."""
    pairs = value.items() if isinstance(value, Mapping) else value
    folded: dict[str, str] = {}
    for name, text in pairs:
        key = name.lower()
        folded[key] = f"{folded[key]}, {text}" if key in folded else text
    return folded


def _upper(method: str) -> str:
    return method.upper()


@attrs.frozen(slots=True)
class Request:
    """An HTTP request addressed to the service.

    ``path`` is relative to the service root (``/Users/2819c223``), ``query``
    the raw, still percent-encoded query string, ``base_url`` the absolute URL
    of the service root as clients see it (used for ``Location`` and
    ``meta.location``). ``principal`` is whatever a host framework already
    authenticated; hooks can read it.

    >>> request = Request("GET", "/Users", query="count=2", headers={"Accept": "*/*"})
    >>> request.header("ACCEPT"), request.query
    ('*/*', 'count=2')
    """

    method: str = attrs.field(converter=_upper)
    path: str
    query: str = ""
    headers: Mapping[str, str] = attrs.field(factory=dict, converter=_headers)
    body: bytes = b""
    base_url: str = ""
    principal: object = None

    def header(self, name: str) -> str | None:
        """The value of a header (any case), or ``None``."""
        return self.headers.get(name.lower())


@attrs.frozen(slots=True)
class Response:
    """An HTTP response from the service: status, headers and the body bytes.

    >>> response = Response(404, (("Content-Type", SCIM_MEDIA_TYPE),), b'{"status": "404"}')
    >>> response.header("content-type"), response.json()
    ('application/scim+json', {'status': '404'})
    """

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The value of a header (any case), or ``None``."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when there is no body)."""
        return json.loads(self.body) if self.body else None
