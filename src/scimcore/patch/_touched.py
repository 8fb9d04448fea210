"""Which elements a PATCH can touch: what lets a store apply a member change as a delta.

A PATCH that only adds elements to a multi-valued attribute, or removes elements
named by ``value``, touches only the elements with those values: applied to the
resource with just those elements, it gives the same ``added`` and ``removed``
as applied to the whole resource. So a store can load the few elements named,
run the PATCH on them, and write the delta, without reading the whole member
list of a large group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scimcore.errors import ScimError
from scimcore.filter import AttrPath, Compare, Filter, Or
from scimcore.patch import _bridge
from scimcore.patch._request import MISSING, operations
from scimcore.policy import Policy

__all__ = ["touched_values"]


def touched_values(
    patch: Any, attribute: str, policy: Policy | None = None
) -> frozenset[str] | None:
    """The ``value`` of every element of ``attribute`` that ``patch`` may touch, when every
    operation adds elements to it or removes elements of it by ``value``; else ``None``.

    The shapes (RFC 7644 §3.5.2.1 and §3.5.2.2, and Entra's removal by a value list):
    ``add`` with ``path`` ``attribute`` and a list of elements that each have a
    string ``value``; ``remove`` with ``path`` ``attribute[value eq "…"]`` (or an
    ``or`` of such terms); ``remove`` with ``path`` ``attribute`` and a list of
    elements with a ``value``. Anything else (a ``replace``, a removal of every
    element, a filter on another sub-attribute, a malformed request, one value both
    added and removed) is ``None``: the PATCH must see the whole resource (and a
    malformed one gets its error there).

    >>> op = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    >>> sorted(touched_values({"schemas": [op], "Operations": [
    ...     {"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
    ...     {"op": "remove", "path": 'members[value eq "u3"]'}]}, "members"))
    ['u1', 'u2', 'u3']
    >>> touched_values({"schemas": [op], "Operations": [
    ...     {"op": "replace", "path": "members", "value": [{"value": "u1"}]}]}, "members") is None
    True
    """
    policy = policy or Policy()
    try:
        ops = operations(patch, policy)
    except ScimError:
        return None
    if not ops:
        return None
    values: set[str] = set()
    added: set[str] = set()
    removed: set[str] = set()
    name = attribute.casefold()
    for operation in ops:
        if operation.path is None:
            return None
        try:
            path = _bridge.parse_path(operation.path, policy)
        except ScimError:
            return None
        if not _names(path.path, name) or path.sub is not None:
            return None
        if path.filter is None:
            if operation.op not in ("add", "remove"):
                return None
            named = _element_values(operation.value)
        elif operation.op == "remove" and operation.value is MISSING:
            named = _filter_values(path.filter)
        else:
            return None
        if named is None:
            return None
        values.update(named)
        (added if operation.op == "add" else removed).update(v.casefold() for v in named)
    if added & removed:
        # Removed and added again, an element moves to the end of the list: the few
        # elements named cannot show that. (Values compared folded: never too few.)
        return None
    return frozenset(values)


def _names(path: AttrPath, name: str) -> bool:
    return path.urn is None and path.sub is None and path.name.casefold() == name


def _element_values(value: Any) -> list[str] | None:
    """The ``value`` of each element of a list of elements, or ``None``."""
    if not isinstance(value, list) or not value:
        return None
    named = []
    for element in value:
        if not isinstance(element, Mapping):
            return None
        item = element.get("value")
        if not isinstance(item, str):
            return None
        named.append(item)
    return named


def _filter_values(node: Filter) -> list[str] | None:
    """The values of ``value eq "…"`` (or an ``or`` of them), or ``None``."""
    if isinstance(node, Or):
        named: list[str] = []
        for operand in node.operands:
            values = _filter_values(operand)
            if values is None:
                return None
            named += values
        return named
    if (
        isinstance(node, Compare)
        and node.op == "eq"
        and isinstance(node.value, str)
        and _names(node.path, "value")
    ):
        return [node.value]
    return None
