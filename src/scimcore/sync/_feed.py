"""Changes pushed as they happen: a service hook that feeds the same engine.

:class:`ChangeFeed` is a :class:`scimcore.service.Hooks` whose ``after_write`` (called once the
store committed a create, replace, PATCH or delete) notes the resource's type and id. A host
hands the notes to :meth:`Sync.plan` (``changes=feed.drain()``) to sync exactly those resources,
seconds after they changed, between the full or incremental runs that catch everything else.
"""

from __future__ import annotations

import threading
from typing import Any

from scimcore.service import Context, Hooks

__all__ = ["ChangeFeed"]


class ChangeFeed(Hooks):
    """Service hooks that note each committed write, for :meth:`Sync.plan`'s ``changes``.

    A host with hooks of its own subclasses it (and calls ``super().after_write``).

    >>> import json
    >>> from scimcore.service import Request, ScimService
    >>> from scimcore.stores import MemoryStore
    >>> feed = ChangeFeed()
    >>> service = ScimService(MemoryStore(), hooks=feed)
    >>> body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen"}
    >>> created = service.handle(Request("POST", "/Users", body=json.dumps(body).encode()))
    >>> changes = feed.drain()
    >>> list(changes) == ["User"] and changes["User"] == [created.json()["id"]]
    True
    >>> feed.drain()
    {}
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[str, dict[str, None]] = {}

    def after_write(self, ctx: Context, action: str, resource: Any) -> None:
        kind = getattr(getattr(resource, "meta", None), "resource_type", None)
        kind = kind or type(resource).__name__
        with self._lock:
            self._changes.setdefault(str(kind), {})[str(resource.id)] = None

    def drain(self) -> dict[str, list[str]]:
        """The ids noted since the last drain, by resource type (each once, in order)."""
        with self._lock:
            changes, self._changes = self._changes, {}
        return {kind: list(ids) for kind, ids in changes.items()}
