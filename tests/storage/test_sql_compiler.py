"""The filter-to-SQL compiler: pinned SQL semantics, and SQL text independent of values."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scimcore.errors import InvalidFilter
from scimcore.filter import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath
from scimcore.policy import Policy
from scimcore.schema import USER_RESOURCE_TYPE, core_schemas
from scimcore.stores.sql import FilterCompiler, SQLiteDialect, compile_where, search_document

REGISTRY = core_schemas()
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def path(text: str) -> AttrPath:
    urn, colon, rest = text.rpartition(":")
    name, _, sub = rest.partition(".")
    return AttrPath(urn if colon else None, name, sub or None)


def cmp(text: str, op: str, value: Any) -> Compare:
    return Compare(path(text), op, value)


def matches(node: Filter, doc: dict[str, Any], policy: Policy | None = None) -> bool:
    """Run a compiled filter against one wire document in an in-memory SQLite."""
    fragment = compile_where(node, USER_RESOURCE_TYPE, REGISTRY, policy=policy)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE r (rid INTEGER PRIMARY KEY, sdoc TEXT)")
    db.execute("CREATE TABLE scim_lookup (key, value, rid)")
    sdoc = search_document(doc, USER_RESOURCE_TYPE, REGISTRY)
    db.execute("INSERT INTO r VALUES (1, ?)", (json.dumps(sdoc),))
    found = db.execute(f"SELECT count(*) FROM r WHERE {fragment.sql}", dict(fragment.params))
    return bool(found.fetchone()[0])


BJENSEN = {
    "userName": "BJensen",
    "title": "",
    "active": False,
    "emails": [{"type": "work", "value": "a@x.com"}, {"type": "home", "value": "b@example.com"}],
    "name": {"givenName": "Barbara"},
    "meta": {"lastModified": "2011-05-13T05:00:00+02:00"},
    ENTERPRISE: {"employeeNumber": "701984"},
}


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        # RFC 7643 §2.2: caseExact false compares case-insensitively
        (cmp("userName", "eq", "bjensen"), True),
        # RFC 7644 §3.4.2.2: sw/co/ew, identical strings satisfy sw
        (cmp("userName", "sw", "BJ"), True),
        (cmp("userName", "co", "ens"), True),
        (cmp("userName", "ew", "sen"), True),
        (cmp("userName", "sw", "bjensen"), True),
        (cmp("userName", "ew", ""), True),
        (cmp("userName", "co", "%"), False),
        (cmp("userName", "sw", "_"), False),
        # RFC 7644 §3.4.2.2: dateTimes compare chronologically, not lexically
        (cmp("meta.lastModified", "gt", "2011-05-13T04:42:34Z"), False),
        (cmp("meta.lastModified", "lt", "2011-05-13T04:42:34Z"), True),
        # RFC 7644 §3.4.2.2: any value of a multi-valued attribute vs one element
        (cmp("emails.value", "co", "example.com"), True),
        (
            ValuePath(
                path("emails"), And((cmp("type", "eq", "work"), cmp("value", "co", "example.com")))
            ),
            False,
        ),
        (And((cmp("emails.type", "eq", "work"), cmp("emails.value", "co", "example.com"))), True),
        # RFC 7644 §3.4.2.2: pr, no value, null, "" and [] are absent
        (Present(path("title")), False),
        (Present(path("nickName")), False),
        (Present(path("phoneNumbers")), False),
        (Present(path("active")), True),
        (Present(path("name")), True),
        # RFC 7644 §3.4.2.2: a complex attribute without a sub-attribute compares its value
        (cmp("emails", "co", "example.com"), True),
        # RFC 7644 §3.4.2.2: ne is not eq; null is absence
        (cmp("nickName", "ne", "x"), True),
        (cmp("emails.type", "ne", "work"), False),
        (cmp("nickName", "eq", None), True),
        (cmp("nickName", "ne", None), False),
        (cmp("title", "gt", None), False),
        # string booleans (interop)
        (cmp("active", "eq", "False"), True),
        # unknown attribute is absent
        (cmp("nosuch", "eq", "x"), False),
        (cmp("nosuch", "ne", "x"), False),
        (Not(Present(path("nosuch"))), True),
        (cmp("nosuch", "eq", None), False),
        # extension
        (cmp(f"{ENTERPRISE}:employeeNumber", "eq", "701984"), True),
        (Or((cmp("userName", "eq", "x"), cmp("title", "eq", ""))), True),
    ],
    ids=str,
)
def test_semantics_pinned(node: Filter, expected: bool) -> None:
    assert matches(node, BJENSEN) is expected


@pytest.mark.parametrize(
    "node",
    [
        cmp("active", "gt", True),  # RFC 7644 §3.4.2.2: no order on booleans
        cmp("x509Certificates.value", "lt", "MII"),  # nor on binaries
        cmp("name", "eq", "x"),  # a complex attribute without value
        cmp("userName", "eq", 5),
        cmp("active", "co", "t"),
        cmp("meta.created", "gt", "yesterday"),
        ValuePath(path("emails"), ValuePath(path("x"), Present(path("y")))),
    ],
    ids=str,
)
def test_invalid_filters(node: Filter) -> None:
    with pytest.raises(InvalidFilter):
        compile_where(node, USER_RESOURCE_TYPE, REGISTRY)


def test_unknown_attribute_is_an_error_under_strict() -> None:
    with pytest.raises(InvalidFilter):
        compile_where(
            cmp("nosuch", "eq", "x"), USER_RESOURCE_TYPE, REGISTRY, policy=Policy.strict()
        )
    with pytest.raises(InvalidFilter):
        compile_where(
            ValuePath(path("emails"), Present(path("nosuch"))),
            USER_RESOURCE_TYPE,
            REGISTRY,
            policy=Policy.strict(),
        )


def test_eq_on_an_indexed_lookup_is_an_index_seek() -> None:
    compiler = FilterCompiler(USER_RESOURCE_TYPE, REGISTRY, lookups={"user/username"})
    fragment = compiler.compile(cmp("userName", "eq", "BJensen"))
    assert fragment.sql == "r.rid IN (SELECT rid FROM scim_lookup WHERE key = :p1 AND value = :p2)"
    assert (fragment.params["p1"], fragment.params["p2"]) == ("user/username", "bjensen")


def test_like_is_never_used() -> None:
    for op in ("co", "sw", "ew"):
        sql = compile_where(cmp("title", op, "50%_"), USER_RESOURCE_TYPE, REGISTRY).sql
        assert "LIKE" not in sql.upper()


# -- the SQL text never depends on a value -------------------------------------------------

ADVERSARIAL = st.one_of(
    st.text(),
    st.sampled_from(
        ["'", "''", '"', "\\", "%", "_", "'; DROP TABLE r; --", "$.a", ":p0", "?", "\x00"]
    ),
)
KNOWN = [
    "userName",
    "title",
    "active",
    "emails.value",
    "emails.type",
    "emails",
    "name.givenName",
    "meta.lastModified",
    "x509Certificates.value",
    f"{ENTERPRISE}:employeeNumber",
    "schemas",
]
NAMES = st.one_of(
    st.sampled_from(KNOWN),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_$-]{0,10}", fullmatch=True),
)


@st.composite
def leaves(draw: st.DrawFn) -> Filter:
    name = draw(NAMES)
    if draw(st.booleans()):
        return Present(path(name))
    op = draw(st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]))
    value = draw(
        st.one_of(
            ADVERSARIAL,
            st.integers(),
            st.booleans(),
            st.none(),
            st.floats(allow_nan=False, allow_infinity=False),
        )
    )
    return Compare(path(name), op, value)


filters = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda a, b: And((a, b)), inner, inner),
        st.builds(lambda a, b: Or((a, b)), inner, inner),
        st.builds(Not, inner),
    ),
    max_leaves=5,
)


def _canonical(value: Any) -> Any:
    """A fixed value of the same JSON type: what the SQL text may depend on."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return 0
    if isinstance(value, float):
        return 0.5
    return "2000-01-01T00:00:00Z"


