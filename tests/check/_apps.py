"""In-process SCIM apps for the check's tests: scimcore's own service, and broken ones.

Each broken app is scimcore's WSGI app behind a middleware that adds one bug a real
server has been seen with: a filter compared case-sensitively, a PATCH ``remove``
that ignores its value filter, ``startIndex`` read as a 0-based offset, a group
PATCH done as read-modify-write (concurrent member adds lost).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from scimcore import ScimService
from scimcore.filter import And, Compare, parse_filter
from scimcore.service import ScimV1Service
from scimcore.wsgi import create_app

TOKEN = "check-token-0123456789"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi_app(service: ScimService, *, version: int = 2) -> WSGIApp:
    """scimcore's WSGI app for ``service`` under ``/scim/v2`` (or 1.1 under ``/scim/v1``)."""
    if version == 1:
        return create_app(ScimV1Service(service), prefix="/scim/v1")
    return create_app(service, prefix="/scim/v2")


def _call(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        captured["status"], captured["headers"] = status, headers
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], body


def _body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    data: bytes = environ["wsgi.input"].read(length)
    return data


def _with_body(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    return {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}


def _answer(start_response: Any, status: str, headers: list[tuple[str, str]], body: bytes) -> Any:
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [body]


def case_sensitive_filter(app: WSGIApp) -> WSGIApp:
    """Drops a listed user whose wire document does not hold, as written, the literal of each
    ``eq`` or ``sw`` condition the filter's top-level ``and`` has: those compared
    case-sensitively."""

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        status, headers, body = _call(app, environ)
        if (
            environ["REQUEST_METHOD"] != "GET"
            or "filter" not in query
            or not status.startswith("200")
        ):
            return _answer(start_response, status, headers, body)
        node = parse_filter(query["filter"])
        literals = [
            n.value
            for n in (node.operands if isinstance(node, And) else (node,))
            if isinstance(n, Compare) and isinstance(n.value, str) and n.op in ("eq", "sw")
        ]
        listed = json.loads(body)
        kept = [r for r in listed.get("Resources", []) if all(v in json.dumps(r) for v in literals)]
        listed["Resources"], listed["totalResults"] = kept, len(kept)
        listed["itemsPerPage"] = len(kept)
        return _answer(start_response, status, headers, json.dumps(listed).encode())

    return broken


def remove_ignores_filter(app: WSGIApp) -> WSGIApp:
    """A PATCH ``remove`` of ``emails[type eq "work"]`` removes every email."""

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["REQUEST_METHOD"] == "PATCH":
            request = json.loads(_body(environ))
            for operation in request.get("Operations", []):
                path = operation.get("path")
                if str(operation.get("op")).lower() == "remove" and path and "[" in path:
                    operation["path"] = path[: path.index("[")]
            environ = _with_body(environ, json.dumps(request).encode())
        return app(environ, start_response)

    return broken


def paging_off_by_one(app: WSGIApp) -> WSGIApp:
    """``startIndex`` read as a 0-based offset (the page starts one resource late)."""

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        if "startIndex" not in query:
            return app(environ, start_response)
        asked = max(int(query["startIndex"]), 1)
        query["startIndex"] = str(asked + 1)
        status, headers, body = _call(app, {**environ, "QUERY_STRING": urlencode(query)})
        listed = json.loads(body)
        if "startIndex" in listed:
            listed["startIndex"] = asked
        return _answer(start_response, status, headers, json.dumps(listed).encode())

    return broken


def attributes_ignored(app: WSGIApp) -> WSGIApp:
    """``attributes`` ignored on a GET by id: the whole resource comes back."""

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        query = [(k, v) for k, v in parse_qsl(environ.get("QUERY_STRING", "")) if k != "attributes"]
        return app({**environ, "QUERY_STRING": urlencode(query)}, start_response)

    return broken


def lost_member_adds(app: WSGIApp) -> WSGIApp:
    """A group PATCH done as read, change, write (a ``PUT``): concurrent adds are lost."""

    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] != "PATCH" or "/Groups/" not in path:
            return app(environ, start_response)
        request = json.loads(_body(environ))
        _, _, current = _call(app, {**_with_body(environ, b""), "REQUEST_METHOD": "GET"})
        group = json.loads(current)
        time.sleep(0.02)  # long enough for the others to read the same members
        for operation in request["Operations"]:
            group.setdefault("members", []).extend(operation["value"])
        group.pop("meta", None)
        put = {**_with_body(environ, json.dumps(group).encode()), "REQUEST_METHOD": "PUT"}
        put["CONTENT_TYPE"] = "application/scim+json"
        status, headers, body = _call(app, put)
        return _answer(start_response, status, headers, body)

    return broken


__all__ = [
    "TOKEN",
    "attributes_ignored",
    "case_sensitive_filter",
    "lost_member_adds",
    "paging_off_by_one",
    "remove_ignores_filter",
    "wsgi_app",
]
