"""SCIM on a host's own table: MappedStore's push-down against a hand-written store's scan.

- ``userName eq`` (an IdP's lookup before each create) on a host table of 100,000
  users with an index on ``scimcore_fold(username)`` (the expression the lookup compares,
  so the index is used): ``MappedStore`` (the filter as SQL)
  against what a hand-written store does without push-down: load every row
  through the ORM and run ``compile_filter`` on each (target ≥100×).

The SQLite file is built once and kept under ``/tmp`` (rebuilt when the data
version changes).
"""

import os
import sys
import time
from pathlib import Path
from typing import Any

from _harness import Case
from sqlalchemy import Index, Integer, String, create_engine, event, insert, select
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


def _engine() -> Any:
    fresh = not CACHE.exists()
    engine = create_engine(f"sqlite:///{CACHE}")
    install_fold(engine)
    if fresh:
        start = time.perf_counter()
        Base.metadata.create_all(engine)
        rows = [
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
        with engine.begin() as connection:
            connection.execute(insert(Account), rows)
        print(f"   host table built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return engine


def cases() -> list[Case]:
    """The comparison (building the host table first)."""
    engine = _engine()
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
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {page}", parameters).all()
    assert "USING INDEX accounts_username (<expr>=?)" in str(plan), plan  # not a scan
    assert found.total == 1
    assert [u.user_name for u in scan()] == [found.resources[0].user_name]
    return [
        Case(
            "userName eq, 100k host rows: MappedStore vs an ORM scan",
            lambda: store.search(lookup),
            scan,
            peer_name="hand-written store: ORM load + compile_filter",
            target=100,
            number=1,
        )
    ]