def _replace_values(node: Filter, swap: Any) -> Filter:
    if isinstance(node, Compare):
        return attrs.evolve(node, value=swap(node.value))
    if isinstance(node, And | Or):
        return type(node)(tuple(_replace_values(o, swap) for o in node.operands))
    if isinstance(node, Not):
        return Not(_replace_values(node.operand, swap))
    if isinstance(node, ValuePath):
        return ValuePath(node.path, _replace_values(node.filter, swap))
    return node


def _sql(node: Filter) -> str | type[Exception]:
    try:
        return compile_where(node, USER_RESOURCE_TYPE, REGISTRY).sql
    except InvalidFilter:
        return InvalidFilter


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(filters)
def test_sql_text_never_depends_on_a_value(node: Filter) -> None:
    """Same shape, any values: same SQL; values reach the database only as parameters."""
    sql = _sql(node)
    canonical = _sql(_replace_values(node, _canonical))
    if sql is InvalidFilter or canonical is InvalidFilter:
        return  # a value of the wrong type is refused, whatever the text
    assert sql == canonical
    assert isinstance(sql, str)


@settings(max_examples=200, deadline=None)
@given(NAMES, NAMES, ADVERSARIAL)
def test_unknown_attribute_names_never_reach_the_sql(a: str, b: str, value: str) -> None:
    sql_a = _sql(Compare(path(a), "eq", value))
    sql_b = _sql(Compare(path(b), "eq", value))
    if a not in KNOWN and b not in KNOWN:
        assert sql_a == sql_b == "0"


def test_dialect_is_the_seam() -> None:
    compiler = FilterCompiler(USER_RESOURCE_TYPE, REGISTRY, dialect=SQLiteDialect())
    assert compiler.dialect.param("p0") == ":p0"


class _DialectWithoutEquals:
    """A dialect written before ``Dialect.equals`` existed."""

    def __getattr__(self, name: str) -> Any:
        if name == "equals":
            raise AttributeError(name)
        return getattr(SQLiteDialect(), name)


def test_eq_is_one_is_test_in_sqlite_and_guarded_without_equals() -> None:
    from scimcore.schema import USER_RESOURCE_TYPE, core_schemas
    from scimcore.stores.sql import compile_where

    node = Compare(AttrPath(None, "emails", "value"), "eq", "x")
    new = compile_where(node, USER_RESOURCE_TYPE, core_schemas()).sql
    old = compile_where(
        node,
        USER_RESOURCE_TYPE,
        core_schemas(),
        dialect=_DialectWithoutEquals(),
    ).sql
    assert "json_extract(e1.value, :p1) IS :p2" in new
    assert "json_extract(e1.value, :p1) IS NOT NULL AND json_extract(e1.value, :p1) = :p2" in old
