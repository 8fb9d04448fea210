"""Hypothesis strategies for filters and PATCH paths (re-exported by :mod:`scimcore.strategies`).

Two kinds:

- grammar-driven text (:func:`filter_strings`, :func:`path_strings`), made by
  ``hypothesis.extra.lark.from_lark`` from ``grammar.lark`` itself, for fuzzing parsers;
- ASTs (:func:`filters`, :func:`paths`), either over made-up names or, given a resource
  model, naming its real attributes with operators their type allows and values of their
  type, for fuzzing evaluators and stores (``str()`` of one is its canonical text).

Hypothesis is imported when a strategy is made, so importing this module does not need it.
"""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scimcore.filter._ast import (
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
)
from scimcore.filter._evaluate import ALLOWED_OPERATORS
from scimcore.filter._parser import grammar
from scimcore.schema import Attribute, AttributeType, ReturnedKind

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = ["filter_strings", "filters", "path_strings", "paths", "register_types"]

_WORDS = ("work", "home", "bjensen", "Barbara", "example.com", "@example.com", "User", "")
_NAME_CHARS = string.ascii_letters + string.digits + "_-"


def _names() -> SearchStrategy[str]:
    from hypothesis import strategies as st

    first = st.sampled_from(string.ascii_letters + "$")
    rest = st.text(_NAME_CHARS, max_size=8)
    return st.builds(lambda a, b: a + b, first, rest)


def _urns() -> SearchStrategy[str]:
    from hypothesis import strategies as st

    return st.sampled_from(
        (
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "urn:example:params:scim:schemas:extension:Example:1.0",
        )
    )


def _case(name: str) -> SearchStrategy[str]:
    """``name`` as written, or in another case (names are case-insensitive)."""
    from hypothesis import strategies as st

    return st.sampled_from((name, name, name.lower(), name.upper()))


def _strings() -> SearchStrategy[str]:
    from hypothesis import strategies as st

    return st.one_of(st.sampled_from(_WORDS), st.text(max_size=12))


def _json_values() -> SearchStrategy[str | int | float | bool | None]:
    from hypothesis import strategies as st

    return st.one_of(
        _strings(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=False, allow_infinity=False),
        st.booleans(),
        st.none(),
    )


def _operators(version: int) -> tuple[str, ...]:
    ops = ("eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le")
    return tuple(op for op in ops if version == 2 or op not in ("ne", "ew"))


def _generic_leaves(version: int, *, relative: bool) -> SearchStrategy[Filter]:
    from hypothesis import strategies as st

    if relative:
        paths = st.builds(AttrPath, st.none(), _names(), st.none())
    else:
        paths = st.builds(AttrPath, st.none() | _urns(), _names(), st.none() | _names())
    compare = st.builds(Compare, paths, st.sampled_from(_operators(version)), _json_values())
    return st.one_of(compare, st.builds(Present, paths))


# ---- schema-aware ---------------------------------------------------------------------------


def _dates() -> SearchStrategy[str]:
    from hypothesis import strategies as st

    return st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat())


def _typed_values(attribute: Attribute) -> SearchStrategy[Any]:
    from hypothesis import strategies as st

    kind = attribute.type
    if kind is AttributeType.BOOLEAN:
        return st.booleans()
    if kind is AttributeType.INTEGER:
        return st.integers(-1000, 1000)
    if kind is AttributeType.DECIMAL:
        return st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-1000, 1000)
    if kind is AttributeType.DATETIME:
        return _dates()
    if attribute.canonical_values:
        return st.sampled_from(attribute.canonical_values) | _strings()
    return _strings()


def _attribute_leaves(
    path: AttrPath, attribute: Attribute, version: int
) -> list[SearchStrategy[Filter]]:
    from hypothesis import strategies as st

    if attribute.returned is ReturnedKind.NEVER:
        return []  # never filterable (check_filterable): a valid filter cannot name it
    leaves: list[SearchStrategy[Filter]] = [st.just(Present(path))]
    target = attribute
    if attribute.is_complex:
        value = attribute.sub_attribute("value")
        if value is None:
            return leaves
        target = value
    ops = [op for op in ALLOWED_OPERATORS[target.type] if op in _operators(version)]
    leaves.append(
        st.builds(
            Compare,
            st.just(path),
            st.sampled_from(ops),
            _typed_values(target) | st.none(),
        )
    )
    return leaves


