"""A filter builder: filters from Python values, never from string pasting.

``attr("userName").eq(value)`` is the AST node ``Compare``, so the value is
quoted and escaped by the AST's canonical text however it is spelled
(quotes, backslashes, ``and``...). Combine nodes with :class:`And`,
:class:`Or` and :class:`Not`, or with ``all_of``/``any_of``.

>>> f = all_of(attr("userName").eq('b "j" \\\\ or 1 eq 1'), attr("active").eq(True))
>>> print(f)
userName eq "b \\"j\\" \\\\ or 1 eq 1" and active eq true
>>> from scimcore.filter import parse_filter
>>> parse_filter(str(f)) == f
True
"""

from __future__ import annotations

from datetime import datetime

import attrs

from scimcore.filter._ast import And, AttrPath, Compare, Filter, Not, Or, Present, Value
from scimcore.filter._parser import parse_path

__all__ = ["AttrBuilder", "all_of", "any_of", "attr", "not_"]

Operand = Value


def _value(value: Operand) -> Value:
    if isinstance(value, datetime):
        raise TypeError(
            "write a dateTime as RFC 3339 text (scimcore.codecs.v2.format_datetime(value))"
        )
    return value


@attrs.frozen
class AttrBuilder:
    """The comparisons on one attribute path (``attr("emails.value")``)."""

    path: AttrPath

    def _compare(self, op: str, value: Operand) -> Compare:
        return Compare(self.path, op, _value(value))

    def eq(self, value: Operand) -> Compare:
        """``path eq value``."""
        return self._compare("eq", value)

    def ne(self, value: Operand) -> Compare:
        """``path ne value``."""
        return self._compare("ne", value)

    def co(self, value: str) -> Compare:
        """``path co value`` (contains)."""
        return self._compare("co", value)

    def sw(self, value: str) -> Compare:
        """``path sw value`` (starts with)."""
        return self._compare("sw", value)

    def ew(self, value: str) -> Compare:
        """``path ew value`` (ends with)."""
        return self._compare("ew", value)

    def gt(self, value: Operand) -> Compare:
        """``path gt value``."""
        return self._compare("gt", value)

    def ge(self, value: Operand) -> Compare:
        """``path ge value``."""
        return self._compare("ge", value)

    def lt(self, value: Operand) -> Compare:
        """``path lt value``."""
        return self._compare("lt", value)

    def le(self, value: Operand) -> Compare:
        """``path le value``."""
        return self._compare("le", value)

    def pr(self) -> Present:
        """``path pr`` (present)."""
        return Present(self.path)


def attr(path: str) -> AttrBuilder:
    """The builder for an attribute path (``name.familyName``, ``urn:…:manager.value``).

    >>> str(attr("meta.lastModified").gt("2011-05-13T04:42:34Z"))
    'meta.lastModified gt "2011-05-13T04:42:34Z"'
    """
    parsed = parse_path(path)
    if parsed.filter is not None or parsed.sub is not None:
        raise ValueError(f"not an attribute path: {path!r}")
    return AttrBuilder(parsed.path)


def all_of(*filters: Filter) -> Filter:
    """``a and b and …`` (one filter as it is)."""
    return filters[0] if len(filters) == 1 else And(filters)


def any_of(*filters: Filter) -> Filter:
    """``a or b or …`` (one filter as it is)."""
    return filters[0] if len(filters) == 1 else Or(filters)


def not_(node: Filter) -> Filter:
    """``not (node)``."""
    return Not(node)
