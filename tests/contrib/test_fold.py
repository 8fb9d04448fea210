"""``scimcore_fold`` in the database equals the evaluator's ``fold``, the lookups use the
host's index on it, and a PostgreSQL database without it fails loudly."""

from __future__ import annotations

import random
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Integer, String, event, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scimcore.contrib.sqlalchemy import MappedStore
from scimcore.filter import fold
from scimcore.mapping import AttributeMap, FoldMissing, fold_ddl
from scimcore.models import User
from scimcore.storage import Query
from tests.contrib._host import ACCOUNTS, Account
from tests.contrib.conftest import drop_schema, postgres_engine, sqlite_engine


def _changed_by_fold() -> dict[str, str]:
    """Every code point the evaluator's fold changes (case folding, or NFC alone), and its fold."""
    found = {}
    for point in range(1, sys.maxunicode + 1):
        if 0xD800 <= point <= 0xDFFF:
            continue
        char = chr(point)
        if fold(char) != char:
            found[char] = fold(char)
    return found


def _folds(engine: Engine, values: list[str]) -> list[str]:
    """The database's ``scimcore_fold`` of each value, in one statement."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(
                text(
                    "SELECT scimcore_fold(v) FROM unnest(CAST(:vs AS text[]))"
                    " WITH ORDINALITY AS t(v, i) ORDER BY i"
                ),
                {"vs": values},
            )
            return [row[0] for row in rows]
        return [
            connection.execute(text("SELECT scimcore_fold(:v)"), {"v": v}).scalar_one()
            for v in values
        ]


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_fold_is_the_evaluators_on_every_code_point(postgres_dsn: str) -> None:
    engine, schema = postgres_engine(postgres_dsn, tables=False)
    try:
        with engine.connect() as connection:
            changed: dict[str, str] = dict(
                connection.execute(
                    text(
                        "SELECT chr(p), f FROM (SELECT p, scimcore_fold(chr(p)) AS f"
                        " FROM generate_series(1, 1114111) AS p"
                        " WHERE p NOT BETWEEN 55296 AND 57343) AS t WHERE f <> chr(p)"
                    )
                ).all()
            )
    finally:
        drop_schema(engine, schema)
    assert changed == _changed_by_fold()
    if unicodedata.unidata_version == "14.0.0":  # Python 3.11
        assert len(changed) == 2637  # 1,530 changed by case folding, 1,107 by NFC alone


def test_sqlite_fold_is_the_evaluators(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "fold.sqlite3", tables=False)
    changed = _changed_by_fold()
    others = random.Random(15).sample(range(0x80, 0x30000), 2000)
    values = [*changed, *(chr(p) for p in others if not 0xD800 <= p <= 0xDFFF)]
    assert _folds(engine, values) == [fold(v) for v in values]
    engine.dispose()


#: Characters whose folding depends on what surrounds them in NFC (combining marks, jamo),
#: and letters whose case folding is not lower().
_TRICKY = (
    "aAzZ \u00df\u1e9e\u03a3\u03c3\u03c2\u0130\u0131iIKk\u212a\ufb01\ufb03\u01c5\u01f0"
    "eE\u00e9\u00c9\u0301\u0300\u0323\u0307\u030cjJ\u1100\u1161\u11a8\uac00\u0390\u1f88"
    "\u212b\u00c5\u0958\U0001f600\U00010400\U00010428\u0345\u0399"
)


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_fold_of_generated_text_is_the_evaluators(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if database == "sqlite":
        engine, schema = sqlite_engine(tmp_path / "fold.sqlite3", tables=False), None
    else:
        engine, schema = postgres_engine(request.getfixturevalue("postgres_dsn"), tables=False)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.text(alphabet=st.sampled_from(_TRICKY), max_size=8), max_size=40))
    def run(values: list[str]) -> None:
        assert _folds(engine, values) == [fold(v) for v in values]

    try:
        run()
    finally:
        if schema is None:
            engine.dispose()
        else:
            drop_schema(engine, schema)


def test_the_ddl_is_from_this_pythons_unicode() -> None:
    ddl = fold_ddl()
    assert f"NFC form, Unicode {unicodedata.unidata_version}\n" in ddl
    assert ddl.isascii()  # safe to paste into a migration
    assert "IMMUTABLE STRICT PARALLEL SAFE" in ddl


def _statement(store: MappedStore, engine: Engine, filter: str) -> tuple[str, Any]:
    """The SELECT of a page the store runs for ``filter``, and its parameters."""
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        store.search(Query(models=User, filter=filter, count=10))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    [page] = [(s, p) for s, p in seen if "LIMIT" in s.upper()]
    return page


def test_user_name_eq_uses_the_hosts_index(engine: Engine) -> None:
    store = MappedStore(engine, Account, ACCOUNTS)
    for name in ("bjensen", "Straße", "jsmith"):
        store.create(User(user_name=name))
    statement, parameters = _statement(store, engine, 'userName eq "STRASSE"')
    assert [
        u.user_name
        for u in store.search(Query(models=User, filter='userName eq "STRASSE"')).resources
    ] == ["Straße"]
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "USING INDEX accounts_username_folded (<expr>=?)" in plan, plan
        else:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "Index Scan using accounts_username_folded" in plan, plan
        cursor.close()


class _Base(DeclarativeBase):
    """A host table without the index, in a database without the function."""


class _Bare(_Base):
    __tablename__ = "bare_accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))


@pytest.mark.postgres
def test_postgres_without_the_function_fails_loudly(postgres_dsn: str) -> None:
    from sqlalchemy import create_engine

    engine, schema = postgres_engine(postgres_dsn, tables=False)
    bare = create_engine(engine.url, connect_args={"options": f"-c search_path={schema}"})
    with bare.begin() as connection:
        connection.exec_driver_sql("DROP FUNCTION scimcore_fold(text)")
    _Base.metadata.create_all(bare)
    store = MappedStore(bare, _Bare, AttributeMap(User, {"userName": "username"}))
    try:
        store.create(User(user_name="bjensen"))
        with pytest.raises(FoldMissing, match=r"no scimcore_fold\(\) function.*install_fold"):
            store.search(Query(models=User, filter='userName eq "BJensen"'))
        found = store.search(Query(models=User, filter='id eq "1"'))  # no folding: answered
        assert [u.user_name for u in found.resources] == ["bjensen"]
    finally:
        bare.dispose()
        drop_schema(engine, schema)


def test_ascii_folding_is_lower(engine: Engine) -> None:
    store = MappedStore(engine, Account, ACCOUNTS, folding="ascii")
    store.create(User(user_name="BJensen"))
    statement, _ = _statement(store, engine, 'userName eq "bjensen"')
    assert "lower(" in statement and "scimcore_fold" not in statement
    found = store.search(Query(models=User, filter='userName sw "BJ"'))
    assert [u.user_name for u in found.resources] == ["BJensen"]


def test_connections_pooled_before_the_install_get_the_function(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, select

    from scimcore.contrib.sqlalchemy import folded, install_fold

    engine = create_engine(f"sqlite:///{tmp_path / 'early.sqlite3'}")
    with engine.connect() as connection:  # a connection made, then kept by the pool
        connection.exec_driver_sql("SELECT 1")
    install_fold(engine)
    install_fold(engine)  # twice: one listener
    with engine.connect() as connection:
        assert connection.scalar(select(folded("ΣΑΣ Straße"))) == "σασ strasse"
    engine.dispose()
