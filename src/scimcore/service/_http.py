"""The request and response values the service reads and writes, and their JSON bodies.

They are plain frozen values with no I/O: an adapter (ASGI, WSGI, a host
framework's view) builds a :class:`Request` from what its server received and
writes the :class:`Response` back. Header names are case-insensitive.
:func:`json_body` reads a request's body as the service accepts it;
:func:`json_response` makes a SCIM JSON response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from scimcore._json import response_bytes
from scimcore.errors import InvalidSyntax, UnsupportedMediaType

__all__ = [
    "SCIM_MEDIA_TYPE",
    "Headers",
    "Request",
    "Response",
    "dumps",
    "environ_headers",
    "json_body",
    "json_response",
]

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


#: The methods that carry a body. The adapters refuse such a request (or one announcing a
#: body) without a good bearer token before they read the body.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def environ_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The request headers of a WSGI environ (or a Django ``request.META``), names lower-cased.

    >>> environ_headers({"HTTP_IF_MATCH": 'W/"1"', "CONTENT_TYPE": "", "PATH_INFO": "/Users"})
    [('if-match', 'W/"1"')]
    """
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.append((key[5:].replace("_", "-").lower(), value))
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.append((key.replace("_", "-").lower(), value))
    return headers


def trusted_host(host: str, trusted: frozenset[str] | None) -> bool:
    """Whether a request's ``Host`` may be reflected into ``Location`` URLs.

    ``trusted`` holds host names, with or without a port (``scim.example.com``,
    ``127.0.0.1:8000``), compared case-insensitively; ``None`` trusts any host
    (a framework in front has checked it, as Django's ``ALLOWED_HOSTS`` does).

    >>> trusted = frozenset({"scim.example.com", "127.0.0.1:8000"})
    >>> [trusted_host(h, trusted) for h in ("SCIM.example.com:443", "127.0.0.1:8000", "evil.test")]
    [True, True, False]
    >>> trusted_host("", trusted), trusted_host("evil.test", None)
    (False, True)
    """
    if trusted is None:
        return bool(host)
    host = host.strip().lower()
    return host in trusted or host.rpartition(":")[0] in trusted


_JSON_TYPES = frozenset({"application/scim+json", "application/json", "text/json"})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or media.endswith("+json")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: ``json.loads(text, parse_constant=_no_constant)``, without making a decoder a call.
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def json_body(request: Request) -> dict[str, Any]:
    """The request's body: a JSON object, in UTF-8, of a JSON media type (or none given).

    >>> json_body(Request("POST", "/Users", body=b'{"userName": "bjensen"}'))
    {'userName': 'bjensen'}
    >>> json_body(Request("POST", "/Users", body=b"[]"))
    Traceback (most recent call last):
    ...
    scimcore.errors.InvalidSyntax: The request body must be a JSON object.
    """
    content_type = request.header("content-type")
    if content_type is not None and content_type.strip() and not _is_json(content_type):
        raise UnsupportedMediaType(
            f"The request body must be application/scim+json, not {content_type!r}."
        )
    try:
        text = request.body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidSyntax("The request body is not UTF-8 text.") from None
    if not text.strip():
        raise InvalidSyntax("The request has no body.")
    try:
        data = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidSyntax(f"The request body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise InvalidSyntax("The request body must be a JSON object.")
    if text.count("{") + text.count("[") > MAX_JSON_DEPTH:
        _refuse_deep_nesting(data)
    if _ESCAPED_SURROGATE.search(text) is not None:
        _refuse_lone_surrogates(data)
    return data


#: The deepest nesting of objects and arrays a request body may have. SCIM's deepest
#: documents (a Bulk operation's extension's complex value) nest about 8 deep.
MAX_JSON_DEPTH = 64


def _refuse_deep_nesting(value: Any) -> None:
    """Raise :class:`InvalidSyntax` if ``value`` nests more than ``MAX_JSON_DEPTH`` deep.

    >>> deep = [[1]]
    >>> for _ in range(MAX_JSON_DEPTH):
    ...     deep = {"a": deep}
    >>> _refuse_deep_nesting(deep)
    Traceback (most recent call last):
    ...
    scimcore.errors.InvalidSyntax: The request body nests deeper than 64 objects and arrays.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise InvalidSyntax(
                f"The request body nests deeper than {MAX_JSON_DEPTH} objects and arrays."
            )
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


# A JSON escape of a UTF-16 surrogate: json.loads pairs a high and a low one into one
# character and leaves a lone one in the string, which is not Unicode text.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _refuse_lone_surrogates(value: Any) -> None:
    """Raise :class:`InvalidSyntax` if a string (or a key) in ``value`` holds a lone surrogate.

    >>> _refuse_lone_surrogates({"a": ["\\U0001F600", {"b": "\\ud800"}]})
    Traceback (most recent call last):
    ...
    scimcore.errors.InvalidSyntax: The request body holds a lone UTF-16 surrogate (\\ud800), ...
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                code = ord(item[exc.start])
                raise InvalidSyntax(
                    f"The request body holds a lone UTF-16 surrogate (\\u{code:04x}),"
                    " which is not Unicode text."
                ) from None


def dumps(document: Any) -> bytes:
    """A JSON document as the bytes of a response body (compact, UTF-8).

    >>> dumps({"status": "404"})
    b'{"status":"404"}'
    """
    return response_bytes(document)


def json_response(status: int, document: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A response carrying ``document`` as ``application/scim+json``.

    >>> json_response(404, {"status": "404"}, [("X-Tag", "1")]).headers
    (('Content-Type', 'application/scim+json'), ('X-Tag', '1'))
    """
    return Response(status, (("Content-Type", SCIM_MEDIA_TYPE), *headers), dumps(document))
