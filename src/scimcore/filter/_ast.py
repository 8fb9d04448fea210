"""The filter AST: frozen attrs nodes with a canonical ``str()``.

Theory of operation:

1. Nodes are immutable values (``attrs.frozen``): equal nodes mean the same
   filter. Attribute names are kept exactly as written (``str()`` shows them
   unchanged) but compare case-insensitively, as RFC 7643 §2.1 and RFC 7644
   §3.10 ask, so ``Username eq "x"`` and ``userName eq "x"`` are equal nodes.
2. ``And`` and ``Or`` are n-ary and flattened: ``And((And((a, b)), c))`` *is*
   ``And((a, b, c))``; they always hold two operands or more.
3. ``str(node)`` is the canonical text: lower-case operators and keywords, one
   space between tokens, JSON literals (``true``, ``null``, escaped strings),
   ``not (…)`` and only the parentheses precedence needs (``and`` binds tighter
   than ``or``). ``parse_filter(str(f)) == f`` for every node.
4. Comparison values compare by type as well as value: ``eq 1``, ``eq 1.0``
   and ``eq true`` are three different filters.
5. Inside a :class:`ValuePath`, paths are relative to the bracketed attribute:
   ``AttrPath(None, "type", None)`` in ``emails[type eq "work"]`` names
   ``emails.type``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import TypeAlias

import attrs

__all__ = [
    "OPERATORS",
    "And",
    "AttrPath",
    "Compare",
    "Filter",
    "Not",
    "Or",
    "PatchPath",
    "Present",
    "Value",
    "ValuePath",
    "set_member",
]

#: The comparison operators of RFC 7644 §3.4.2.2 Table 3, in canonical (lower) case.
OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})

Value: TypeAlias = str | int | float | bool | None


def _folded(name: str | None) -> str | None:
    return None if name is None else name.casefold()


def _typed(value: object) -> tuple[str, object]:
    # bool is an int and 1 == 1.0 in Python; filters tell them apart.
    return (type(value).__name__, value)


def render_value(value: Value) -> str:
    """A comparison value as filter text (a JSON literal).

    >>> render_value('a"b'), render_value(None), render_value(True), render_value(1.5)
    ('"a\\\\"b"', 'null', 'true', '1.5')
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


@attrs.frozen(slots=True, repr=False)
class AttrPath:
    """An attribute path: ``[urn ":"] name ["." sub]`` (RFC 7644 §3.4.2.2 ``attrPath``).

    Names are kept as written; equality ignores case.

    >>> path = AttrPath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ...                 "manager", "value")
    >>> str(path)
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value'
    >>> AttrPath(None, "userName", None) == AttrPath(None, "USERNAME", None)
    True
    """

    urn: str | None = attrs.field(eq=_folded)
    name: str = attrs.field(eq=str.casefold)
    sub: str | None = attrs.field(default=None, eq=_folded)

    @property
    def dotted(self) -> str:
        """The path without its URN (``name.givenName``)."""
        return self.name if self.sub is None else f"{self.name}.{self.sub}"

    def __str__(self) -> str:
        return self.dotted if self.urn is None else f"{self.urn}:{self.dotted}"

    def __repr__(self) -> str:
        return f"AttrPath({self.urn!r}, {self.name!r}, {self.sub!r})"


def _check_op(instance: Compare, attribute: attrs.Attribute[str], op: str) -> None:
    if op not in OPERATORS:
        raise ValueError(f"unknown comparison operator {op!r}")


def _check_value(instance: Compare, attribute: attrs.Attribute[Value], value: Value) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("a filter value must be a finite number")
    if value is not None and not isinstance(value, str | int | float):
        raise TypeError(f"a filter value must be a JSON scalar, not {type(value).__name__}")


@attrs.frozen(slots=True, repr=False)
class Compare:
    """``path op value``: an attribute comparison (RFC 7644 §3.4.2.2 ``attrExp``).

    >>> str(Compare(AttrPath(None, "userName", None), "eq", "bjensen"))
    'userName eq "bjensen"'
    """

    path: AttrPath
    op: str = attrs.field(validator=_check_op)
    value: Value = attrs.field(eq=_typed, validator=_check_value)

    def __str__(self) -> str:
        return f"{self.path} {self.op} {render_value(self.value)}"

    def __repr__(self) -> str:
        return f"Compare({self.path!r}, {self.op!r}, {self.value!r})"


@attrs.frozen(slots=True, repr=False)
class Present:
    """``path pr``: the attribute has a non-empty value.

    >>> str(Present(AttrPath(None, "title", None)))
    'title pr'
    """

    path: AttrPath

    def __str__(self) -> str:
        return f"{self.path} pr"

    def __repr__(self) -> str:
        return f"Present({self.path!r})"


