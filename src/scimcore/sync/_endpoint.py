"""The two ends of a sync, behind one small protocol: a store, or a SCIM server.

:class:`Endpoint` is what the engine asks of either end: read (all, or changed since a time),
get by id, find by one attribute's value, create, update (the minimal PATCH from
:func:`scimcore.plan_patch`) and delete. :class:`StoreEndpoint` adapts any
:class:`~scimcore.storage.ResourceStore` (memory, SQLite, PostgreSQL, a mapped store);
:class:`ClientEndpoint` a :class:`scimcore.client.Client`, whose retries and back-off (429, 503,
dropped connections of idempotent requests) are the sync's. :func:`as_endpoint` picks one.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from scimcore.errors import NotFound, ScimError
from scimcore.filter import attr
from scimcore.patch import apply_patch, plan_patch
from scimcore.storage import Query, ResourceStore, update, utc_text

if TYPE_CHECKING:
    from scimcore.client import Client

__all__ = ["ClientEndpoint", "Endpoint", "StoreEndpoint", "as_endpoint"]

R = TypeVar("R")

#: Resources read per request (or per store search) when listing.
PAGE_SIZE = 500


def _since_filter(since: datetime.datetime | None) -> str | None:
    return None if since is None else f'meta.lastModified ge "{utc_text(since)}"'


@runtime_checkable
class Endpoint(Protocol):
    """One end of a sync. ``name`` says which, for plans, reports and the state file."""

    name: str

    def read(self, model: type[R], *, since: datetime.datetime | None = None) -> Iterator[R]:
        """Every resource of ``model`` (last modified at or after ``since``, when given)."""
        ...

    def get(self, model: type[R], id: str) -> R | None:
        """The resource with this id, ``None`` when there is none."""
        ...

    def find(self, model: type[R], path: str, value: Any) -> list[R]:
        """The resources whose ``path`` equals ``value`` (an ``eq`` filter)."""
        ...

    def create(self, resource: R) -> R:
        """Create ``resource``; the stored copy (``Uniqueness`` when a unique value is taken)."""
        ...

    def update(self, old: R, new: R) -> R:
        """Change ``old`` into ``new`` by the delta between them, applied to what is stored."""
        ...

    def delete(self, model: type[Any], id: str) -> None:
        """Delete one resource (``NotFound`` when it is gone already)."""
        ...


@runtime_checkable
class BulkCreates(Protocol):
    """An end that creates several resources in one request (a server offering Bulk)."""

    def bulk_size(self) -> int:
        """How many creates one request may carry (0 or 1: no bulk)."""
        ...

    def create_many(self, resources: list[Any]) -> list[Any]:
        """Create ``resources``: for each, the new id, the ``ScimError`` it was answered with,
        or ``None`` when it was not sent."""
        ...


class StoreEndpoint:
    """A :class:`~scimcore.storage.ResourceStore` as an end of a sync.

    Updates apply the PATCH :func:`~scimcore.plan_patch` plans to the resource as stored, under
    the store's lock (:func:`scimcore.storage.update` with a function), so a concurrent write to
    another attribute survives.

    >>> from scimcore.models import User
    >>> from scimcore.stores import MemoryStore
    >>> end = StoreEndpoint(MemoryStore(), name="hr")
    >>> created = end.create(User(user_name="bjensen"))
    >>> [u.user_name for u in end.find(User, "userName", "BJENSEN")]
    ['bjensen']
    """

    def __init__(self, store: ResourceStore, *, name: str | None = None) -> None:
        self.store = store
        self.name = name or type(store).__name__

    def __repr__(self) -> str:
        return f"StoreEndpoint({self.name!r})"

    def read(self, model: type[R], *, since: datetime.datetime | None = None) -> Iterator[R]:
        cursor: str | None = ""
        while cursor is not None:
            page = self.store.search(
                Query(models=model, filter=_since_filter(since), cursor=cursor, count=PAGE_SIZE)
            )
            yield from page.resources
            cursor = page.next_cursor

    def get(self, model: type[R], id: str) -> R | None:
        try:
            return self.store.get(model, id)
        except NotFound:
            return None

    def find(self, model: type[R], path: str, value: Any) -> list[R]:
        page = self.store.search(Query(models=model, filter=str(attr(path).eq(value))))
        return list(page.resources)

    def create(self, resource: R) -> R:
        return self.store.create(resource)

    def update(self, old: R, new: R) -> R:
        patch = plan_patch(old, new)
        if not patch.operations:
            return old
        model = type(old)
        changed: R = update(
            self.store, model, getattr(old, "id", ""), lambda stored: apply_patch(stored, patch)
        )
        return changed

    def delete(self, model: type[Any], id: str) -> None:
        self.store.delete(model, id)


class ClientEndpoint:
    """A SCIM server, through a :class:`scimcore.client.Client`, as an end of a sync.

    The client's :class:`~scimcore.client.Retry` is the sync's: 429 and 503 are retried after
    ``Retry-After`` or a back-off, a dropped connection is retried for reads. ``max_rate``
    (requests a second, ``None``: no limit) spaces the writes, a rate limit of the sync's own.
    """

    def __init__(
        self,
        client: Client,
        *,
        name: str | None = None,
        max_rate: float | None = None,
        bulk: int = 100,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.name = name or client.core.base_url
        self._interval = 0.0 if not max_rate else 1.0 / max_rate
        self._next = 0.0
        self._lock = threading.Lock()
        self._sleep = sleep
        self._bulk = bulk

    def __repr__(self) -> str:
        return f"ClientEndpoint({self.name!r})"

    def _pace(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self._interval
        if wait > 0:
            self._sleep(wait)

    def read(self, model: type[Any], *, since: datetime.datetime | None = None) -> Iterator[Any]:
        yield from self.client.iter_resources(model, _since_filter(since), page_size=PAGE_SIZE)

    def get(self, model: type[Any], id: str) -> Any:
        try:
            return self.client.get(model, id)
        except NotFound:
            return None

    def find(self, model: type[Any], path: str, value: Any) -> list[Any]:
        return list(self.client.search(model, attr(path).eq(value)).resources)

    def create(self, resource: Any) -> Any:
        self._pace()
        return self.client.create(resource)

    def update(self, old: Any, new: Any) -> Any:
        self._pace()
        return self.client.update(old, new)

    def delete(self, model: type[Any], id: str) -> None:
        self._pace()
        self.client.delete(model, id)

    def bulk_size(self) -> int:
        bulk = self.client.discover().config.bulk
        if not bulk.supported or self._bulk <= 1:
            return 0
        return min(self._bulk, bulk.max_operations) if bulk.max_operations > 0 else self._bulk

    def create_many(self, resources: list[Any]) -> list[Any]:
        from scimcore.models import BulkOperation

        self._pace()
        operations = [
            BulkOperation(
                method="POST",
                path="/" + r.__scim_resource_type__.endpoint.strip("/"),
                bulk_id=f"c{i}",
                data=r,
            )
            for i, r in enumerate(resources)
        ]
        outcomes: list[Any] = [None] * len(resources)
        for result in self.client.bulk(operations):
            index = int((result.bulk_id or "c-1")[1:])
            if not 0 <= index < len(outcomes):
                continue
            status = int((result.status or "0").strip()[:3] or 0)
            if 200 <= status < 300 and result.location:
                outcomes[index] = result.location.rstrip("/").rsplit("/", 1)[-1]
            else:
                outcomes[index] = bulk_error(status, result.response)
        return outcomes


def bulk_error(status: int, response: Any) -> ScimError:
    """The :class:`ScimError` of a failed bulk operation, from its status and ``response``.

    >>> bulk_error(409, {"scimType": "uniqueness", "detail": "taken"})
    Uniqueness('taken')
    """
    from scimcore.errors import error_for

    detail = response.get("detail") if isinstance(response, dict) else None
    scim_type = response.get("scimType") if isinstance(response, dict) else None
    return error_for(status, scim_type, detail or f"bulk operation answered {status}")


def as_endpoint(end: Any, *, name: str | None = None) -> Endpoint:
    """``end`` as an :class:`Endpoint`: an endpoint as it is, a store or a client adapted.

    >>> from scimcore.stores import MemoryStore
    >>> as_endpoint(MemoryStore(), name="a")
    StoreEndpoint('a')
    """
    if isinstance(end, StoreEndpoint | ClientEndpoint):
        return end
    client_type = _client_type()  # first: a client has a store's methods too
    if client_type is not None and isinstance(end, client_type):
        return ClientEndpoint(end, name=name)
    if isinstance(end, ResourceStore):
        return StoreEndpoint(end, name=name)
    if isinstance(end, Endpoint):
        return end
    raise TypeError(
        "a sync end is a ResourceStore, a scimcore.client.Client or an Endpoint,"
        f" not {type(end).__name__}"
    )


def _client_type() -> type[Any] | None:
    try:
        from scimcore.client import Client
    except ImportError:  # the client extra (httpx) is not installed
        return None
    return Client