def _targets(model: type) -> list[tuple[str | None, Attribute, Attribute | None]]:
    """(URN to write or None, attribute, sub-attribute) for every attribute of ``model``."""
    registry = model.scim_registry()  # type: ignore[attr-defined]
    resource_type = model.__scim_resource_type__  # type: ignore[attr-defined]
    base = registry.schema(resource_type.schema)
    found: list[tuple[str | None, Attribute, Attribute | None]] = []
    for attribute in (*base.attributes, *registry.common_attributes):
        found.append((None, attribute, None))
        found.extend((None, attribute, sub) for sub in attribute.sub_attributes)
    for urn in resource_type.extension_urns:
        for attribute in registry.schema(urn).attributes:
            found.append((urn, attribute, None))
            found.extend((urn, attribute, sub) for sub in attribute.sub_attributes)
    return found


#: The (attribute, sub-attribute) names SCIM 1.1 does not define: its codec leaves them out.
_NOT_IN_V1 = frozenset(
    {("meta", "resourceType"), ("members", "$ref"), ("groups", "$ref"), ("manager", "$ref")}
)


def _model_leaves(model: type, version: int) -> SearchStrategy[Filter]:
    from hypothesis import strategies as st

    choices: list[SearchStrategy[Filter]] = []
    for urn, attribute, sub in _targets(model):
        name, target = attribute.name, attribute if sub is None else sub
        if version == 1 and (name, None if sub is None else sub.name) in _NOT_IN_V1:
            continue  # SCIM 1.1 has no such attribute: a 1.1 server's answer is its own
        for written in {name, name.upper()}:
            path = AttrPath(urn, written, None if sub is None else sub.name)
            choices.extend(_attribute_leaves(path, target, version))
        if version == 2 and sub is None and attribute.is_complex and attribute.multi_valued:
            inner = _element_filters(attribute)
            choices.append(st.builds(ValuePath, st.just(AttrPath(urn, name, None)), inner))
    return st.one_of(choices)


def _element_filters(attribute: Attribute) -> SearchStrategy[Filter]:
    from hypothesis import strategies as st

    leaves: list[SearchStrategy[Filter]] = []
    for sub in attribute.sub_attributes:
        leaves.extend(_attribute_leaves(AttrPath(None, sub.name, None), sub, 2))
    return _combine(st.one_of(leaves), 2, max_leaves=3)


def _combine(
    leaves: SearchStrategy[Filter], version: int, *, max_leaves: int
) -> SearchStrategy[Filter]:
    from hypothesis import strategies as st

    def extend(children: SearchStrategy[Filter]) -> SearchStrategy[Filter]:
        many = st.lists(children, min_size=2, max_size=3).map(tuple)
        options: list[SearchStrategy[Filter]] = [many.map(And), many.map(Or)]
        if version == 2:
            options.append(children.map(Not))
        return st.one_of(options)

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def filters(model: type | None = None, *, version: int = 2) -> SearchStrategy[Filter]:
    """Filter ASTs; with a resource ``model``, over its real attributes and well-typed values.

    ``version=1`` keeps to the SCIM 1.1 dialect (no ``ne``, ``ew``, ``not`` or ``[…]``).
    ``str()`` of a drawn filter is its canonical text.

    >>> from hypothesis import given, settings
    >>> from scimcore.filter import compile_filter, parse_filter
    >>> from scimcore.models import User
    >>> @settings(max_examples=20, deadline=None)
    ... @given(filters(User))
    ... def round_trip(node):
    ...     assert parse_filter(str(node)) == node
    ...     compile_filter(node, User)
    >>> round_trip()
    """
    from hypothesis import strategies as st

    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, not {version!r}")
    if model is None:
        leaves = _generic_leaves(version, relative=False)
        if version == 2:
            inner = _combine(_generic_leaves(2, relative=True), 2, max_leaves=3)
            paths = st.builds(AttrPath, st.none() | _urns(), _names(), st.none())
            leaves = leaves | st.builds(ValuePath, paths, inner)
    else:
        leaves = _model_leaves(model, version)
    return _combine(leaves, version, max_leaves=6)


def paths(model: type | None = None) -> SearchStrategy[PatchPath]:
    """PATCH path ASTs (RFC 7644 §3.5.2); with ``model``, naming its real attributes.

    >>> from hypothesis import given, settings
    >>> from scimcore.filter import parse_path
    >>> @settings(max_examples=20, deadline=None)
    ... @given(paths())
    ... def round_trip(path):
    ...     assert parse_path(str(path)) == path
    >>> round_trip()
    """
    from hypothesis import strategies as st

    if model is None:
        plain = st.builds(
            PatchPath, st.builds(AttrPath, st.none() | _urns(), _names(), st.none() | _names())
        )
        inner = _combine(_generic_leaves(2, relative=True), 2, max_leaves=3)
        selected = st.builds(
            PatchPath,
            st.builds(AttrPath, st.none() | _urns(), _names(), st.none()),
            inner,
            st.none() | _names(),
        )
        return plain | selected
    choices: list[SearchStrategy[PatchPath]] = []
    for urn, attribute, sub in _targets(model):
        choices.append(
            st.just(PatchPath(AttrPath(urn, attribute.name, None if sub is None else sub.name)))
        )
        if sub is None and attribute.is_complex and attribute.multi_valued:
            choices.append(
                st.builds(
                    PatchPath,
                    st.just(AttrPath(urn, attribute.name, None)),
                    _element_filters(attribute),
                    st.none() | st.sampled_from([s.name for s in attribute.sub_attributes]),
                )
            )
    return st.one_of(choices)


