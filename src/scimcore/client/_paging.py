"""Reading a whole result list: every resource exactly once, or a clear error.

Theory of operation. A :class:`Pager` reads one page per :meth:`Pager.page`
call (a step generator, as every client operation) and remembers where it is.

- **Cursors** (RFC 9865) when the server's ``ServiceProviderConfig`` offers
  them: the first request carries an empty ``cursor``, each next one the
  ``nextCursor`` of the page before; no ``nextCursor`` ends the list. A server
  that hands back the cursor it was given would loop: that is an error. A first
  page without ``nextCursor`` whose ``totalResults`` says there is more means the
  server ignored the cursor: the list is then read by index.
- **Index paging** otherwise. Each page after the first starts at the last
  resource of the page before (``startIndex`` = previous start + returned - 1),
  so the pages overlap by one resource, and that resource must come first.
  When it does not (a resource before it was deleted, or the server skipped or
  repeated a page), or the server answers another ``startIndex`` than asked,
  resources may have been missed, so the read starts again
  from the first page; resources already returned are not returned again (the
  pager keeps every id). After ``max_restarts`` restarts, :class:`PagingError`.
  The next ``startIndex`` counts the resources the page *returned*, never the
  ``count`` asked for, so a server that returns fewer (its own page size) or
  more (it ignores ``count``) is read correctly; ``totalResults`` is never
  trusted to end the list: a page holding nothing past the overlap does.
- Either way, resources are de-duplicated by ``id``.

Index paging assumes the server lists existing resources in a stable order
(resources created during the read may or may not be returned).

The checkpoint (:attr:`Pager.checkpoint`) is a string naming where the next
page starts (``cursor:…`` or ``index:…``; ``""`` before the first page,
``None`` once the list is read): pass it back as ``checkpoint=`` to
resume in another process. Resources of the page being read when the
checkpoint was taken may be returned again after a resume.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from typing import Any, Generic, TypeVar

from scimcore.client._core import ClientCore, Step
from scimcore.filter import Filter
from scimcore.models import ListResponse
from scimcore.models._base import Resource

__all__ = ["Pager", "PagingError"]

R = TypeVar("R", bound=Resource)


class PagingError(Exception):
    """The server's pages cannot be read into a complete list (nothing is silently dropped)."""