def _flatten(operands: Iterable[Filter], kind: type[And | Or]) -> tuple[Filter, ...]:
    flat: list[Filter] = []
    for operand in operands:
        if isinstance(operand, kind):
            flat.extend(operand.operands)
        else:
            flat.append(operand)
    return tuple(flat)


def _flatten_and(operands: Iterable[Filter]) -> tuple[Filter, ...]:
    return _flatten(operands, And)


def _flatten_or(operands: Iterable[Filter]) -> tuple[Filter, ...]:
    return _flatten(operands, Or)


def _at_least_two(instance: And | Or, attribute: object, operands: tuple[Filter, ...]) -> None:
    if len(operands) < 2:
        raise ValueError(f"{type(instance).__name__} needs two operands or more")


@attrs.frozen(slots=True, repr=False)
class And:
    """``a and b and …``: every operand holds. Nested ``And`` operands are flattened.

    >>> a, b, c = (Present(AttrPath(None, n, None)) for n in "abc")
    >>> And((And((a, b)), c)) == And((a, b, c))
    True
    >>> str(And((Or((a, b)), c)))
    '(a pr or b pr) and c pr'
    """

    operands: tuple[Filter, ...] = attrs.field(converter=_flatten_and, validator=_at_least_two)

    def __str__(self) -> str:
        return " and ".join(f"({o})" if isinstance(o, Or) else str(o) for o in self.operands)

    def __repr__(self) -> str:
        return f"And({self.operands!r})"


@attrs.frozen(slots=True, repr=False)
class Or:
    """``a or b or …``: some operand holds. Nested ``Or`` operands are flattened.

    >>> a, b, c = (Present(AttrPath(None, n, None)) for n in "abc")
    >>> str(Or((a, And((b, c)))))
    'a pr or b pr and c pr'
    """

    operands: tuple[Filter, ...] = attrs.field(converter=_flatten_or, validator=_at_least_two)

    def __str__(self) -> str:
        return " or ".join(str(o) for o in self.operands)

    def __repr__(self) -> str:
        return f"Or({self.operands!r})"


@attrs.frozen(slots=True, repr=False)
class Not:
    """``not (f)``: plain boolean negation of ``f``.

    >>> str(Not(Present(AttrPath(None, "title", None))))
    'not (title pr)'
    """

    operand: Filter

    def __str__(self) -> str:
        return f"not ({self.operand})"

    def __repr__(self) -> str:
        return f"Not({self.operand!r})"


@attrs.frozen(slots=True, repr=False)
class ValuePath:
    """``path[filter]``: one element of ``path`` satisfies the whole of ``filter``.

    Paths inside ``filter`` are relative to ``path``.

    >>> work = Compare(AttrPath(None, "type", None), "eq", "work")
    >>> str(ValuePath(AttrPath(None, "emails", None), work))
    'emails[type eq "work"]'
    """

    path: AttrPath
    filter: Filter

    def __str__(self) -> str:
        return f"{self.path}[{self.filter}]"

    def __repr__(self) -> str:
        return f"ValuePath({self.path!r}, {self.filter!r})"


#: A filter expression: the union of the filter node classes.
Filter: TypeAlias = Compare | Present | And | Or | Not | ValuePath


@attrs.frozen(slots=True, repr=False)
class PatchPath:
    """A PATCH ``path`` (RFC 7644 §3.5.2 Figure 7): ``attrPath`` or ``valuePath [subAttr]``.

    >>> members = AttrPath(None, "members", None)
    >>> value = Compare(AttrPath(None, "value", None), "eq", "2819c223")
    >>> str(PatchPath(members, value, "display"))
    'members[value eq "2819c223"].display'
    >>> str(PatchPath(AttrPath(None, "name", "familyName"), None, None))
    'name.familyName'
    """

    path: AttrPath
    filter: Filter | None = None
    sub: str | None = attrs.field(default=None, eq=_folded)

    def __str__(self) -> str:
        text = str(self.path)
        if self.filter is not None:
            text = f"{text}[{self.filter}]"
        if self.sub is not None:
            text = f"{text}.{self.sub}"
        return text

    def __repr__(self) -> str:
        return f"PatchPath({self.path!r}, {self.filter!r}, {self.sub!r})"


def set_member(node: Filter) -> str | None:
    """For ``attr eq "string"``: its path's key (case-insensitive), which the ``eq`` terms
    of an ``or`` share when they can be tested as one set lookup; else ``None``.

    >>> from scimcore.filter import parse_filter
    >>> set_member(parse_filter('ID eq "1"')), set_member(parse_filter('id eq 1'))
    ('id', None)
    """
    if isinstance(node, Compare) and node.op == "eq" and isinstance(node.value, str):
        return str(node.path).casefold()
    return None
