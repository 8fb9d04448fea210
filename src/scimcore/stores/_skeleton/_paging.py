"""The one page and cursor assembly of the shipped stores.

Theory of operation: every match of a search has a *sort key*
``(missing, value, seq)``: whether it lacks the ``sortBy`` value, the value,
and its creation sequence, the final tie-break (so no two keys are equal).
Matches are ordered by it, missing values last (RFC 7644 §3.4.2.3), the whole
order reversed for ``descending``. :func:`paging` turns a :class:`Query` into
the page it asks for, by asking the store for :class:`Rows`:

- without a cursor, ``count`` rows from ``startIndex`` and the total (RFC 7644
  §3.4.2.4), in one request;
- with one (RFC 9865), the rows strictly after the cursor's key: ``count + 1``
  of them (the extra row says whether a next page exists), in the query's
  order for a ``next`` cursor, in the reverse order for a ``previous`` one, then
  one row past the other end of the page (does a previous page exist?). A
  cursor holds the key of a page's last (``next``) or first (``previous``) row,
  so a page stays right while others write: a keyset, not an offset.

:func:`paging` is a generator in the style of :mod:`scimcore._drive`: it
``yield from``-s the store's ``fetch(rows)``, itself a generator of whatever
steps the store performs (SQL statements for the SQL stores, none for the
memory store), so one assembly serves a store driven sync, async, or in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any, NamedTuple, TypeAlias, TypeVar

from scimcore.storage._cursor import CursorCodec, Position, SortKey
from scimcore.storage._query import Page, Query

__all__ = ["Found", "Rows", "paging", "sort_key"]

R = TypeVar("R")
S = TypeVar("S")
T = TypeVar("T")


class Rows(NamedTuple):
    """What :func:`paging` asks a store for: the matches in order (reversed when
    ``descending``), strictly after the sort key ``after`` if given, ``limit`` of
    them (``None``: all) from ``offset``, and their total number if ``counted``
    (the number of every match, wherever the rows start)."""

    descending: bool
    after: SortKey | None
    limit: int | None
    offset: int
    counted: bool

    def known_total(self, found: Sequence[Any]) -> int | None:
        """The total when the rows found already tell it, so a store need not count:
        from the first match (no ``after``), fewer rows than the limit, and some rows
        unless they start at the first. ``None``: count.

        >>> Rows(False, None, 100, 0, True).known_total(["a"])
        1
        >>> print(Rows(False, None, 1, 0, True).known_total(["a"]))
        None
        """
        if self.after is not None or (self.limit is not None and len(found) >= self.limit):
            return None
        if not found and self.offset:
            return None
        return self.offset + len(found)


#: What a store finds for :class:`Rows`: the total (when counted, else 0) and the rows.
Found: TypeAlias = tuple[int, list[R]]


def sort_key(value: Any, seq: int) -> SortKey:
    """The sort key of a match whose ``sortBy`` value is ``value`` (``None``: none).

    >>> sort_key("bjensen", 7), sort_key(None, 8)
    ((False, 'bjensen', 7), (True, None, 8))
    """
    return (value is None, value, seq)


def paging(
    query: Query,
    codec: CursorCodec,
    fetch: Callable[[Rows], Generator[S, Any, Found[R]]],
    key_of: Callable[[R], SortKey],
    load: Callable[[list[R]], Sequence[T]],
) -> Generator[S, Any, Page[T]]:
    """The page ``query`` asks for, from the :class:`Rows` ``fetch`` finds (see the module):
    ``key_of`` gives a row's sort key (a cursor holds one), ``load`` makes the
    page's resources of its rows.

    >>> from scimcore._drive import drive
    >>> from scimcore.models import User
    >>> rows = list(enumerate("abcde"))  # (creation sequence, name)
    >>> def fetch(ask):
    ...     yield from ()  # in memory: nothing to perform
    ...     after = -1 if ask.after is None else ask.after[2]
    ...     return len(rows), [row for row in rows if row[0] > after][ask.offset :][: ask.limit]
    >>> def key_of(row):
    ...     return sort_key(None, row[0])
    >>> def names(rows):
    ...     return [name for _, name in rows]
    >>> codec = CursorCodec(b"secret")
    >>> first = Query(models=User, cursor="", count=2)
    >>> page = drive(paging(first, codec, fetch, key_of, names), print)
    >>> page.resources, page.total, page.previous_cursor
    (['a', 'b'], 5, None)
    >>> second = Query(models=User, cursor=page.next_cursor, count=2)
    >>> drive(paging(second, codec, fetch, key_of, names), print).resources
    ['c', 'd']
    """
    if query.cursor is None:
        request = Rows(query.descending, None, query.count, query.start_index - 1, True)
        total, found = yield from fetch(request)
        return Page(resources=load(found), total=total, start_index=query.start_index)
    fingerprint = query.fingerprint()
    after: SortKey | None = None
    forward = True
    if query.cursor:
        position = codec.decode(fingerprint, query.cursor)
        after, forward = position.key, position.direction == "next"
    count = query.count
    if count == 0:
        total, _ = yield from fetch(Rows(query.descending, None, 0, 0, True))
        return Page(resources=[], total=total)
    way = query.descending if forward else not query.descending
    limit = None if count is None else count + 1
    total, found = yield from fetch(Rows(way, after, limit, 0, True))
    more = count is not None and len(found) > count
    found = found[:count]
    if forward:
        more_after = more
        more_before = bool(found) and after is not None
        if more_before:
            more_before = yield from _any(fetch, not query.descending, key_of(found[0]))
    else:
        found.reverse()
        more_before = more
        more_after = bool(found)
        if more_after:
            more_after = yield from _any(fetch, query.descending, key_of(found[-1]))
    next_cursor = previous_cursor = None
    if found and more_after:
        next_cursor = codec.encode(fingerprint, Position("next", key_of(found[-1])))
    if found and more_before:
        previous_cursor = codec.encode(fingerprint, Position("previous", key_of(found[0])))
    return Page(
        resources=load(found),
        total=total,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
    )


def _any(
    fetch: Callable[[Rows], Generator[S, Any, Found[R]]], descending: bool, key: SortKey
) -> Generator[S, Any, bool]:
    """Whether a match lies after ``key`` in that order."""
    _, found = yield from fetch(Rows(descending, key, 1, 0, False))
    return bool(found)
