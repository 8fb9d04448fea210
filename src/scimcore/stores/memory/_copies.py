"""Copies: a store hands out copies and never keeps what it is given.

:func:`clone` copies a model value, :func:`json_copy` a wire document; both
are several times faster than ``copy.deepcopy`` or encoding the model again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = ["clone", "json_copy"]


def json_copy(document: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON object (three times faster than encoding the model again)."""
    out = {}
    for key, value in document.items():
        kind = type(value)
        if kind is dict:
            value = json_copy(value)
        elif kind is list:
            value = _json_list_copy(value)
        out[key] = value
    return out


def _json_list_copy(items: list[Any]) -> list[Any]:
    return [
        json_copy(item)
        if type(item) is dict
        else _json_list_copy(item)
        if type(item) is list
        else item
        for item in items
    ]


#: Values a clone shares: immutable.
_ATOMS = frozenset({str, int, float, bool, type(None), bytes, datetime})
#: Per class: the (attribute, __init__ argument) of each init field; None: not attrs.
_CLONE_PLANS: dict[type[Any], tuple[tuple[str, str], ...] | None] = {}


def clone(value: Any) -> Any:
    """A deep copy of a model value: attrs instances, lists and dicts are rebuilt.

    Faster than ``copy.deepcopy``, and right for attrs classes made at run time.
    """
    kind = type(value)
    if kind in _ATOMS:
        return value
    if isinstance(value, list):
        return [clone(item) for item in value]
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    try:
        plan = _CLONE_PLANS[kind]
    except KeyError:
        plan = _CLONE_PLANS[kind] = (
            tuple((field.name, field.alias) for field in attrs.fields(kind) if field.init)
            if attrs.has(kind)
            else None
        )
    if plan is None:
        return value
    arguments = {}
    for name, alias in plan:
        item = getattr(value, name)
        arguments[alias] = item if type(item) in _ATOMS else clone(item)
    return kind(**arguments)
