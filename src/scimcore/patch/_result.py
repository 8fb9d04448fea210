"""What a PATCH did: the new resource, whether it changed, and the delta of multi-valued values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs

__all__ = ["PatchResult"]

R = TypeVar("R")


@attrs.frozen(slots=True)
class PatchResult(Generic[R]):
    """The outcome of :func:`~scimcore.patch.patch_result`.

    - ``resource``: the patched resource, a new object (the input is unchanged).
    - ``changed``: whether the patched resource differs from the input. A store
      keeps ``meta.lastModified`` and the ETag when it is false (RFC 7644 §3.5.2.1:
      an add of a value already there SHALL NOT change the modify timestamp).
    - ``attributes``: the attributes whose value changed, by name (``"members"``;
      extension attributes fully qualified, ``"urn:…:enterprise:2.0:User:manager"``).
    - ``added`` and ``removed``: for each multi-valued attribute that changed, the
      values it gained and lost (the net delta between input and output), so a
      store can write only the delta of a large group. A value whose
      sub-attributes changed counts as removed (old) and added (new).

    >>> from scimcore.models import Group, GroupMember
    >>> from scimcore.patch import patch_result
    >>> group = Group(display_name="Tour Guides", members=[GroupMember(value="u1")])
    >>> result = patch_result(group, {
    ...     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    ...     "Operations": [{"op": "add", "path": "members", "value": [{"value": "u2"}]}]})
    >>> result.changed, result.attributes
    (True, frozenset({'members'}))
    >>> [m.value for m in result.added["members"]], result.removed["members"]
    (['u2'], ())
    """

    resource: R
    changed: bool
    attributes: frozenset[str] = frozenset()
    added: Mapping[str, tuple[Any, ...]] = attrs.field(factory=dict)
    removed: Mapping[str, tuple[Any, ...]] = attrs.field(factory=dict)
