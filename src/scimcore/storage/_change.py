"""The update contract: what a change is, and what every store does with one.

:func:`scimcore.storage.update` and the ``update`` of every store take
``change`` in one of two forms:

- a :class:`~scimcore.patch.PatchResult`: the outcome of a PATCH computed on
  the resource as it was read. The store writes ``result.resource`` only over
  that very version (``result.resource.meta.version``); over any other it
  raises :class:`~scimcore.errors.PreconditionFailed`, so a write made in
  between is never lost;
- a function of the stored resource, returning the new resource (or a
  ``PatchResult``). A store that :class:`~scimcore.storage.SupportsUpdate` runs
  it on the state it holds, under its lock, so concurrent changes are
  serialised rather than lost or refused.

``expected_version`` (an ``If-Match`` value) is checked first, with
:func:`~scimcore.storage.versions_match`. *Nothing changed* (a ``PatchResult``
whose ``changed`` is false, or a new resource whose wire document equals the
stored one but for ``meta``) writes nothing: the stored resource comes back
with its version and ``lastModified`` (RFC 7644 §3.5.2: a PATCH that changes
nothing does not change the resource's version).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, TypeVar

from scimcore.errors import PreconditionFailed
from scimcore.patch import PatchResult
from scimcore.storage._etag import versions_match

__all__ = ["Change", "apply_change", "check_version", "same_but_meta"]

R = TypeVar("R")

#: A change of one resource: a PatchResult, or a function old → new (or → PatchResult).
Change: TypeAlias = PatchResult[R] | Callable[[R], "R | PatchResult[R]"]


def check_version(expected_version: str | None, version: str | None) -> None:
    """Raise :class:`~scimcore.errors.PreconditionFailed` unless ``version`` is expected.

    >>> check_version('W/"x", W/"3"', 'W/"3"')
    >>> check_version('W/"2"', 'W/"3"')
    Traceback (most recent call last):
    scimcore.errors.PreconditionFailed: The resource has changed on the server.
    """
    if not versions_match(expected_version, version):
        raise PreconditionFailed()


def apply_change(change: Change[R], current: R, expected_version: str | None) -> R | None:
    """The resource ``change`` makes of ``current`` (the stored resource), or ``None``
    when it is a :class:`~scimcore.patch.PatchResult` that changed nothing.

    Checks ``expected_version`` against ``current`` first, and a ``PatchResult``'s
    own version (see the module docstring). A function may change ``current`` in
    place: a store passes a copy. Whether a function's result differs from the
    stored resource is the store's to see (:func:`same_but_meta` on their wire
    documents).

    >>> from scimcore.models import Meta, User
    >>> from scimcore.patch import PatchResult
    >>> stored = User(id="1", user_name="bjensen", meta=Meta(version='W/"3"'))
    >>> apply_change(lambda user: User(id="1", user_name="babs"), stored, 'W/"3"').user_name
    'babs'
    >>> apply_change(PatchResult(stored, changed=False), stored, None) is None
    True
    >>> older = User(id="1", user_name="babs", meta=Meta(version='W/"2"'))
    >>> apply_change(PatchResult(older, changed=True), stored, None)
    Traceback (most recent call last):
    scimcore.errors.PreconditionFailed: The resource has changed on the server.
    """
    meta = getattr(current, "meta", None)
    version = None if meta is None else meta.version
    check_version(expected_version, version)
    if isinstance(change, PatchResult):
        base = getattr(getattr(change.resource, "meta", None), "version", None)
        if base is not None:
            check_version(base, version)
        result: Any = change
    else:
        result = change(current)
        if not isinstance(result, PatchResult):
            return result  # type: ignore[no-any-return]
    return result.resource if result.changed else None


def same_but_meta(new: Mapping[str, Any], old: Mapping[str, Any]) -> bool:
    """Whether two wire documents hold the same resource, ``meta`` aside.

    >>> same_but_meta({"userName": "a", "meta": {"version": 'W/"2"'}},
    ...               {"meta": {"version": 'W/"1"'}, "userName": "a"})
    True
    """
    if len(new) - ("meta" in new) != len(old) - ("meta" in old):
        return False
    return all(key == "meta" or old.get(key, _ABSENT) == value for key, value in new.items())


_ABSENT = object()
