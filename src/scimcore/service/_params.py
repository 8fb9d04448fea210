"""Query parameters and SearchRequest bodies, read into one value (RFC 7644 §3.4.2, §3.4.3).

The RFC's clamping is applied here, once: a ``startIndex`` below 1 is 1, a
negative ``count`` is 0 (§3.4.2.4), and a ``count`` above the service's
``maxResults`` is ``maxResults``. A value that is not an integer is an
``invalidValue`` (the RFC is silent; scimcore refuses rather than guesses).
Parameter names are matched case-insensitively; unknown ones are ignored (§3.4.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import attrs

from scimcore.errors import InvalidFilter, InvalidSyntax, InvalidValue

__all__ = ["SEARCH_REQUEST_SCHEMA", "ListParams", "Paging", "parse_query", "projection"]

SEARCH_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def parse_query(query: str) -> dict[str, str]:
    """The query string as a dict keyed by folded names (``+`` is a space, §4.8).

    A repeated parameter keeps its last value, except ``attributes`` and
    ``excludedAttributes``, whose values are joined with commas.

    >>> parse_query("filter=userName+eq+%22bjensen%22&COUNT=2")
    {'filter': 'userName eq "bjensen"', 'count': '2'}
    """
    params: dict[str, str] = {}
    if not query:
        return params
    for name, value in parse_qsl(query, keep_blank_values=True, errors="replace"):
        key = name.casefold()
        if key in ("attributes", "excludedattributes") and params.get(key):
            value = f"{params[key]},{value}"
        params[key] = value
    return params


def _names(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list):
        items = value
    else:
        raise InvalidValue(f"'{name}' must be a list of attribute names.")
    names = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidValue(f"'{name}' must be a list of attribute names.")
        if item.strip():
            names.append(item.strip())
    return tuple(names)


def projection(params: Mapping[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``attributes`` and ``excludedAttributes`` from parsed query parameters.

    >>> projection({"attributes": "userName, name.givenName"})
    (('userName', 'name.givenName'), ())
    """
    attributes = _names(params.get("attributes"), "attributes")
    excluded = _names(params.get("excludedattributes"), "excludedAttributes")
    if attributes and excluded:
        raise InvalidValue("Give 'attributes' or 'excludedAttributes', not both.")
    return attributes, excluded


#: Paging integers are clamped to ±this (2**62): a larger one means the same (past every result,
#: or every result) and still fits a 64-bit database integer and ``itertools.islice``.
MAX_PAGING_INTEGER = 2**62


def _integer(value: Any, name: str) -> int | None:
    """A paging integer from a query or a SearchRequest, clamped to ±``MAX_PAGING_INTEGER``.

    >>> _integer("99999999999999999999999", "startIndex") == MAX_PAGING_INTEGER
    True
    >>> _integer("-" + "9" * 5000, "count") == -MAX_PAGING_INTEGER
    True
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidValue(f"'{name}' must be an integer.")
    if isinstance(value, str):
        text = value.strip()
        digits = text.removeprefix("+").removeprefix("-")
        if not (digits.isdigit() and digits.isascii()):
            raise InvalidValue(f"'{name}' must be an integer, not {value[:40]!r}.")
        digits = digits.lstrip("0") or "0"
        magnitude = MAX_PAGING_INTEGER if len(digits) > 19 else int(digits)
        value = -magnitude if text.startswith("-") else magnitude
    if isinstance(value, int):
        return max(-MAX_PAGING_INTEGER, min(MAX_PAGING_INTEGER, value))
    raise InvalidValue(f"'{name}' must be an integer, not {value!r}.")


def _text(value: Any, name: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidValue(f"'{name}' must be a string.")


@attrs.frozen
class ListParams:
    """What a list or search asks for, clamped as RFC 7644 §3.4.2.4 says.

    ``count`` is ``None`` when the client gave none; ``cursor`` is ``None`` for
    index paging and a string (``""`` for the first page) for RFC 9865 cursors.

    >>> p = ListParams.from_query({"startindex": "-3", "count": "-1", "sortorder": "Descending"})
    >>> p.start_index, p.count, p.sort_order
    (1, 0, 'descending')
    >>> ListParams.from_query({"count": "abc"})
    Traceback (most recent call last):
    ...
    scimcore.errors.InvalidValue: 'count' must be an integer, not 'abc'.
    """

    filter: str | None = None
    sort_by: str | None = None
    sort_order: str = "ascending"
    start_index: int = 1
    count: int | None = None
    cursor: str | None = None
    attributes: tuple[str, ...] = ()
    excluded_attributes: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> ListParams:
        """Read the parameters of a GET query (already parsed by :func:`parse_query`)."""
        return cls._make(params.get, projection(params))

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ListParams:
        """Read a SearchRequest body (§3.4.3); its ``schemas`` must name SearchRequest."""
        folded = {k.casefold(): v for k, v in body.items() if isinstance(k, str)}
        schemas = folded.get("schemas")
        if not isinstance(schemas, list) or not any(
            isinstance(s, str) and s.casefold() == SEARCH_REQUEST_SCHEMA.casefold() for s in schemas
        ):
            raise InvalidSyntax(
                f"A search request must have 'schemas': [{SEARCH_REQUEST_SCHEMA!r}]."
            )
        attributes = _names(folded.get("attributes"), "attributes")
        excluded = _names(folded.get("excludedattributes"), "excludedAttributes")
        if attributes and excluded:
            raise InvalidValue("Give 'attributes' or 'excludedAttributes', not both.")
        return cls._make(folded.get, (attributes, excluded))

    @classmethod
    def _make(cls, get: Any, projected: tuple[tuple[str, ...], tuple[str, ...]]) -> ListParams:
        sort_order = _text(get("sortorder"), "sortOrder") or "ascending"
        if sort_order.casefold() not in ("ascending", "descending"):
            raise InvalidValue(
                f"sortOrder must be 'ascending' or 'descending', not {sort_order!r}."
            )
        start_index = _integer(get("startindex"), "startIndex")
        count = _integer(get("count"), "count")
        cursor = get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise InvalidValue("'cursor' must be a string.")
        filter_text = _text(get("filter"), "filter")
        if filter_text is not None and not filter_text.strip():
            # RFC 7644 §3.4.2.2: the parameter MUST contain at least one valid expression;
            # answering everything would hand an identity provider's lookup a wrong match.
            raise InvalidFilter("The filter is empty: give an expression, or no filter at all.")
        sort_by = _text(get("sortby"), "sortBy")
        return cls(
            filter=filter_text,
            sort_by=sort_by.strip() if sort_by and sort_by.strip() else None,
            sort_order=sort_order.casefold(),
            start_index=max(1, start_index) if start_index is not None else 1,
            count=max(0, count) if count is not None else None,
            cursor=cursor,
            attributes=projected[0],
            excluded_attributes=projected[1],
        )


@attrs.frozen
class Paging:
    """A service's paging limits, as its ServiceProviderConfig announces them.

    ``max_results`` is the most resources one page holds (``filter.maxResults``,
    and ``pagination.maxPageSize`` for RFC 9865 cursors); ``default_page_size``
    the page size when the client gives no ``count``; ``cursor`` whether
    cursor paging is offered (index paging always is).

    >>> Paging().max_results, Paging().default_page_size
    (1000, 100)
    """

    max_results: int = 1000
    default_page_size: int = 100
    cursor: bool = True
