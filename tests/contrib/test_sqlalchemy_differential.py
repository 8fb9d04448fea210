"""MappedStore's push-down against the evaluator: generated users, filters and sorts.

For every generated filter the rows the database selects are exactly those
``compile_filter`` accepts among the stored users, and a generated sort gives
the order the shipped stores give (missing values last, ties by creation).
Text is drawn from letters whose case folding is not ``lower()``: ``ß``/``ẞ``
(``ss``), the three sigmas, ``İ``, the ``ﬁ`` ligature, the Kelvin sign, ``é``
composed and decomposed, an emoji, beside ASCII and LIKE's ``%`` and ``_``, the
escape character and quotes: the database compares through ``scimcore_fold``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete

from scimcore.contrib.sqlalchemy import MappedStore
from scimcore.filter import compile_filter, fold, parse_filter
from scimcore.models import Email, EnterpriseUser, Name, User
from scimcore.storage import Query
from tests.contrib._host import ACCOUNTS, ENTERPRISE, Account

pytestmark = pytest.mark.slow

#: Letters whose case folding differs from lower(), and what LIKE treats specially.
_LETTERS = "aAbsS%_/\\'\u00dfẞΣσςİiıﬁ\u212akKéÉ\u0301😀"
_TEXT = st.one_of(
    st.sampled_from(
        [
            *("", "a", "A", "ab", "aB", "%", "_", "a%", "_b", "/", "\\", "'", "é", "e\u0301"),
            *("ss", "SS", "ß", "ẞ", "Σ", "σ", "ς", "İ", "i\u0307", "ﬁ", "fi", "\u212a", "k", "😀"),
        ]
    ),
    st.text(alphabet=st.sampled_from(_LETTERS), max_size=3),
)
_MAYBE = st.none() | _TEXT


@st.composite
def _users(draw: st.DrawFn) -> User:
    emails = []
    for kind in ("work", "home"):
        value = draw(_MAYBE)
        if value:
            emails.append(Email(value=value, type=kind))
    user = User(
        user_name=draw(_TEXT.filter(bool)),
        external_id=draw(_MAYBE),
        display_name=draw(_MAYBE),
        name=Name(given_name=draw(_MAYBE), family_name=draw(_MAYBE)),
        emails=draw(st.permutations(emails)),
        active=draw(st.none() | st.booleans()),
    )
    number = draw(_MAYBE)
    if number is not None:
        user[EnterpriseUser] = EnterpriseUser(employee_number=number)
    return user


_TEXT_PATHS = [
    "userName",
    "externalId",
    "displayName",
    "name.givenName",
    "name.familyName",
    "emails",
    "emails.value",
    "emails.type",
    f"{ENTERPRISE}:employeeNumber",
]
_TEXT_OPS = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]


def _literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _comparisons() -> st.SearchStrategy[str]:
    text = st.builds(
        lambda path, op, value: f"{path} {op} {_literal(value)}",
        st.sampled_from(_TEXT_PATHS),
        st.sampled_from(_TEXT_OPS),
        st.none() | _TEXT | st.sampled_from(["work", "home", "WORK"]),
    )
    present = st.builds(
        lambda path: f"{path} pr", st.sampled_from([*_TEXT_PATHS, "name", "active"])
    )
    active = st.builds(
        lambda op, value: f"active {op} {_literal(value)}",
        st.sampled_from(["eq", "ne"]),
        st.none() | st.booleans(),
    )
    inner = st.builds(
        lambda sub, op, value: f"{sub} {op} {_literal(value)}",
        st.sampled_from(["value", "type"]),
        st.sampled_from(_TEXT_OPS),
        _TEXT | st.sampled_from(["work", "home"]),
    )
    value_path = st.builds(
        lambda a, joiner, b: f"emails[{a} {joiner} {b}]" if joiner else f"emails[{a}]",
        inner,
        st.sampled_from(["", "and", "or"]),
        inner | st.sampled_from(["value pr", "not (type pr)"]),
    )
    return st.one_of(text, present, active, value_path)


_FILTERS = st.recursive(
    _comparisons(),
    lambda children: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", children, children),
        st.builds(lambda a, b: f"({a}) or ({b})", children, children),
        st.builds(lambda a: f"not ({a})", children),
    ),
    max_leaves=4,
)
_SORTS = st.sampled_from(
    [None, "userName", "externalId", "displayName", "name.familyName", "emails", "active"]
)


def _sort_value(user: User, sort_by: str) -> Any:
    if sort_by == "emails":
        value: Any = user.emails[0].value if user.emails else None
    elif sort_by == "name.familyName":
        value = user.name.family_name if user.name else None
    else:
        value = getattr(
            user,
            {"userName": "user_name", "externalId": "external_id"}.get(
                sort_by, "display_name" if sort_by == "displayName" else sort_by
            ),
        )
    if value is None or value == "":
        return (True, "")
    folded = fold(value) if isinstance(value, str) and sort_by != "externalId" else value
    return (False, folded)


def _clear(store: Any) -> None:
    """Empty the host table (SQLAlchemy or Django)."""
    if isinstance(store, MappedStore):
        with store.sessions.begin() as session:
            session.execute(delete(Account))
    else:
        store.objects.all().delete()


def _order(sort_by: str, user: User) -> tuple[Any, ...]:
    return (*_sort_value(user, sort_by), int(user.id or 0))


@pytest.fixture
def store(engine: Engine) -> MappedStore:
    return MappedStore(engine, Account, ACCOUNTS)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    users=st.lists(_users(), max_size=6, unique_by=lambda u: fold(u.user_name or "")),
    searches=st.lists(st.tuples(_FILTERS, _SORTS, st.booleans()), min_size=1, max_size=15),
)
def test_push_down_equals_the_evaluator(
    store: Any, users: list[User], searches: list[tuple[str, str | None, bool]]
) -> None:
    _clear(store)
    stored = [store.create(user) for user in users]
    for text, sort_by, descending in searches:
        node = parse_filter(text)
        matches = compile_filter(node, User)
        expected = [user for user in stored if matches(user)]
        if sort_by is not None:
            expected.sort(key=functools.partial(_order, sort_by), reverse=descending)
        query = Query(
            models=User,
            filter=node,
            sort_by=sort_by,
            sort_order="descending" if descending else "ascending",
        )
        page = store.search(query)
        found = [user.id for user in page.resources]
        if sort_by is None:
            assert sorted(found, key=int) == [user.id for user in expected], text
        else:
            assert found == [user.id for user in expected], (text, sort_by, descending)
        assert page.total == len(expected)
