"""The protocol's ``update``, written once for the sync stores; what a member delta and
a whole-list rewrite change in a store that keeps list elements in rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeVar

import attrs

from scimcore.patch import PatchResult
from scimcore.storage._change import Change

__all__ = ["MemberDelta", "NativeUpdate", "element_key", "member_delta", "rows_to_rewrite"]

R = TypeVar("R")


class NativeUpdate:
    """:class:`~scimcore.storage.SupportsUpdate` for a store that changes a resource under
    its own lock or in its own transaction: it implements :meth:`_update`."""

    def update(
        self,
        model: type[R],
        resource_id: str,
        change: Change[R],
        *,
        expected_version: str | None = None,
    ) -> R:
        """Read, change and write one resource atomically (the store-native PATCH).

        ``change`` is a :class:`~scimcore.patch.PatchResult` or a function of the
        stored resource (see :func:`scimcore.storage.update`); when nothing
        changed, nothing is written, and the stored resource comes back with its
        version.
        """
        return self._update(model, resource_id, change, expected_version)

    def _update(
        self, model: type[R], resource_id: str, change: Change[R], expected_version: str | None
    ) -> R:
        raise NotImplementedError  # pragma: no cover


@attrs.frozen
class MemberDelta:
    """What a member PATCH adds and removes, each member keyed as the store compares them."""

    #: The members added (model objects), in order, and their keys.
    added: list[Any]
    added_keys: list[Any]
    #: The keys of the members removed.
    removed_keys: list[Any]


def member_delta(
    result: PatchResult[Any], present: Collection[Any], key: Callable[[str], Any]
) -> MemberDelta | None:
    """The delta ``result`` makes of a group's ``members``, keyed by ``key(value)``; ``None``
    when a delta cannot be exact (an added value twice, or one that ``present``, the keys
    of the members the store loaded, holds and the PATCH does not remove): the service then
    patches the whole group. A ``result`` that changes more than ``members`` is a bug.

    >>> from scimcore.models import Group, GroupMember
    >>> from scimcore.patch import patch_result
    >>> op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    >>> result = patch_result(Group(display_name="g", members=[GroupMember(value="A")]), {
    ...     "schemas": [op], "Operations": [{"op": "add", "path": "members", "value": [
    ...     {"value": "b"}]}, {"op": "remove", "path": 'members[value eq "a"]'}]})
    >>> delta = member_delta(result, {"a"}, str.casefold)
    >>> delta.added_keys, delta.removed_keys
    (['b'], ['a'])
    """
    if result.attributes - {"members"}:
        raise ValueError("update_members: the change is not a member delta")
    added = list(result.added.get("members", ()))
    added_keys = [key(m.value) for m in added]
    removed_keys = [key(m.value) for m in result.removed.get("members", ())]
    if len(set(added_keys)) != len(added_keys) or any(
        k in present and k not in removed_keys for k in added_keys
    ):
        return None
    return MemberDelta(added, added_keys, removed_keys)


def element_key(element: Any) -> Any:
    """A hashable key equal for equal elements of a multi-valued attribute (a wire
    document's), whatever their key order.

    >>> element_key({"value": "a", "type": "User"}) == element_key({"type": "User", "value": "a"})
    True
    """
    if isinstance(element, dict):
        try:
            return frozenset(element.items())
        except TypeError:  # a nested value: its JSON
            pass
    return json.dumps(element, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def rows_to_rewrite(old: Sequence[Any], new: Sequence[Any]) -> tuple[list[int], int]:
    """What a store that keeps each element of a list in a row of its own, in order,
    rewrites to make the list ``old`` into ``new``: the positions in ``old`` whose rows
    are deleted, and how many elements of ``new`` (a prefix) are the rows kept, so that
    ``new[kept:]`` is appended. The old elements still in ``new``, in the same order, keep
    their rows; an old element not in ``new`` loses its row; from the first one out of
    order on, the rest is rewritten. Appending to or removing from a large list keeps
    every other row; the order is always ``new``'s.

    >>> rows_to_rewrite(["a", "b", "c"], ["a", "c", "d"])  # b removed, d appended
    ([1], 2)
    >>> rows_to_rewrite(["b"], ["a", "b"])  # a put first: b is rewritten after it
    ([0], 0)
    """
    wanted = {element_key(element) for element in new}
    gone: list[int] = []
    kept = index = 0
    while index < len(old) and kept < len(new):
        if old[index] == new[kept]:
            kept += 1
        elif element_key(old[index]) not in wanted:
            gone.append(index)
        else:
            break
        index += 1
    return gone + list(range(index, len(old))), kept
