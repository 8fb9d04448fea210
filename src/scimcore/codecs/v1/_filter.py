"""SCIM 1.1 filters (Protocol 1.1 §3.2.2.1) read into, and written from, the one filter AST.

The 1.1 dialect is parsed by :func:`scimcore.filter.parse_filter` with
``version=1`` (no ``ne``, ``ew``, ``not`` or ``[…]``); this module maps the
attribute paths of the result onto the 2.0 model (URNs, ``manager.managerId``)
so the same evaluator and the same SQL compilers run it. The other way, a 2.0
filter that 1.1 cannot say raises :class:`NotExpressibleIn11`; it is never
loosened into a filter that matches more.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from scimcore.codecs.v1._translate import URN_ALIASES, name_to_v1, name_to_v2, split_name
from scimcore.errors import InvalidValue
from scimcore.filter import (
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Rewriter,
    Transformer,
    ValuePath,
    parse_filter,
)
from scimcore.models._base import Resource
from scimcore.policy import Policy

__all__ = ["NotExpressibleIn11", "decode_filter", "encode_filter", "map_paths"]


class NotExpressibleIn11(InvalidValue):
    """A SCIM 2.0 construct that SCIM 1.1 has no way to say (``ne``, ``not``, a valuePath…)."""

    default_detail = "This cannot be expressed in SCIM 1.1."


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')
_DOTTED_URN = re.compile(
    "(" + "|".join(re.escape(urn) for urn in URN_ALIASES) + r")\.(?=[A-Za-z])", re.IGNORECASE
)


def _colon_after_urns(text: str) -> str:
    """``urn:scim:schemas:extension:enterprise:1.0.department`` -> ``…:1.0:department``,
    outside string literals only."""
    out: list[str] = []
    position = 0
    for literal in _STRING.finditer(text):
        out.append(_DOTTED_URN.sub(r"\1:", text[position : literal.start()]))
        out.append(literal.group())
        position = literal.end()
    out.append(_DOTTED_URN.sub(r"\1:", text[position:]))
    return "".join(out)


def _path_text(path: AttrPath) -> str:
    text = path.name + ("" if path.sub is None else f".{path.sub}")
    return text if path.urn is None else f"{path.urn}:{text}"


def _path_from_text(text: str) -> AttrPath:
    urn, name, sub = split_name(text)
    return AttrPath(urn, name, sub)


class _RenamePaths(Rewriter):
    """Every attribute path renamed; paths inside ``[…]`` are relative and kept."""

    def __init__(self, rename: Callable[[str], str]) -> None:
        self.rename = rename

    def _path(self, path: AttrPath) -> AttrPath:
        return _path_from_text(self.rename(_path_text(path)))

    def compare(self, node: Compare) -> Filter:
        return Compare(self._path(node.path), node.op, node.value)

    def present(self, node: Present) -> Filter:
        return Present(self._path(node.path))

    def value_path(self, node: ValuePath) -> Filter:
        return ValuePath(self._path(node.path), node.filter)


def map_paths(node: Filter, rename: Callable[[str], str]) -> Filter:
    """``node`` with every attribute path rewritten by ``rename`` (a function of path text).

    The sub-attribute names inside ``[…]`` are relative to the bracketed path and
    are not renamed.

    >>> str(map_paths(parse_filter('title pr and emails[type eq "work"]'), str.upper))
    'TITLE pr and EMAILS[type eq "work"]'
    """
    return _RenamePaths(rename).visit(node)


def decode_filter(text: str, model: type[Resource], *, policy: Policy | None = None) -> Filter:
    """Parse a SCIM 1.1 filter into the (2.0) filter AST of ``model``.

    1.1 URNs become 2.0 URNs (attributes of the base schema lose theirs),
    ``manager.managerId`` becomes ``manager.value``, and ``.`` is accepted
    after a 1.1 extension URN. ``ne``, ``ew``, ``not`` and ``[…]`` are
    ``invalidFilter``: they are not SCIM 1.1.

    >>> from scimcore.models import User
    >>> node = decode_filter('urn:scim:schemas:extension:enterprise:1.0.manager.managerId eq "2"'
    ...                      ' and urn:scim:schemas:core:1.0:userName sw "b"', User)
    >>> print(node)
    urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "2" and
    userName sw "b"
    """
    node = parse_filter(_colon_after_urns(text), version=1, policy=policy)
    return map_paths(node, lambda name: name_to_v2(name, model))


class _Check11(Transformer[None]):
    """Raises :class:`NotExpressibleIn11` at the first construct SCIM 1.1 has no word for."""

    def compare(self, node: Compare) -> None:
        if node.op in ("ne", "ew"):
            raise NotExpressibleIn11(f"SCIM 1.1 filters have no '{node.op}' operator: {node}")
        if node.value is None:
            raise NotExpressibleIn11(f"SCIM 1.1 filters have no null literal: {node}")

    def present(self, node: Present) -> None:
        pass

    def and_(self, node: And) -> None:
        for operand in node.operands:
            self.visit(operand)

    def or_(self, node: Or) -> None:
        for operand in node.operands:
            self.visit(operand)

    def not_(self, node: Not) -> None:
        raise NotExpressibleIn11(f"SCIM 1.1 filters have no 'not': {node}")

    def value_path(self, node: ValuePath) -> None:
        raise NotExpressibleIn11(f"SCIM 1.1 filters have no value filters ('[…]'): {node}")


def encode_filter(node: Filter | str, model: type[Resource]) -> str:
    """The SCIM 1.1 text of a filter (a 2.0 AST or 2.0 text) over ``model``.

    Raises :class:`NotExpressibleIn11` for ``ne``, ``ew``, ``not``, a
    valuePath or ``null``: rewriting them would change what matches.

    >>> from scimcore.models import User
    >>> encode_filter('userName eq "x" and title pr', User)
    'userName eq "x" and title pr'
    >>> encode_filter('userName ne "x"', User)
    Traceback (most recent call last):
    ...
    scimcore.codecs.v1._filter.NotExpressibleIn11: SCIM 1.1 filters have no 'ne' operator:
    userName ne "x"
    """
    if isinstance(node, str):
        node = parse_filter(node)
    _Check11().visit(node)
    return str(map_paths(node, lambda name: name_to_v1(name, model)))
