"""What a response shows of a resource: its document, its ETag and the conditional headers.

A resource reaches a response in one of two forms, and both are shown the same
way (the tests in ``tests/service/test_read_paths.py`` hold them equal):

- a model (from ``get``, or a write): :func:`resource_document` encodes it with
  the projection (``attributes``/``excludedAttributes``, RFC 7644 §3.9);
- a stored JSON document (from ``get_document``/``search_documents``, the fast
  read path): :func:`shown` applies ``returned`` and the projection to it.

Either way ``meta.location`` is set to the URL the client sees. The ETag is
``meta.version`` (RFC 7644 §3.14); :func:`not_modified` and
:func:`check_preconditions` compare the conditional headers with it through
the one comparator, :func:`scimcore.storage.tag_matches` (weak comparison, tag
lists, ``*``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scimcore.codecs.v2 import encode
from scimcore.codecs.v2._projection import project_document
from scimcore.errors import PreconditionFailed
from scimcore.service._http import Request, Response
from scimcore.storage import etag, tag_matches

__all__ = [
    "LIST_RESPONSE_SCHEMA",
    "check_preconditions",
    "list_document",
    "not_modified",
    "resource_document",
    "shown",
    "version",
]

LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"


def list_document(resources: Sequence[Any], total: int | None, start: int) -> dict[str, Any]:
    """A ListResponse (RFC 7644 §3.4.2) of wire documents.

    >>> list_document([], 0, 1)
    {'schemas': ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], 'totalResults': 0,
     'itemsPerPage': 0, 'startIndex': 1, 'Resources': []}
    """
    document: dict[str, Any] = {"schemas": [LIST_RESPONSE_SCHEMA]}
    if total is not None:
        document["totalResults"] = total
    document["itemsPerPage"] = len(resources)
    document["startIndex"] = start
    document["Resources"] = list(resources)
    return document


def version(resource: Any) -> str | None:
    """The ETag of a resource model: its ``meta.version``, as a tag.

    >>> from scimcore.models import Meta, User
    >>> version(User(user_name="b", meta=Meta(version='W/"3"'))), version(User(user_name="b"))
    ('W/"3"', None)
    """
    meta = getattr(resource, "meta", None)
    return etag(getattr(meta, "version", None))


def not_modified(request: Request, tag: str | None) -> Response | None:
    """The 304 for a GET whose ``If-None-Match`` names the current version, else ``None``.

    >>> not_modified(Request("GET", "/Users/1", headers={"If-None-Match": 'W/"2", W/"3"'}),
    ...              'W/"3"')
    Response(status=304, headers=(('ETag', 'W/"3"'),), body=b'')
    """
    if_none_match = request.header("if-none-match")
    if if_none_match is not None and tag_matches(if_none_match, tag):
        return Response(304, (("ETag", tag),) if tag else ())
    return None


def check_preconditions(request: Request, tag: str | None, if_match: str | None) -> None:
    """``if_match`` (the ``If-Match`` header, or a Bulk operation's ``version``) and, for
    a write, ``If-None-Match``, against the current version ``tag``.

    >>> check_preconditions(Request("DELETE", "/Users/1"), 'W/"3"', 'W/"1", W/"3"')
    >>> check_preconditions(Request("DELETE", "/Users/1"), 'W/"3"', 'W/"1"')
    Traceback (most recent call last):
    ...
    scimcore.errors.PreconditionFailed: The resource has changed: its version is W/"3", not W/"1".
    """
    if if_match is not None and not tag_matches(if_match, tag):
        raise PreconditionFailed(f"The resource has changed: its version is {tag}, not {if_match}.")
    if request.method not in ("GET", "HEAD"):
        if_none_match = request.header("if-none-match")
        if if_none_match is not None and tag_matches(if_none_match, tag):
            raise PreconditionFailed("The resource exists in the version If-None-Match names.")


def resource_document(
    resource: Any, location: str, attributes: Sequence[str], excluded: Sequence[str]
) -> dict[str, Any]:
    """A resource model as the response shows it: located, ``returned``, projected."""
    meta = getattr(resource, "meta", None)
    if meta is not None:
        meta.location = location
    if attributes or excluded:
        return encode(resource, attributes=attributes or None, excluded_attributes=excluded or None)
    return encode(resource)


def shown(
    model: type[Any],
    document: dict[str, Any],
    location: str,
    attributes: Sequence[str],
    excluded: Sequence[str],
) -> dict[str, Any]:
    """A stored document as the response shows it: located, ``returned``, projected."""
    meta = document.get("meta")
    if isinstance(meta, dict):
        meta["location"] = location
    return project_document(model, document, attributes or None, excluded or None)
