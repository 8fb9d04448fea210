"""The store protocol: what a host implements to keep SCIM resources.

A store keeps typed resources (instances of the ``scimcore.models`` classes, or
a host's own models built the same way) under their resource type and ``id``.
It is small on purpose, as httpx's transports are: five methods, a sync and
an async twin, and two implementations in :mod:`scimcore.stores`.

Rules every store follows (:class:`scimcore.testing.StoreContract` checks them):

- It returns copies and never changes the resources it receives.
- ``create`` keeps an ``id`` it is given (the service strips a client's ``id``
  first) or makes one; it fills ``meta``: ``resourceType``, ``created``,
  ``lastModified`` and ``version``, never ``location`` (the service knows URLs).
- Every write changes the version; ``meta.version`` is the ETag (weak, ``W/"…"``).
- ``expected_version`` (an ``If-Match`` value: a list of tags, or ``*`` for
  any) that does not name the stored version raises
  :class:`~scimcore.errors.PreconditionFailed` and changes nothing.
- ``update`` takes a change as :mod:`scimcore.storage._change` describes it (a
  ``PatchResult`` or a function); one that changes nothing writes nothing.
- An unknown ``id`` raises :class:`~scimcore.errors.NotFound`; a value taken
  by another resource where it must be unique raises
  :class:`~scimcore.errors.Uniqueness`.
- ``search`` filters, sorts and pages every resource type of the query as one
  collection, with exactly the semantics of :func:`scimcore.filter.compile_filter`.
  A filter it cannot honour is an :class:`~scimcore.errors.InvalidFilter`,
  never a broader result.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from scimcore.codecs.v2 import decode, encode
from scimcore.models import Meta
from scimcore.patch import PatchResult
from scimcore.storage._change import Change, apply_change, same_but_meta
from scimcore.storage._query import Page, Query

__all__ = [
    "AsyncResourceStore",
    "AsyncStoreAdapter",
    "ResourceStore",
    "SupportsDocuments",
    "SupportsMemberUpdate",
    "SupportsMemberships",
    "SupportsUpdate",
    "update",
    "update_async",
]

R = TypeVar("R")


@runtime_checkable
class ResourceStore(Protocol):
    """Where a SCIM service keeps its resources (the sync twin)."""

    def create(self, resource: R) -> R:
        """Store a new resource; return the stored copy with ``id`` and ``meta`` set."""
        ...

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource of this model (resource type) with this ``id``."""
        ...

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Replace the stored resource with ``resource.id``; return the stored copy."""
        ...

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the resource of this model with this ``id``."""
        ...

    def search(self, query: Query) -> Page[Any]:
        """One page of the resources the query selects, with the total and cursors."""
        ...

    def close(self) -> None:
        """Release the store's resources (connections, files)."""
        ...


@runtime_checkable
class SupportsUpdate(Protocol):
    """A store that changes a resource atomically (the optional store-native PATCH).

    ``change`` is a :class:`~scimcore.patch.PatchResult` or a function that gets
    the stored resource and returns the new one (for example
    ``lambda r: apply_patch(r, op)``); the store applies it and writes the
    result as one atomic step, so two concurrent PATCHes never lose an update.
    A change that changes nothing writes nothing (see :func:`update`).
    """

    def update(
        self,
        model: type[R],
        resource_id: str,
        change: Change[R],
        *,
        expected_version: str | None = None,
    ) -> R:
        """Read, change and write one resource atomically; return the stored copy."""
        ...


@runtime_checkable
class SupportsMemberUpdate(Protocol):
    """A store that changes a group's members as a delta (the optional fast member PATCH).

    Adding one member to a group of 20,000 should not read, rebuild and write
    20,000 members. The service calls this for a PATCH that only adds elements
    or removes them by ``value`` (:func:`scimcore.patch.touched_values`):
    atomically, the store loads the resource with only the ``members`` whose
    ``value`` is one of ``values`` (compared case-insensitively: a superset is
    fine), calls ``change`` on that copy, and writes the
    :class:`~scimcore.patch.PatchResult`'s ``added`` and ``removed`` members, a
    new version and ``lastModified``; nothing when it changed nothing.
    ``expected_version`` is checked first, as by ``update``. A store that cannot
    apply a given delta exactly (a group holding the same value twice) returns
    ``None``, writing nothing, and the service applies the PATCH to the whole
    resource instead.
    """

    def update_members(
        self,
        model: type[R],
        resource_id: str,
        values: Collection[str],
        change: Callable[[R], PatchResult[R]],
        *,
        expected_version: str | None = None,
    ) -> Meta | None:
        """Apply a member delta atomically; the resource's new ``meta`` (or ``None``)."""
        ...


