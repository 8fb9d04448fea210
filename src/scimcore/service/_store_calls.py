"""The store calls a handler yields: typed values, each knowing how to run itself.

The service's handlers never call the store: they *yield* one of these values
and receive its result (see :mod:`scimcore._drive`). Each call runs itself on
a sync store (:meth:`StoreCall.run`) or awaits an async one
(:meth:`StoreCall.run_async`), so the driver is the same one line for every
call, and mypy checks each call's arguments.

- :class:`Get`, :class:`GetDocument`: ``get``, ``get_document``
  (:class:`~scimcore.storage.SupportsDocuments`);
- :class:`Search`, :class:`SearchDocuments`: ``search``, ``search_documents``;
- :class:`Memberships`: ``memberships``
  (:class:`~scimcore.storage.SupportsMemberships`);
- :class:`Create`, :class:`Replace`, :class:`Delete`: ``create``, ``replace``,
  ``delete``;
- :class:`Update`: :func:`scimcore.storage.update` (the store's ``update``, or
  get + replace);
- :class:`UpdateMembers`: ``update_members``
  (:class:`~scimcore.storage.SupportsMemberUpdate`);
- :class:`Offload`: slow work without the store (hashing a password).

A call says whether its work is :meth:`~StoreCall.short` (one resource by
``id``) or may be long (a search, a hash): the async driver runs only short
calls of a fast local store on the event loop, the others in worker threads.

>>> from scimcore.models import User
>>> from scimcore.stores import MemoryStore
>>> store = MemoryStore()
>>> created = Create(User(user_name="bjensen")).run(store)
>>> Get(User, created.id).run(store).user_name
'bjensen'
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Generator, Sequence
from typing import Any, TypeVar

import attrs

from scimcore.errors import PreconditionFailed
from scimcore.storage import (
    AsyncResourceStore,
    Page,
    Query,
    ResourceStore,
    SupportsDocuments,
    SupportsMemberships,
    SupportsMemberUpdate,
    etag,
    tag_matches,
)
from scimcore.storage import update as store_update
from scimcore.storage._memberships import Memberships as MembershipLists

__all__ = [
    "Create",
    "Delete",
    "Gen",
    "Get",
    "GetDocument",
    "Memberships",
    "Offload",
    "Replace",
    "Search",
    "SearchDocuments",
    "StoreCall",
    "Update",
    "UpdateMembers",
]

T = TypeVar("T")


class StoreCall:
    """One store operation a handler asks its driver to perform (the base of every call).

    ``run(store)`` performs it on a sync store, ``await run_async(store)`` on an
    async one; both return what the store method returns.
    """

    __slots__ = ()

    def short(self, store: Any) -> bool:
        """Whether the call's work on ``store`` is bounded whatever the client asked: one
        resource read or written by ``id``, or a lookup the store says its indexes answer
        (``store.quick_search(query)``, ``store.quick_memberships(group_model)``). A sync
        store with ``short_calls`` runs these on the event loop; every other call (a scan,
        a password to hash) in a worker thread."""
        return True

    def cancel(self) -> None:
        """Ask the store to stop the call, its client being gone (a search's deadline)."""

    def run(self, store: Any) -> Any:
        """Perform the call on a sync store."""
        raise NotImplementedError

    async def run_async(self, store: Any) -> Any:
        """Perform the call on an async store."""
        raise NotImplementedError


#: A handler: a generator that yields store calls, receives their results and returns a ``T``.
Gen = Generator[StoreCall, Any, T]


@attrs.frozen(slots=True)
class Get(StoreCall):
    """``store.get(model, id)``: the resource, or :class:`~scimcore.NotFound`."""

    model: type[Any]
    id: str

    def run(self, store: ResourceStore) -> Any:
        return store.get(self.model, self.id)

    async def run_async(self, store: AsyncResourceStore) -> Any:
        return await store.get(self.model, self.id)


@attrs.frozen(slots=True)
class GetDocument(StoreCall):
    """``store.get_document(model, id)``: the stored JSON of one resource."""

    model: type[Any]
    id: str

    def run(self, store: SupportsDocuments) -> dict[str, Any]:
        return store.get_document(self.model, self.id)

    async def run_async(self, store: Any) -> dict[str, Any]:
        document: dict[str, Any] = await store.get_document(self.model, self.id)
        return document


@attrs.frozen(slots=True)
class _Searching(StoreCall):
    """A search: short when the store's indexes answer it, stopped by its deadline."""

    query: Query

    def short(self, store: Any) -> bool:
        quick = getattr(store, "quick_search", None)
        return quick is not None and bool(quick(self.query))

    def cancel(self) -> None:
        if self.query.deadline is not None:
            self.query.deadline.cancel()


@attrs.frozen(slots=True)
class Search(_Searching):
    """``store.search(query)``: a page of resources."""

    def run(self, store: ResourceStore) -> Page[Any]:
        return store.search(self.query)

    async def run_async(self, store: AsyncResourceStore) -> Page[Any]:
        return await store.search(self.query)


@attrs.frozen(slots=True)
class SearchDocuments(_Searching):
    """``store.search_documents(query)``: a page of stored JSON documents."""

    def run(self, store: SupportsDocuments) -> Page[dict[str, Any]]:
        return store.search_documents(self.query)

    async def run_async(self, store: Any) -> Page[dict[str, Any]]:
        page: Page[dict[str, Any]] = await store.search_documents(self.query)
        return page


@attrs.frozen(slots=True)
class Memberships(StoreCall):
    """``store.memberships(group_model, ids)``: the groups listing each member id."""

    group_model: type[Any]
    ids: Sequence[str]

    def short(self, store: Any) -> bool:
        quick = getattr(store, "quick_memberships", None)
        return quick is not None and bool(quick(self.group_model))

    def run(self, store: SupportsMemberships) -> MembershipLists:
        return store.memberships(self.group_model, self.ids)

    async def run_async(self, store: Any) -> MembershipLists:
        found: MembershipLists = await store.memberships(self.group_model, self.ids)
        return found


@attrs.frozen(slots=True)
class Create(StoreCall):
    """``store.create(resource)``: the stored copy, with its ``id`` and ``meta``."""

    resource: Any

    def run(self, store: ResourceStore) -> Any:
        return store.create(self.resource)

    async def run_async(self, store: AsyncResourceStore) -> Any:
        return await store.create(self.resource)


@attrs.frozen(slots=True)
class Replace(StoreCall):
    """``store.replace(resource, expected_version=…)``: the stored copy."""

    resource: Any
    expected_version: str | None = None

    def run(self, store: ResourceStore) -> Any:
        return store.replace(self.resource, expected_version=self.expected_version)

    async def run_async(self, store: AsyncResourceStore) -> Any:
        return await store.replace(self.resource, expected_version=self.expected_version)


@attrs.frozen(slots=True)
class Delete(StoreCall):
    """``store.delete(model, id, expected_version=…)``."""

    model: type[Any]
    id: str
    expected_version: str | None = None

    def run(self, store: ResourceStore) -> None:
        store.delete(self.model, self.id, expected_version=self.expected_version)

    async def run_async(self, store: AsyncResourceStore) -> None:
        await store.delete(self.model, self.id, expected_version=self.expected_version)


@attrs.frozen(slots=True)
class Update(StoreCall):
    """Change one resource atomically: :func:`scimcore.storage.update`.

    ``expected_version`` is an ``If-Match`` value (a list of tags, or ``*``).
    An async store without ``update`` gets the same fallback as a sync one: a
    get, then a replace that expects the version read.
    """

    model: type[Any]
    id: str
    change: Callable[[Any], Any]
    expected_version: str | None = None
    #: Whether ``change`` does slow work of its own (hashes a password).
    slow: bool = False

    def short(self, store: Any) -> bool:
        return not self.slow

    def run(self, store: ResourceStore) -> Any:
        return store_update(
            store, self.model, self.id, self.change, expected_version=self.expected_version
        )

    async def run_async(self, store: Any) -> Any:
        if hasattr(store, "update"):
            return await store.update(
                self.model, self.id, self.change, expected_version=self.expected_version
            )
        current = await store.get(self.model, self.id)
        version = getattr(getattr(current, "meta", None), "version", None)
        if self.expected_version is not None and not tag_matches(
            self.expected_version, etag(version)
        ):
            raise PreconditionFailed()
        return await store.replace(self.change(current), expected_version=version)


@attrs.frozen(slots=True)
class UpdateMembers(StoreCall):
    """``store.update_members(…)``: a member delta
    (:class:`~scimcore.storage.SupportsMemberUpdate`); the new ``meta``, or ``None`` when
    the store leaves it to a whole-resource PATCH."""

    model: type[Any]
    id: str
    values: Collection[str]
    change: Callable[[Any], Any]
    expected_version: str | None = None

    def run(self, store: SupportsMemberUpdate) -> Any:
        return store.update_members(
            self.model, self.id, self.values, self.change, expected_version=self.expected_version
        )

    async def run_async(self, store: Any) -> Any:
        return await store.update_members(
            self.model, self.id, self.values, self.change, expected_version=self.expected_version
        )


@attrs.frozen(slots=True)
class Offload(StoreCall):
    """Slow work that needs no store (hashing a password): run in a worker thread, never
    on the event loop; ``function()`` is the result."""

    function: Callable[[], Any]

    def short(self, store: Any) -> bool:
        return False

    def run(self, store: Any) -> Any:
        return self.function()

    async def run_async(self, store: Any) -> Any:
        return await asyncio.to_thread(self.function)


def perform(store: Any) -> Callable[[StoreCall], Any]:
    """The ``perform`` for :func:`scimcore._drive.drive`: each call run on a sync ``store``."""

    def run(call: StoreCall) -> Any:
        return call.run(store)

    return run
