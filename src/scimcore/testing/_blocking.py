"""BlockingStore: a sync face on an async store, to run the contract on it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from scimcore.storage import AsyncResourceStore, Change, Page, Query, update_async

__all__ = ["BlockingStore"]

T = TypeVar("T")

#: The attributes of the async store a BlockingStore shows as its own.
_SHAPE = frozenset({"model", "models", "served_schema"})


class BlockingStore:
    """A sync face on an :class:`~scimcore.storage.AsyncResourceStore`, to run the contract on it.

    Its coroutines run on an event loop in a background thread; each call
    blocks until its result is ready, so threads can call at once::

        @pytest.fixture
        def store(self):
            store = BlockingStore(MyAsyncStore())
            yield store
            store.close()

    A store whose connections belong to the event loop that opens them (such as
    :class:`~scimcore.stores.AsyncPostgresStore`) is opened on this one:
    ``BlockingStore.open(lambda: AsyncPostgresStore.open(dsn))``.
    """

    def __init__(self, store: AsyncResourceStore) -> None:
        self.store = store
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, opener: Callable[[], Coroutine[Any, Any, AsyncResourceStore]]) -> BlockingStore:
        """A BlockingStore over the store ``opener()`` opens on its event loop."""
        blocking = cls(None)  # type: ignore[arg-type]
        try:
            blocking.store = blocking._run(opener())
        except BaseException:
            blocking._stop()
            raise
        return blocking

    def __getattr__(self, name: str) -> Any:
        """The async store's shape, which the contract reads (``model``, ``models``,
        ``served_schema``: plain attributes and methods, nothing to await)."""
        if name in _SHAPE:
            return getattr(self.store, name)
        raise AttributeError(name)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def create(self, resource: T) -> T:
        """See :meth:`~scimcore.storage.ResourceStore.create`."""
        return self._run(self.store.create(resource))

    def get(self, model: type[T], resource_id: str) -> T:
        """See :meth:`~scimcore.storage.ResourceStore.get`."""
        return self._run(self.store.get(model, resource_id))

    def replace(self, resource: T, *, expected_version: str | None = None) -> T:
        """See :meth:`~scimcore.storage.ResourceStore.replace`."""
        return self._run(self.store.replace(resource, expected_version=expected_version))

    def update(
        self,
        model: type[T],
        resource_id: str,
        change: Change[T],
        *,
        expected_version: str | None = None,
    ) -> T:
        """See :func:`~scimcore.storage.update`: the async store's own ``update``, or get +
        replace."""
        return self._run(
            update_async(self.store, model, resource_id, change, expected_version=expected_version)
        )

    @property
    def update_members(self) -> Callable[..., Any]:
        """The async store's ``update_members``, blocking; absent when it has none."""
        method = getattr(self.store, "update_members", None)
        if method is None:
            raise AttributeError("update_members")

        def update_members(*args: Any, **kwargs: Any) -> Any:
            return self._run(method(*args, **kwargs))

        return update_members

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """See :meth:`~scimcore.storage.ResourceStore.delete`."""
        self._run(self.store.delete(model, resource_id, expected_version=expected_version))

    def search(self, query: Query) -> Page[Any]:
        """See :meth:`~scimcore.storage.ResourceStore.search`."""
        return self._run(self.store.search(query))

    def close(self) -> None:
        """Close the async store, then stop the loop."""
        try:
            self._run(self.store.aclose())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