@runtime_checkable
class SupportsDocuments(Protocol):
    """A store that can read resources as their stored JSON (the optional fast read path).

    A store that keeps each resource as JSON (``SQLiteStore``, ``MemoryStore``)
    can hand that JSON out without building the model, and a service serves it
    after applying ``returned`` and the projection: GET and list responses skip
    a decode and an encode per resource. Each document is exactly
    ``encode(resource, full=True)`` of the resource :meth:`get` or ``search``
    would give; ``Query.attributes``, if the store honours it, may leave out
    other attributes (never ``id``, ``schemas`` or ``meta``).
    """

    def get_document(self, model: type[Any], resource_id: str) -> dict[str, Any]:
        """``encode(store.get(model, resource_id), full=True)``."""
        ...

    def search_documents(self, query: Query) -> Page[dict[str, Any]]:
        """``store.search(query)``, each resource as ``encode(resource, full=True)``."""
        ...


@runtime_checkable
class SupportsMemberships(Protocol):
    """A store that knows which groups list a member (the optional fast ``User.groups``).

    ``User.groups`` is computed on every read of a user from the groups'
    ``members``; a store that indexes ``members.value`` answers it without
    reading any member list. Without this, the service searches for
    ``members.value eq "<id>"``.
    """

    def memberships(
        self, group_model: type[Any], member_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, str | None]]]:
        """Member id → ``[(group id, group displayName)]``, in the groups' creation order."""
        ...


def update(
    store: ResourceStore,
    model: type[R],
    resource_id: str,
    change: Change[R],
    *,
    expected_version: str | None = None,
) -> R:
    """Change one resource: natively when the store :class:`SupportsUpdate`, else get + replace.

    ``change`` is a :class:`~scimcore.patch.PatchResult` (written only over the
    version it was computed from) or a function of the stored resource; one
    that changes nothing writes nothing, and the stored resource comes back with
    its version. The fallback replaces with the version it read as
    ``expected_version``, so a concurrent write makes it
    :class:`~scimcore.errors.PreconditionFailed` rather than lost.

    >>> from scimcore.models import User
    >>> from scimcore.stores import MemoryStore
    >>> store = MemoryStore()
    >>> user = store.create(User(user_name="bjensen"))
    >>> def retitle(user):
    ...     user.title = "Tour Guide"
    ...     return user
    >>> changed = update(store, User, user.id, retitle, expected_version=user.meta.version)
    >>> changed.title, changed.meta.version != user.meta.version
    ('Tour Guide', True)
    >>> update(store, User, user.id, retitle).meta.version == changed.meta.version
    True
    """
    if isinstance(store, SupportsUpdate):
        return store.update(model, resource_id, change, expected_version=expected_version)
    current = store.get(model, resource_id)
    version = current.meta.version  # type: ignore[attr-defined]
    new, changed = _changed(change, current, expected_version)
    return store.replace(new, expected_version=version) if changed else new


async def update_async(
    store: AsyncResourceStore,
    model: type[R],
    resource_id: str,
    change: Change[R],
    *,
    expected_version: str | None = None,
) -> R:
    """:func:`update` on an :class:`AsyncResourceStore`: its own ``update`` when it has one.

    >>> import asyncio
    >>> from scimcore.models import User
    >>> from scimcore.stores import MemoryStore
    >>> store = AsyncStoreAdapter(MemoryStore())
    >>> async def rename():
    ...     user = await store.create(User(user_name="bjensen"))
    ...     return (await update_async(store, User, user.id, lambda u: User(user_name="babs")))
    >>> asyncio.run(rename()).user_name
    'babs'
    """
    native = getattr(store, "update", None)
    if native is not None:
        return await native(model, resource_id, change, expected_version=expected_version)  # type: ignore[no-any-return]
    current = await store.get(model, resource_id)
    version = current.meta.version  # type: ignore[attr-defined]
    new, changed = _changed(change, current, expected_version)
    return await store.replace(new, expected_version=version) if changed else new


