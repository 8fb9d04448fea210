"""The filter visitor: Transformer dispatch, Rewriter identity, walk order, equality_terms."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    walk,
)
from scimcore.filter._ast import render_value
from scimcore.filter._visit import equality_terms
from scimcore.models import Group, User
from scimcore.strategies import filters

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
ANY_FILTER = filters() | filters(User) | filters(Group)

TITLE = Present(AttrPath(None, "title", None))
WORK = Compare(AttrPath(None, "type", None), "eq", "work")
EMAILS = ValuePath(AttrPath(None, "emails", None), WORK)
# One node of each kind, and the method that handles it.
KINDS: list[tuple[Filter, str]] = [
    (WORK, "compare"),
    (TITLE, "present"),
    (And((TITLE, WORK)), "and_"),
    (Or((TITLE, WORK)), "or_"),
    (Not(TITLE), "not_"),
    (EMAILS, "value_path"),
]


class Kind(Transformer[str]):
    """Names the method each node reached."""

    def compare(self, node: Compare) -> str:
        return "compare"

    def present(self, node: Present) -> str:
        return "present"

    def and_(self, node: And) -> str:
        return "and_"

    def or_(self, node: Or) -> str:
        return "or_"

    def not_(self, node: Not) -> str:
        return "not_"

    def value_path(self, node: ValuePath) -> str:
        return "value_path"


class Render(Transformer[str]):
    """The canonical text of a filter, written independently of ``str()``."""

    def compare(self, node: Compare) -> str:
        return f"{node.path} {node.op} {render_value(node.value)}"

    def present(self, node: Present) -> str:
        return f"{node.path} pr"

    def and_(self, node: And) -> str:
        parts = (self.visit(o) for o in node.operands)
        return " and ".join(
            f"({part})" if isinstance(o, Or) else part
            for o, part in zip(node.operands, parts, strict=True)
        )

    def or_(self, node: Or) -> str:
        return " or ".join(self.visit(o) for o in node.operands)

    def not_(self, node: Not) -> str:
        return f"not ({self.visit(node.operand)})"

    def value_path(self, node: ValuePath) -> str:
        return f"{node.path}[{self.visit(node.filter)}]"


class Copy(Rewriter):
    """Every leaf replaced by an equal, new node: the rewrite changes identity, not meaning."""

    def compare(self, node: Compare) -> Filter:
        return attrs.evolve(node)

    def present(self, node: Present) -> Filter:
        return attrs.evolve(node)


def preorder(node: Filter, *, into_value_paths: bool = True) -> Iterator[Filter]:
    """Parents before children, by plain recursion (the reference for ``walk``)."""
    yield node
    if isinstance(node, And | Or):
        for operand in node.operands:
            yield from preorder(operand, into_value_paths=into_value_paths)
    elif isinstance(node, Not):
        yield from preorder(node.operand, into_value_paths=into_value_paths)
    elif isinstance(node, ValuePath) and into_value_paths:
        yield from preorder(node.filter, into_value_paths=into_value_paths)


def count(node: Filter) -> int:
    """How many nodes a filter has, counted without walk or the visitor."""
    if isinstance(node, And | Or):
        return 1 + sum(count(operand) for operand in node.operands)
    if isinstance(node, Not):
        return 1 + count(node.operand)
    if isinstance(node, ValuePath):
        return 1 + count(node.filter)
    return 1


# -- Transformer ---------------------------------------------------------------------------


@pytest.mark.parametrize(("node", "method"), KINDS, ids=[m for _, m in KINDS])
def test_each_kind_dispatches_to_its_method(node: Filter, method: str) -> None:
    assert Kind().visit(node) == method
    assert Kind()(node) == method


@pytest.mark.parametrize(("node", "method"), KINDS, ids=[m for _, m in KINDS])
def test_a_kind_without_a_method_is_not_implemented(node: Filter, method: str) -> None:
    class Nothing(Transformer[int]):
        pass

    with pytest.raises(NotImplementedError) as caught:
        Nothing().visit(node)
    assert str(caught.value) == f"Nothing does not handle {type(node).__name__}"
    with pytest.raises(NotImplementedError) as caught:
        Transformer[int]().visit(node)
    assert str(caught.value) == f"Transformer does not handle {type(node).__name__}"


def test_a_partial_transformer_fails_at_the_first_node_it_lacks() -> None:
    class LeavesOnly(Transformer[int]):
        def compare(self, node: Compare) -> int:
            return 1

    assert LeavesOnly()(WORK) == 1
    with pytest.raises(NotImplementedError) as caught:
        LeavesOnly()(parse_filter("a eq 1 or b eq 2"))
    assert str(caught.value) == "LeavesOnly does not handle Or"


@pytest.mark.parametrize(
    "value",
    ["title pr", AttrPath(None, "title", None), None, ("a", "b")],
    ids=["text", "AttrPath", "None", "tuple"],
)
def test_a_value_that_is_not_a_node_is_a_type_error(value: object) -> None:
    with pytest.raises(TypeError) as caught:
        Kind().visit(value)  # type: ignore[arg-type]
    assert str(caught.value) == f"not a filter node: {value!r}"


def test_a_subclass_of_a_node_kind_is_not_a_node() -> None:
    """Dispatch is by exact type: a stranger's subclass is refused, never guessed."""

    @attrs.frozen(slots=True, repr=False)
    class Loose(Present):
        pass

    with pytest.raises(TypeError) as caught:
        Kind()(Loose(AttrPath(None, "title", None)))
    assert str(caught.value) == "not a filter node: Present(AttrPath(None, 'title', None))"


