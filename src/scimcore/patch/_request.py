"""The PATCH request envelope (RFC 7644 §3.5.2): from a ``PatchOp`` or its JSON to operations.

The envelope rules, each with the error it raises:

- the body is a JSON object (``invalidSyntax``);
- ``schemas`` lists ``urn:ietf:params:scim:api:messages:2.0:PatchOp`` (``invalidSyntax``);
- ``Operations`` (any case) is present (``invalidValue``, as the codec says of a missing
  required attribute), a list (``invalidSyntax``) of one or more operations (empty:
  ``invalidValue``, or nothing to do under ``Policy(empty_operations="no-op")``);
- each operation is an object whose ``op`` is ``add``, ``remove`` or ``replace`` in any
  case (Entra sends ``"Replace"``; anything else, such as JSON Patch's ``move``, is
  ``invalidSyntax``); ``path``, when present, is a string (``invalidPath``).

Member names are matched case-insensitively (RFC 7643 §2.1), as every name in SCIM.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from scimcore.errors import InvalidPath, InvalidSyntax, InvalidValue
from scimcore.policy import Policy

__all__ = ["MISSING", "PATCH_OP_SCHEMA", "Operation", "operations"]

PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OPS = frozenset({"add", "remove", "replace"})


class _Missing:
    """The absence of a ``value`` member (distinct from JSON ``null``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@attrs.frozen(slots=True)
class Operation:
    """One PATCH operation, normalised: lower-case ``op``, raw JSON ``value``.

    ``index`` is its position in ``Operations``, used in error locations.
    """

    op: str
    path: str | None
    value: Any
    index: int

    @property
    def location(self) -> str:
        """The JSON path of this operation in the request body."""
        return f"$.Operations[{self.index}]"


def _member(data: Mapping[str, Any], name: str) -> Any:
    if name in data:
        return data[name]
    folded = name.casefold()
    for key, value in data.items():
        if isinstance(key, str) and key.casefold() == folded:
            return value
    return MISSING


def _operation(raw: Any, index: int) -> Operation:
    location = f"$.Operations[{index}]"
    if not isinstance(raw, Mapping):
        raise InvalidSyntax("A PATCH operation must be an object.", location=location)
    op = _member(raw, "op")
    if not isinstance(op, str) or op.casefold() not in OPS:
        raise InvalidSyntax(
            f"'op' must be one of 'add', 'remove' or 'replace', not {json.dumps(op)}."
            if op is not MISSING
            else "A PATCH operation needs an 'op'.",
            location=f"{location}.op",
        )
    path = _member(raw, "path")
    if path is MISSING or path is None:
        path = None
    elif not isinstance(path, str):
        raise InvalidPath("'path' must be a string.", location=f"{location}.path")
    return Operation(op.casefold(), path, _member(raw, "value"), index)


def _from_model(patch: Any) -> list[Operation]:
    result = []
    for index, item in enumerate(patch.operations or ()):
        op = getattr(item, "op", None)
        op = getattr(op, "value", op)
        if not isinstance(op, str) or op.casefold() not in OPS:
            raise InvalidSyntax(
                f"'op' must be one of 'add', 'remove' or 'replace', not {op!r}.",
                location=f"$.Operations[{index}].op",
            )
        value = getattr(item, "value", MISSING)
        path = getattr(item, "path", None)
        if path is not None and not isinstance(path, str):
            raise InvalidPath("'path' must be a string.", location=f"$.Operations[{index}].path")
        result.append(Operation(op.casefold(), path, value, index))
    return result


def operations(patch: Any, policy: Policy) -> list[Operation]:
    """The operations of a PATCH request, validated as an envelope.

    ``patch`` is a JSON object (a mapping, or JSON text) or a ``PatchOp`` model
    (anything with an ``operations`` sequence whose items have ``op``, ``path``
    and ``value``).

    >>> ops = operations({"schemas": [PATCH_OP_SCHEMA],
    ...                   "Operations": [{"op": "Replace", "path": "title", "value": "X"}]},
    ...                  Policy())
    >>> ops[0].op, ops[0].path, ops[0].value
    ('replace', 'title', 'X')
    """
    if isinstance(patch, str | bytes | bytearray):
        try:
            patch = json.loads(patch)
        except ValueError as exc:
            raise InvalidSyntax(f"The PATCH body is not JSON: {exc}.") from None
    if isinstance(patch, Mapping):
        schemas = _member(patch, "schemas")
        if not isinstance(schemas, Sequence) or isinstance(schemas, str):
            raise InvalidSyntax(
                f"A PATCH request must list '{PATCH_OP_SCHEMA}' in 'schemas'.",
                location="$.schemas",
            )
        if not any(
            isinstance(s, str) and s.casefold() == PATCH_OP_SCHEMA.casefold() for s in schemas
        ):
            raise InvalidSyntax(
                f"A PATCH request must list '{PATCH_OP_SCHEMA}' in 'schemas'.",
                location="$.schemas",
            )
        raw_ops = _member(patch, "Operations")
        if raw_ops is MISSING or raw_ops is None:
            raise InvalidValue(
                "The required attribute 'Operations' is missing.", location="$.Operations"
            )
        if not isinstance(raw_ops, Sequence) or isinstance(raw_ops, str | bytes):
            raise InvalidSyntax("'Operations' must be a list.", location="$.Operations")
        result = [_operation(raw, index) for index, raw in enumerate(raw_ops)]
    elif hasattr(patch, "operations"):
        result = _from_model(patch)
    else:
        raise InvalidSyntax("A PATCH request must be a JSON object.", location="$")
    if not result and policy.empty_operations == "error":
        raise InvalidValue(
            "'Operations' must hold one or more operations (RFC 7644 §3.5.2).",
            location="$.Operations",
        )
    return result
