"""The AST: construction rules, equality, canonical text (scimcore.filter._ast)."""

from __future__ import annotations

import pytest

from scimcore.filter import (
    OPERATORS,
    And,
    AttrPath,
    Compare,
    Not,
    Or,
    PatchPath,
    Present,
    ValuePath,
    parse_filter,
)


def p(name: str, sub: str | None = None, urn: str | None = None) -> AttrPath:
    return AttrPath(urn, name, sub)


A, B, C = Present(p("a")), Present(p("b")), Present(p("c"))


class TestConstruction:
    def test_and_or_flatten_nested_operands_of_their_own_kind(self) -> None:
        assert And((And((A, B)), C)).operands == (A, B, C)
        assert Or((A, Or((B, C)))).operands == (A, B, C)
        assert And((Or((A, B)), C)).operands == (Or((A, B)), C)

    @pytest.mark.parametrize("kind", [And, Or])
    def test_and_or_need_two_operands(self, kind: type[And] | type[Or]) -> None:
        with pytest.raises(ValueError, match="needs two operands or more"):
            kind((A,))

    def test_unknown_operator_is_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown comparison operator 'regex'"):
            Compare(p("a"), "regex", 1)

    def test_operators_are_the_nine_of_rfc7644_table3(self) -> None:
        assert sorted(OPERATORS) == ["co", "eq", "ew", "ge", "gt", "le", "lt", "ne", "sw"]

    @pytest.mark.parametrize("value", [float("nan"), float("inf")])
    def test_values_are_finite(self, value: float) -> None:
        with pytest.raises(ValueError, match="finite"):
            Compare(p("a"), "eq", value)

    def test_values_are_json_scalars(self) -> None:
        with pytest.raises(TypeError, match="JSON scalar, not list"):
            Compare(p("a"), "eq", [1])  # type: ignore[arg-type]

    def test_nodes_are_frozen(self) -> None:
        with pytest.raises(AttributeError):
            A.path = p("b")  # type: ignore[misc]


class TestEquality:
    def test_names_compare_case_insensitively_and_keep_their_spelling(self) -> None:
        written = AttrPath("URN:IETF:params:scim:schemas:core:2.0:User", "USERNAME", None)
        assert written == AttrPath("urn:ietf:params:scim:schemas:core:2.0:User", "userName", None)
        assert hash(written) == hash(
            p("userName", urn="urn:ietf:params:scim:schemas:core:2.0:user")
        )
        assert str(written) == "URN:IETF:params:scim:schemas:core:2.0:User:USERNAME"

    def test_values_compare_by_type(self) -> None:
        assert Compare(p("a"), "eq", 1) != Compare(p("a"), "eq", 1.0)
        assert Compare(p("a"), "eq", 1) != Compare(p("a"), "eq", True)
        assert Compare(p("a"), "eq", "x") != Compare(p("a"), "eq", "X")
        assert Compare(p("a"), "eq", 0.5) == Compare(p("A"), "eq", 0.5)

    def test_patch_path_sub_compares_case_insensitively(self) -> None:
        assert PatchPath(p("members"), A, "DISPLAY") == PatchPath(p("Members"), A, "display")


class TestCanonicalText:
    @pytest.mark.parametrize(
        ("node", "text"),
        [
            (Compare(p("userName"), "eq", "bjensen"), 'userName eq "bjensen"'),
            (Compare(p("a"), "eq", 'q"u\\o\n'), r'a eq "q\"u\\o\n"'),
            (Compare(p("a"), "eq", "é"), 'a eq "é"'),
            (Compare(p("a"), "ge", 10), "a ge 10"),
            (Compare(p("a"), "lt", -1.5), "a lt -1.5"),
            (Compare(p("a"), "lt", 1e300), "a lt 1e+300"),
            (Compare(p("a"), "eq", None), "a eq null"),
            (Compare(p("a"), "ne", False), "a ne false"),
            (Present(p("name", "givenName")), "name.givenName pr"),
            (And((A, Or((B, C)))), "a pr and (b pr or c pr)"),
            (Or((A, And((B, C)))), "a pr or b pr and c pr"),
            (Not(Or((A, B))), "not (a pr or b pr)"),
            (And((Not(A), B)), "not (a pr) and b pr"),
            (
                ValuePath(p("emails"), And((Compare(p("type"), "eq", "work"), Not(A)))),
                'emails[type eq "work" and not (a pr)]',
            ),
            (PatchPath(p("members")), "members"),
            (PatchPath(p("emails"), A, None), "emails[a pr]"),
            (PatchPath(p("emails"), A, "value"), "emails[a pr].value"),
        ],
    )
    def test_str(self, node: object, text: str) -> None:
        assert str(node) == text

    def test_repr_shows_the_constructor(self) -> None:
        node = Not(ValuePath(p("emails"), Or((A, B))))
        assert repr(node) == (
            "Not(ValuePath(AttrPath(None, 'emails', None), "
            "Or((Present(AttrPath(None, 'a', None)), Present(AttrPath(None, 'b', None))))))"
        )
        assert repr(And((A, B))) == (
            "And((Present(AttrPath(None, 'a', None)), Present(AttrPath(None, 'b', None))))"
        )
        assert repr(PatchPath(p("x"))) == "PatchPath(AttrPath(None, 'x', None), None, None)"

    def test_canonical_text_parses_back(self) -> None:
        node = Or((And((Not(Or((A, B))), C)), ValuePath(p("x"), Compare(p("y"), "sw", "z"))))
        assert parse_filter(str(node)) == node