def _changed(change: Change[R], current: R, expected_version: str | None) -> tuple[R, bool]:
    """The fallbacks' :func:`~scimcore.storage._change.apply_change`: the resource to
    write and ``True``, or the stored resource and ``False`` when nothing changed (for
    a function, whose result is compared with the stored resource by wire document)."""
    if not callable(change):
        new = apply_change(change, current, expected_version)
        return (current, False) if new is None else (new, True)
    before = encode(current, full=True)  # the function may change ``current`` in place
    new = apply_change(change, current, expected_version)
    if new is None or same_but_meta(encode(new, full=True), before):
        return decode(before, type(current)), False
    return new, True


@runtime_checkable
class AsyncResourceStore(Protocol):
    """The async twin of :class:`ResourceStore`: the same methods, awaited."""

    async def create(self, resource: R) -> R:
        """See :meth:`ResourceStore.create`."""
        ...

    async def get(self, model: type[R], resource_id: str) -> R:
        """See :meth:`ResourceStore.get`."""
        ...

    async def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """See :meth:`ResourceStore.replace`."""
        ...

    async def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """See :meth:`ResourceStore.delete`."""
        ...

    async def search(self, query: Query) -> Page[Any]:
        """See :meth:`ResourceStore.search`."""
        ...

    async def aclose(self) -> None:
        """See :meth:`ResourceStore.close`."""
        ...


class AsyncStoreAdapter:
    """An :class:`AsyncResourceStore` over a sync store: each call runs in a worker thread.

    The stores of :mod:`scimcore.stores` are thread-safe, so an async server
    can share one without blocking its event loop.

    >>> import asyncio
    >>> from scimcore.stores import MemoryStore
    >>> store = AsyncStoreAdapter(MemoryStore())
    >>> isinstance(store, AsyncResourceStore)
    True
    >>> asyncio.run(store.aclose())
    """

    def __init__(self, store: ResourceStore) -> None:
        self.store = store

    async def create(self, resource: R) -> R:
        """See :meth:`ResourceStore.create`."""
        return await asyncio.to_thread(self.store.create, resource)

    async def get(self, model: type[R], resource_id: str) -> R:
        """See :meth:`ResourceStore.get`."""
        return await asyncio.to_thread(self.store.get, model, resource_id)

    async def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """See :meth:`ResourceStore.replace`."""
        return await asyncio.to_thread(
            self.store.replace, resource, expected_version=expected_version
        )

    async def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """See :meth:`ResourceStore.delete`."""
        await asyncio.to_thread(
            self.store.delete, model, resource_id, expected_version=expected_version
        )

    async def search(self, query: Query) -> Page[Any]:
        """See :meth:`ResourceStore.search`."""
        return await asyncio.to_thread(self.store.search, query)

    async def update(
        self,
        model: type[R],
        resource_id: str,
        change: Change[R],
        *,
        expected_version: str | None = None,
    ) -> R:
        """See :func:`update`: the wrapped store's own, or get + replace."""
        return await asyncio.to_thread(
            update, self.store, model, resource_id, change, expected_version=expected_version
        )

    @property
    def update_members(self) -> Callable[..., Awaitable[Meta | None]]:
        """The sync store's ``update_members`` in a worker thread; absent when it has none."""
        method = getattr(self.store, "update_members", None)
        if method is None:
            raise AttributeError("update_members")

        async def update_members(*args: Any, **kwargs: Any) -> Meta | None:
            return await asyncio.to_thread(method, *args, **kwargs)

        return update_members

    async def aclose(self) -> None:
        """Close the wrapped store."""
        await asyncio.to_thread(self.store.close)