def test_calling_uses_an_overridden_visit() -> None:
    class Counting(Kind):
        def __init__(self) -> None:
            self.seen = 0

        def visit(self, node: Filter) -> str:
            self.seen += 1
            return super().visit(node)

    counting = Counting()
    assert counting(TITLE) == "present"
    assert counting.seen == 1


def test_a_method_visits_only_the_children_it_wants_in_its_order() -> None:
    class Order(Transformer[None]):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def compare(self, node: Compare) -> None:
            self.seen.append(str(node))

        def and_(self, node: And) -> None:
            for operand in reversed(node.operands):
                self.visit(operand)

        def or_(self, node: Or) -> None:
            self.visit(node.operands[0])  # the others are never visited

    order = Order()
    order(parse_filter("a eq 1 and (b eq 2 or c eq 3) and d eq 4"))
    assert order.seen == ["d eq 4", "b eq 2", "a eq 1"]


def test_state_for_a_value_path_lives_on_a_new_instance() -> None:
    """The pattern the evaluator and the SQL compilers use for ``a[…]``."""

    class Qualified(Transformer[list[str]]):
        def __init__(self, parent: str | None = None) -> None:
            self.parent = parent

        def compare(self, node: Compare) -> list[str]:
            return [str(node.path) if self.parent is None else f"{self.parent}.{node.path}"]

        def and_(self, node: And) -> list[str]:
            return [name for o in node.operands for name in self.visit(o)]

        def value_path(self, node: ValuePath) -> list[str]:
            return Qualified(str(node.path)).visit(node.filter)

    node = parse_filter('userName eq "b" and emails[type eq "work" and value eq "x"]')
    assert Qualified()(node) == ["userName", "emails.type", "emails.value"]


@SETTINGS
@given(ANY_FILTER)
def test_rendering_transformer_gives_the_canonical_text(node: Filter) -> None:
    assert Render()(node) == str(node)


# -- Rewriter ------------------------------------------------------------------------------


@pytest.mark.parametrize(("node", "method"), KINDS, ids=[m for _, m in KINDS])
def test_rewriter_returns_each_kind_unchanged_as_the_same_object(node: Filter, method: str) -> None:
    assert Rewriter()(node) is node