# ---- grammar-driven text --------------------------------------------------------------------


def _expression_text(*, relative: bool) -> SearchStrategy[str]:
    """The text of an attrExp, for the ATTR_EXP terminal (from_lark's own is rarely valid)."""
    from hypothesis import strategies as st

    spaces = st.text(" ", min_size=1, max_size=2)
    if relative:
        path = _names()
    else:
        sub = st.none() | _names()
        path = st.builds(
            lambda u, n, s: (f"{u}:" if u else "") + n + (f".{s}" if s else ""),
            st.none() | _urns(),
            _names(),
            sub,
        )
    value = st.one_of(
        _strings().map(lambda s: json.dumps(s, ensure_ascii=False)),
        st.integers(-(10**6), 10**6).map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
        st.sampled_from(("true", "false", "null")),
    )
    operator = st.sampled_from(_operators(2)).flatmap(_case)
    present = st.builds(lambda p, s, pr: f"{p}{s}{pr}", path, spaces, _case("pr"))
    compare = st.builds(
        lambda p, s1, op, s2, v: f"{p}{s1}{op}{s2}{v}", path, spaces, operator, spaces, value
    )
    return present | compare


def _explicit() -> dict[str, SearchStrategy[str]]:
    from hypothesis import strategies as st

    spaces = st.sampled_from((" ", " ", "  "))

    def keyword(word: str) -> SearchStrategy[str]:
        return st.builds(lambda a, w, b: a + w + b, spaces, _case(word), spaces)

    return {
        "_SP": spaces,
        "_AND": keyword("and"),
        "_OR": keyword("or"),
        "NOT": _case("not"),
        "ATTR_EXP": _expression_text(relative=True) | _expression_text(relative=False),
        "SUFFIX_EXP": _expression_text(relative=True).map(lambda e: "." + e),
        "VALUE_PATH": st.builds(lambda n: n + "[", _names()),
        "ATTRPATH": st.builds(
            lambda n, s: n + (f".{s}" if s else ""), _names(), st.none() | _names()
        ),
    }


def filter_strings() -> SearchStrategy[str]:
    """Filter text drawn from ``grammar.lark`` by ``hypothesis.extra.lark.from_lark``.

    Every string follows the grammar; some break a rule the grammar leaves to the parser
    (a second sub-attribute level, a URN inside ``[…]``), so a parser must parse it or
    raise ``InvalidFilter``.
    """
    from hypothesis.extra.lark import from_lark

    return from_lark(grammar(), start="filter", explicit=_explicit())


def path_strings() -> SearchStrategy[str]:
    """PATCH path text drawn from ``grammar.lark`` (see :func:`filter_strings`)."""
    from hypothesis.extra.lark import from_lark

    explicit = {**_explicit(), "SUBATTR": _names().map(lambda n: "." + n)}
    explicit.pop("SUFFIX_EXP")
    return from_lark(grammar(), start="path", explicit=explicit)


def register_types() -> None:
    """Make ``st.from_type`` draw the filter AST classes (called by the Hypothesis hook)."""
    from hypothesis import strategies as st

    any_filter = filters()
    pairs = st.lists(any_filter, min_size=2, max_size=3).map(tuple)
    path = st.builds(AttrPath, st.none() | _urns(), _names(), st.none() | _names())
    st.register_type_strategy(AttrPath, path)
    st.register_type_strategy(
        Compare, st.builds(Compare, path, st.sampled_from(_operators(2)), _json_values())
    )
    st.register_type_strategy(Present, st.builds(Present, path))
    st.register_type_strategy(And, pairs.map(And))
    st.register_type_strategy(Or, pairs.map(Or))
    st.register_type_strategy(Not, any_filter.map(Not))
    st.register_type_strategy(
        ValuePath,
        st.builds(
            ValuePath,
            st.builds(AttrPath, st.none(), _names(), st.none()),
            _combine(_generic_leaves(2, relative=True), 2, max_leaves=3),
        ),
    )
    st.register_type_strategy(PatchPath, paths())