class Pager(Generic[R]):
    """Reads every resource of a search once, page by page (see the module docstring).

    >>> from scimcore.models import User
    >>> from scimcore.client import ClientCore
    >>> core = ClientCore("https://example.com/scim/v2", discover=False)
    >>> pager = Pager(core, User, page_size=2, method="index")
    >>> steps = pager.page()
    >>> next(steps).url
    'https://example.com/scim/v2/Users?startIndex=1&count=2'
    """

    def __init__(
        self,
        core: ClientCore,
        model: type[R],
        *,
        filter: Filter | str | None = None,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        page_size: int | None = None,
        method: str = "auto",
        post: bool = False,
        checkpoint: str | None = None,
        max_restarts: int = 3,
    ) -> None:
        if method not in ("auto", "cursor", "index"):
            raise ValueError("method is 'auto', 'cursor' or 'index'")
        self.core = core
        self.model = model
        self.query: dict[str, Any] = {
            "filter": filter,
            "attributes": None if attributes is None else list(attributes),
            "excluded_attributes": (
                None if excluded_attributes is None else list(excluded_attributes)
            ),
            "sort_by": sort_by,
            "sort_order": sort_order,
            "post": post,
        }
        self.page_size = page_size
        self.method = method
        self.max_restarts = max_restarts
        self.restarts = 0
        self.seen: set[str] = set()
        self.done = False
        self.mode: str | None = None
        self.cursor = ""
        self.start = 1
        self.last_id: str | None = None
        if checkpoint is not None:
            self._resume(checkpoint)

    # ------------------------------------------------------------------ checkpoints

    @property
    def checkpoint(self) -> str | None:
        """Where the next page starts; ``None`` once the list is read."""
        if self.done:
            return None
        if self.mode is None:
            return ""
        if self.mode == "cursor":
            return f"cursor:{self.cursor}"
        if self.last_id is None:
            return f"index:{self.start}"
        return f"index:{self.start}:{self.last_id}"

    def _resume(self, checkpoint: str) -> None:
        if checkpoint == "":
            return
        kind, _, rest = checkpoint.partition(":")
        if kind == "cursor":
            self.mode, self.cursor = "cursor", rest
            return
        if kind == "index":
            start, _, last = rest.partition(":")
            if start.isdigit() and int(start) >= 1:
                self.mode, self.start = "index", int(start)
                if last:
                    self.last_id = last
                    self.seen.add(last)
                return
        raise ValueError(f"not a checkpoint: {checkpoint!r}")

    # ------------------------------------------------------------------ reading

    def decode(self, item: Mapping[str, Any]) -> R:
        """One resource of a page, as its model (pages hold wire documents until then)."""
        return self.core.decode_resource(item, self.model)

    def page(self) -> Generator[Step, Any, list[dict[str, Any]] | None]:
        """The wire documents of the next page's resources not returned before (decode each
        with :meth:`decode`); ``None`` when the list is read."""
        found = yield from self.core.discovery()
        config = found.config
        if self.mode is None:
            cursors = config.pagination is not None and config.pagination.cursor
            if self.method == "cursor":
                self.core._require("cursor paging", cursors)
            use_cursor = self.method == "cursor" or (
                self.method == "auto" and cursors and self.core.version == 2
            )
            self.mode = "cursor" if use_cursor else "index"
        if self.page_size is None:
            size = 100
            if config.pagination is not None and config.pagination.default_page_size:
                size = config.pagination.default_page_size
            if config.filter.max_results > 0:
                size = min(size, config.filter.max_results)
            self.page_size = size
        while not self.done:
            if self.mode == "cursor":
                return (yield from self._cursor_page())
            items = yield from self._index_page()
            if items is not None:
                return items
        return None

    def _fetch(self, **paging: Any) -> Generator[Step, Any, ListResponse[Any]]:
        result = yield from self.core.search(
            self.model, count=self.page_size, raw=True, **paging, **self.query
        )
        items: list[Any] = result.resources  # wire documents (raw=True)
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise PagingError("The server returned a resource without an id.")
        return result

    def _fresh(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        fresh = []
        for item in items:
            if item["id"] not in self.seen:
                self.seen.add(item["id"])
                fresh.append(item)
        return fresh

    def _cursor_page(self) -> Generator[Step, Any, list[dict[str, Any]]]:
        page = yield from self._fetch(cursor=self.cursor)
        following = page.next_cursor
        total = page.total_results
        if not following and not self.cursor and total is not None and total > len(page.resources):
            # A first page that says there is more but gives no cursor: the server offers
            # cursors but ignored ours. Read by index instead (what was returned stays returned).
            self.mode, self.start, self.last_id = "index", 1, None
            return self._fresh(page.resources)
        if not following:
            self.done = True
        elif following == self.cursor:
            raise PagingError(f"The server returned the cursor it was given ({following!r}).")
        else:
            self.cursor = following
        return self._fresh(page.resources)

    def _index_page(self) -> Generator[Step, Any, list[dict[str, Any]] | None]:
        start = self.start
        page = yield from self._fetch(start_index=start)
        raw = page.resources
        if page.start_index is not None and page.start_index != start:
            self._restart(f"the server answered startIndex={page.start_index} to {start}")
            return None
        items = raw
        if self.last_id is not None:
            if not raw or raw[0]["id"] != self.last_id:
                self._restart(f"the page at startIndex={start} did not start with {self.last_id}")
                return None
            items = raw[1:]
        if not items:
            self.done = True
            return []
        self.last_id = raw[-1]["id"]
        self.start = start + len(raw) - 1
        return self._fresh(items)

    def _restart(self, why: str) -> None:
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise PagingError(
                f"The list changed, or the server skipped or repeated a page, "
                f"{self.restarts} times while it was read ({why}); "
                "resources may have been missed."
            )
        self.start, self.last_id = 1, None