@SETTINGS
@given(ANY_FILTER)
def test_identity_rewriter_returns_the_same_object(node: Filter) -> None:
    assert Rewriter()(node) is node


@SETTINGS
@given(ANY_FILTER)
def test_rewriting_every_leaf_rebuilds_an_equal_filter(node: Filter) -> None:
    rewritten = Copy()(node)
    assert rewritten == node
    assert str(rewritten) == str(node)
    assert rewritten is not node


class Rename(Rewriter):
    """``title`` becomes ``nickName``; every other node is left alone."""

    def present(self, node: Present) -> Filter:
        if node.path.name != "title":
            return node
        return Present(AttrPath(None, "nickName", None))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title pr and a pr", "nickName pr and a pr"),
        ("a pr or title pr", "a pr or nickName pr"),
        ("not (title pr)", "not (nickName pr)"),
        ("emails[title pr]", "emails[nickName pr]"),
    ],
)
def test_rewriter_rebuilds_only_the_spine_above_a_change(text: str, expected: str) -> None:
    node = parse_filter(text)
    rewritten = Rename()(node)
    assert str(rewritten) == expected
    assert type(rewritten) is type(node)
    if isinstance(node, And | Or):
        assert isinstance(rewritten, And | Or)
        untouched = [o for o in node.operands if str(o) == "a pr"]
        assert [o for o in rewritten.operands if o is untouched[0]] == untouched


def test_rewriter_keeps_and_and_or_flat() -> None:
    class Split(Rewriter):
        def present(self, node: Present) -> Filter:
            return And((node, Present(AttrPath(None, "extra", None))))

    rewritten = Split()(parse_filter("a pr and b eq 1"))
    assert rewritten == And(
        (
            Present(AttrPath(None, "a", None)),
            Present(AttrPath(None, "extra", None)),
            Compare(AttrPath(None, "b", None), "eq", 1),
        )
    )


# -- walk ----------------------------------------------------------------------------------


def test_walk_is_parents_first_left_to_right() -> None:
    node = parse_filter('a pr and (b eq 1 or not (c pr)) and emails[type eq "w" and value pr]')
    assert [str(n) for n in walk(node)] == [
        str(node),
        "a pr",
        "b eq 1 or not (c pr)",
        "b eq 1",
        "not (c pr)",
        "c pr",
        'emails[type eq "w" and value pr]',
        'type eq "w" and value pr',
        'type eq "w"',
        "value pr",
    ]
    assert [str(n) for n in walk(node, into_value_paths=False)][-1] == (
        'emails[type eq "w" and value pr]'
    )


def test_walk_of_a_leaf_is_the_leaf() -> None:
    assert list(walk(WORK)) == [WORK]


@SETTINGS
@given(ANY_FILTER, st.booleans())
def test_walk_visits_every_node_once_in_preorder(node: Filter, into_value_paths: bool) -> None:
    walked = list(walk(node, into_value_paths=into_value_paths))
    expected = list(preorder(node, into_value_paths=into_value_paths))
    assert [id(n) for n in walked] == [id(n) for n in expected]
    if into_value_paths:
        assert len(walked) == count(node)


# -- equality_terms ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('type eq "work"', ['type eq "work"']),
        ('type eq "work" and primary eq true', ['type eq "work"', "primary eq true"]),
        ('type eq "work" and VALUE eq 1', ['type eq "work"', "VALUE eq 1"]),
        ('type eq "work" or primary eq true', None),
        ('type ne "work"', None),
        ("type eq null", None),
        ('type eq "work" and primary eq null', None),
        ('name.givenName eq "B"', None),
        ('urn:x:type eq "work"', None),
        ('type eq "work" and display pr', None),
        ('type eq "work" and not (primary eq true)', None),
        ("type pr", None),
        ('emails[type eq "work"]', None),
    ],
)
def test_equality_terms(text: str, expected: list[str] | None) -> None:
    terms = equality_terms(parse_filter(text))
    assert (None if terms is None else [str(t) for t in terms]) == expected
