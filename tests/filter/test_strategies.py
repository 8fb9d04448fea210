"""The strategies, and the properties they exist for: parse or InvalidFilter; round trips."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark.exceptions import LarkError

from scimcore import InvalidFilter, InvalidPath, Policy
from scimcore.filter import (
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    compile_filter,
    parse_filter,
    parse_path,
    walk,
)
from scimcore.models import Group, User
from scimcore.strategies import filter_strings, filters, path_strings, paths

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
# from_lark derives long texts (it does not bound recursion), so fewer of them.
GRAMMAR_SETTINGS = settings(SETTINGS, max_examples=20)
POLICIES = st.sampled_from([Policy(), Policy.strict()])


@pytest.mark.slow
@GRAMMAR_SETTINGS
@given(filter_strings(), POLICIES, st.sampled_from([1, 2]))
def test_generated_text_parses_or_is_an_invalid_filter(
    text: str, policy: Policy, version: int
) -> None:
    try:
        parsed = parse_filter(text, policy=policy, version=version)
    except InvalidFilter as error:
        located = (error.source, error.span is not None)
        assert located == (text, True)
        return
    assert parse_filter(str(parsed), policy=policy, version=version) == parsed


@pytest.mark.slow
@GRAMMAR_SETTINGS
@given(path_strings())
def test_generated_paths_parse_or_are_invalid(text: str) -> None:
    try:
        parsed = parse_path(text)
    except (InvalidPath, InvalidFilter):
        return
    assert parse_path(str(parsed)) == parsed


@SETTINGS
@given(st.text(alphabet='ab eqnotrpand()[]".:$\\0123-', max_size=30) | st.text(max_size=20))
def test_arbitrary_text_parses_or_is_an_invalid_filter(text: str) -> None:
    with contextlib.suppress(InvalidFilter):
        parse_filter(text)
    with contextlib.suppress(InvalidPath, InvalidFilter):
        parse_path(text)


@pytest.mark.slow
@SETTINGS
@given(filters() | filters(version=1))
def test_generic_asts_round_trip(node: Filter) -> None:
    assert parse_filter(str(node), policy=Policy.strict()) == node


@pytest.mark.slow
@SETTINGS
@given(filters(User) | filters(Group))
def test_schema_aware_asts_round_trip_and_compile(node: Filter) -> None:
    assert parse_filter(str(node)) == node
    compile_filter(node, User)  # every drawn filter is valid for its model...


@pytest.mark.slow
@SETTINGS
@given(filters(User, version=1))
def test_scim_11_asts_parse_in_the_scim_11_dialect(node: Filter) -> None:
    assert parse_filter(str(node), version=1) == node
    # Nor do they name what SCIM 1.1 does not define (found by `scimcore check` against a
    # 1.1 endpoint: `meta.resourceType pr`, whose answer 1.1 leaves to the server).
    named = {str(n.path).casefold() for n in walk(node) if hasattr(n, "path")}
    assert not {p for p in named if p.endswith(("meta.resourcetype", ".$ref"))}, named


@SETTINGS
@given(paths() | paths(User) | paths(Group))
def test_paths_round_trip(path: PatchPath) -> None:
    assert parse_path(str(path)) == path


def test_filters_refuses_an_unknown_version() -> None:
    with pytest.raises(ValueError, match="version must be 1 or 2, not 3"):
        filters(version=3)


@pytest.mark.parametrize("kind", [AttrPath, Compare, Present, And, Or, Not, ValuePath, PatchPath])
def test_registered_for_from_type(kind: type) -> None:
    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_type(kind))
    def draw(value: object) -> None:
        assert isinstance(value, kind)

    draw()


@GRAMMAR_SETTINGS
@given(filter_strings() | filters().map(str))
def test_the_fast_path_and_lark_agree(text: str) -> None:
    """The one-regex lexer and table loop give what Lark's contextual parser gives."""
    from scimcore.filter import _parser

    token = _parser._OPTIONS.set(_parser._Options(text, 2, Policy()))
    try:
        try:
            fast: object = _parser._drive(_parser._tables("filter"), text, 0, len(text))
        except (_parser._NoMatch, InvalidFilter) as error:
            fast = type(error)
        try:
            lark: object = _parser._checking_parser().parse(text, start="filter")
        except (LarkError, InvalidFilter) as error:
            lark = _parser._NoMatch if isinstance(error, LarkError) else type(error)
    finally:
        _parser._OPTIONS.reset(token)
    assert fast == lark


def test_public_names() -> None:
    import scimcore.filter

    assert scimcore.filter.__all__ == [
        "ALLOWED_OPERATORS",
        "FANOUT",
        "MAX_DEPTH",
        "MAX_LENGTH",
        "OPERATORS",
        "And",
        "AttrBuilder",
        "AttrPath",
        "Compare",
        "Filter",
        "Not",
        "Or",
        "PatchPath",
        "Present",
        "Rewriter",
        "Transformer",
        "Value",
        "ValuePath",
        "all_of",
        "any_of",
        "attr",
        "check_filterable",
        "compile_filter",
        "compile_value_filter",
        "filter_cost",
        "fold",
        "grammar",
        "not_",
        "parse_filter",
        "parse_path",
        "walk",
    ]
    assert dir(scimcore.filter) == sorted(scimcore.filter.__all__)
