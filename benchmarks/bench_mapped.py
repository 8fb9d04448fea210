"""SCIM on a host's own table: MappedStore's push-down against a hand-written store's scan.

- ``userName eq`` (an IdP's lookup before each create) on a host table of 100,000
  users with an index on ``scimcore_fold(username)`` (the expression the lookup compares,
  so the index is used): ``MappedStore`` (the filter as SQL)
  against what a hand-written store does without push-down: load every row
  through the ORM and run ``compile_filter`` on each (target ≥100×), on SQLite and
  on PostgreSQL (``SCIMCORE_POSTGRES_DSN``; left out when it cannot be reached).
  Each case first checks with ``EXPLAIN`` that the lookup is an index search.

The SQLite file is built once and kept under ``/tmp``, the PostgreSQL table in the
schema ``scimcore_bench_host_100k_v2`` (both rebuilt when the data version changes).
"""

import os
import sys
import time
from pathlib import Path
from typing import Any

from _harness import Case
from sqlalchemy import Index, Integer, String, create_engine, event, func, insert, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from scimcore.contrib.sqlalchemy import MappedStore, folded, install_fold
from scimcore.filter import compile_filter, parse_filter
from scimcore.mapping import AttributeMap
from scimcore.models import User
from scimcore.storage import Query

N = 100_000
DATA_VERSION = 2  # 2: the index is on scimcore_fold(username)
CACHE = (
    Path(os.environ.get("SCIMCORE_BENCH_DIR", "/tmp"))
    / f"scimcore-bench-host-{N}-v{DATA_VERSION}.sqlite3"
)
DSN = os.environ.get("SCIMCORE_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = f"scimcore_bench_host_{N // 1000}k_v{DATA_VERSION}"


class Base(DeclarativeBase):
    """The host's declarative base."""


class Account(Base):
    """The host's user table."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


Index("accounts_username", folded(Account.username), unique=True)

ACCOUNTS = AttributeMap(
    User,
    {
        "userName": "username",
        "name.givenName": "first_name",
        "name.familyName": "last_name",
        'emails[type eq "work"].value': "email",
        "active": "is_active",
    },
    version="version",
)


def _rows() -> list[dict[str, Any]]:
    return [
        {
            "id": i + 1,
            "username": f"user{i:06d}@example.com",
            "first_name": f"Given{i % 997}",
            "last_name": f"family{i % 500:03d}",
            "email": f"user{i:06d}@example.com",
            "is_active": i % 2 == 0,
            "version": 1,
        }
        for i in range(N)
    ]


def _sqlite() -> Any:
    fresh = not CACHE.exists()
    engine = create_engine(f"sqlite:///{CACHE}")
    install_fold(engine)
    if fresh:
        start = time.perf_counter()
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(Account), _rows())
        print(f"   host table built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return engine


def _postgres() -> Any:
    """The same table in the schema ``SCHEMA`` of ``SCIMCORE_POSTGRES_DSN`` (kept), or
    ``None`` when the server cannot be reached."""
    url = DSN.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, connect_args={"options": f"-c search_path={SCHEMA}"})
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            fresh = connection.scalar(select(func.to_regclass(f"{SCHEMA}.accounts"))) is None
    except OperationalError as exc:
        print(f"   PostgreSQL at {DSN} not reachable, skipped: {exc}", file=sys.stderr)
        return None
    install_fold(engine)
    if fresh:
        start = time.perf_counter()
        Base.metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(insert(Account), _rows())
            connection.exec_driver_sql("ANALYZE accounts")
        print(f"   host table built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return engine


def _case(engine: Any) -> Case:
    """MappedStore's lookup against the ORM scan, on one database."""
    store = MappedStore(engine, Account, ACCOUNTS)
    lookup = Query(models=User, filter=parse_filter('userName eq "USER054321@example.com"'))
    matches = compile_filter(lookup.filter or "", User)

    def scan() -> list[User]:
        """The hand-written store: every row through the ORM, then the evaluator."""
        with Session(engine) as session:
            rows = session.scalars(select(Account)).all()
            return [user for user in (ACCOUNTS.resource(row) for row in rows) if matches(user)]

    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    found = store.search(lookup)
    event.remove(engine, "before_cursor_execute", seen)
    [(page, parameters)] = [(s, p) for s, p in statements if "count(" not in s]
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        explain = "EXPLAIN QUERY PLAN" if sqlite else "EXPLAIN"
        plan = str(connection.exec_driver_sql(f"{explain} {page}", parameters).all())
    used = "USING INDEX accounts_username (<expr>=?)" if sqlite else "Index Scan using accounts_"
    assert used in plan, plan  # the lookup is an index search, not a scan
    assert found.total == 1
    assert [u.user_name for u in scan()] == [found.resources[0].user_name]
    return Case(
        f"userName eq, 100k host rows ({engine.dialect.name}): MappedStore vs an ORM scan",
        lambda: store.search(lookup),
        scan,
        peer_name="hand-written store: ORM load + compile_filter",
        target=100,
        number=1,
    )


def cases() -> list[Case]:
    """The comparison on SQLite and on PostgreSQL (building the host tables first)."""
    engines = [_sqlite(), _postgres()]
    return [_case(engine) for engine in engines if engine is not None]
