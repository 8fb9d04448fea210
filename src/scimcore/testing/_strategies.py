"""Hypothesis strategies for the differential run: users and filters made of traps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from scimcore.testing._data import ENTERPRISE, USER

__all__ = ["filters_strategy", "users_strategy"]

_EMP = f"{ENTERPRISE}:employeeNumber"

_TRAP_TEXT = (
    "",
    "a",
    "A",
    "ab",
    "AB",
    "%",
    "_",
    "a%",
    "_b",
    "\\",
    "'",
    '"',
    "é",
    "É",
    "e\u0301",
    "ß",
    "SS",
    "ss",
    "😀",
    "x y",
    "ǅ",
    "ﬁ",
    "FI",
    "İ",
    "i̇",
)


def _text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(_TRAP_TEXT),
        # an alphabet given as a string is drawn from in one step, not a character at a time
        st.text(alphabet="aAbB%_\\'\"éÉßS😀 ", max_size=4),
    )


def users_strategy() -> st.SearchStrategy[list[dict[str, Any]]]:
    """Lists of users (wire JSON) drawn from trap strings, with unique folded userNames."""
    from scimcore.storage._values import fold

    text = _text()
    maybe = st.one_of(st.none(), text)
    email = st.fixed_dictionaries(
        {},
        optional={
            "value": text,
            "type": st.sampled_from(["work", "home", "Work", ""]),
            "primary": st.booleans(),
        },
    )
    user = st.fixed_dictionaries(
        {"schemas": st.just([USER, ENTERPRISE]), "userName": text.filter(bool)},
        optional={
            "title": maybe,
            "displayName": maybe,
            "nickName": maybe,
            "externalId": maybe,
            "active": st.one_of(st.none(), st.booleans()),
            "name": st.fixed_dictionaries({}, optional={"familyName": text, "givenName": text}),
            "emails": st.lists(email, max_size=3),
            ENTERPRISE: st.fixed_dictionaries(
                {},
                optional={
                    "employeeNumber": text,
                    "manager": st.fixed_dictionaries({}, optional={"value": text}),
                },
            ),
        },
    )
    return st.lists(user, max_size=5, unique_by=lambda u: fold(u["userName"]))


_PATHS: tuple[tuple[str, str], ...] = (
    ("userName", "text"),
    ("title", "text"),
    ("displayName", "text"),
    ("nickName", "text"),
    ("externalId", "text"),
    ("active", "bool"),
    ("emails.value", "text"),
    ("emails.type", "text"),
    ("emails.primary", "bool"),
    ("emails", "text"),
    ("name.familyName", "text"),
    ("name.givenName", "text"),
    ("name", "complex"),
    (_EMP, "text"),
    (f"{ENTERPRISE}:manager.value", "text"),
    (f"{ENTERPRISE}:manager", "text"),
    ("meta.created", "date"),
    ("nosuch", "text"),
    ("schemas", "text"),
    ("id", "text"),
)
_INNER: tuple[tuple[str, str], ...] = (("value", "text"), ("type", "text"), ("primary", "bool"))


_OPS_EQ = st.sampled_from(["eq", "ne"])
_OPS_ORDER = st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"])
_OPS_ALL = st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])
_BOOLEANS = st.sampled_from(["true", "false", "null"])
_WHENS = st.sampled_from(["2000-01-01T00:00:00Z", "2999-01-01T00:00:00+05:00"])
_ONE_IN_TEN = st.integers(0, 9)


def _compare(paths: Sequence[tuple[str, str]]) -> st.SearchStrategy[str]:
    import json

    # Strategies made once, not on every draw: a new one is validated when first drawn from.
    where = st.sampled_from(paths)
    text = _text()
    maybe = st.one_of(text, st.none())

    @st.composite
    def build(draw: st.DrawFn) -> str:
        path, kind = draw(where)
        if kind == "complex" or draw(_ONE_IN_TEN) == 0:
            return f"{path} pr"
        if kind == "bool":
            return f"{path} {draw(_OPS_EQ)} {draw(_BOOLEANS)}"
        if kind == "date":
            return f'{path} {draw(_OPS_ORDER)} "{draw(_WHENS)}"'
        op = draw(_OPS_ALL)
        value: str | None = draw(maybe if op in ("eq", "ne") else text)
        return f"{path} {op} {json.dumps(value, ensure_ascii=False)}"

    return build()


def filters_strategy() -> st.SearchStrategy[str]:
    """Filter texts over the attributes :func:`users_strategy` fills, traps included."""
    leaf = st.one_of(
        _compare(_PATHS),
        st.builds(lambda f: f"emails[{f}]", _compare(_INNER)),
        st.builds(
            lambda a, b, op: f"emails[{a} {op} {b}]",
            _compare(_INNER),
            _compare(_INNER),
            st.sampled_from(["and", "or"]),
        ),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.builds(lambda f: f"not ({f})", inner),
            st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
            st.builds(lambda a, b: f"({a}) or ({b})", inner, inner),
        ),
        max_leaves=4,
    )
