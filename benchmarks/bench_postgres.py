"""PostgreSQL: 1,000,000 users in PostgresStore against the same users in SQLiteStore.

    python benchmarks/run.py postgres

Each case times the same query on both stores (PostgreSQL is "scimcore", SQLite
the "peer"; a ratio above 1 means PostgreSQL is faster). There is no target
ratio: the point of PostgreSQL is several servers on one database, and the
question is what a lookup and a page cost at this size.

- the identity providers' lookups before they create a user: ``userName eq``
  (folded), ``externalId eq``, ``emails.value eq`` (multi-valued), and ``id eq``
  (Entra's membership check), each an index seek, with ``totalResults`` (one
  statement, prepared: its rows are all the matches, so they give the total);
- a sorted page of 100 (``sortBy=userName``, the first page and a page from a
  cursor), with ``totalResults`` over the million users;
- one ``PATCH`` member-add to a group of 10,000 members through ``update``
  (PostgreSQL writes one row; SQLite rewrites the group).

The data is built once and cached: in PostgreSQL under the schema
``scimcore_bench_1000k_v1`` of ``SCIMCORE_POSTGRES_DSN`` (default
``postgresql://postgres@127.0.0.1:5432/test``), in SQLite in
``$SCIMCORE_BENCH_DIR`` (default ``/tmp``). Building takes about a quarter of an
hour on two cores the first time (``SCIMCORE_BENCH_USERS`` makes it smaller).
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from _harness import Case

from scimcore.filter import parse_filter
from scimcore.models import Email, Group, GroupMember, Name, User
from scimcore.patch import apply_patch
from scimcore.storage import Query
from scimcore.stores import PostgresStore, SQLiteStore

N = int(os.environ.get("SCIMCORE_BENCH_USERS", "1000000"))
MEMBERS = 10_000
DATA_VERSION = 1
DSN = os.environ.get("SCIMCORE_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = f"scimcore_bench_{N // 1000}k_v{DATA_VERSION}"
CACHE = (
    Path(os.environ.get("SCIMCORE_BENCH_DIR", "/tmp"))
    / f"scimcore-bench-postgres-{N}-v{DATA_VERSION}.sqlite3"
)
FAMILIES = [f"family{i:03d}" for i in range(500)]
CHUNK = 5000
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _users(start: int, stop: int) -> Iterator[User]:
    rng = random.Random(start)
    for i in range(start, stop):
        family = rng.choice(FAMILIES)
        yield User(
            user_name=f"user{i:07d}@example.com",
            external_id=f"ext-{i}",
            name=Name(family_name=family, given_name=f"Given{i % 997}"),
            display_name=f"Given{i % 997} {family}",
            active=rng.random() < 0.5,
            emails=[Email(value=f"user{i:07d}@example.com", type="work", primary=True)],
        )


def _fresh_group(store: Any) -> str:
    """A new group of 10,000 members (the one of the last run is deleted)."""
    query = Query(models=Group, filter=parse_filter('displayName eq "Bench"'))
    for old in store.search(query).resources:
        store.delete(Group, old.id)
    members = [GroupMember(value=f"member-{i}") for i in range(MEMBERS)]
    group_id: str = store.create(Group(display_name="Bench", members=members)).id
    return group_id


def _fill(store: Any, label: str, analyze: Callable[[], object] | None = None) -> None:
    start = time.perf_counter()
    for chunk in range(0, N, CHUNK):
        store.create_many(_users(chunk, min(chunk + CHUNK, N)))
        if chunk % 100_000 == 0:
            print(f"   {label}: {chunk:,} users", file=sys.stderr, flush=True)
            if analyze is not None:
                analyze()
    print(f"   {label}: built in {time.perf_counter() - start:.0f} s", file=sys.stderr)


def _analyze() -> None:
    """ANALYZE the benchmark's PostgreSQL tables: a server without autovacuum (a test
    server) otherwise plans the foreign-key checks of a growing table as if it were empty,
    with a scan of the whole ``(resource_type, rid)`` index per row inserted."""
    import psycopg

    with psycopg.connect(DSN, autocommit=True, options=f"-c search_path={SCHEMA}") as conn:
        conn.execute("ANALYZE")


def _complete(store: Any) -> bool:
    return bool(store.search(Query(models=User, count=0)).total == N)


def _postgres() -> PostgresStore:
    store = PostgresStore(DSN, schema=SCHEMA)
    if not _complete(store):
        store.drop()
        store.close()
        store = PostgresStore(DSN, schema=SCHEMA)
        _fill(store, f"PostgreSQL {SCHEMA}", _analyze)
        import psycopg

        with psycopg.connect(DSN, autocommit=True, options=f"-c search_path={SCHEMA}") as conn:
            conn.execute("VACUUM ANALYZE")
    return store


def _sqlite() -> SQLiteStore:
    if CACHE.exists():
        store = SQLiteStore(CACHE)
        if _complete(store):
            return store
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{CACHE}{suffix}").unlink(missing_ok=True)
    store = SQLiteStore(CACHE)
    _fill(store, f"SQLite {CACHE}")
    return store


def _adder(store: Any, group_id: str) -> Any:
    counter = iter(range(10**9))

    def add() -> None:
        member = f"added-{os.getpid()}-{next(counter)}"
        patch = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": member}]}],
        }
        store.update(Group, group_id, lambda g: apply_patch(g, patch))

    return add


def cases() -> list[Case]:
    """The comparisons (building the stores first, once)."""
    postgres, sqlite = _postgres(), _sqlite()
    middle = N // 2
    lookups = {
        "userName eq (folded)": f'userName eq "USER{middle:07d}@EXAMPLE.COM"',
        "externalId eq": f'externalId eq "ext-{middle}"',
        "emails.value eq (multi-valued)": f'emails.value eq "user{middle:07d}@example.com"',
    }
    out = []
    for label, text in lookups.items():
        query = Query(models=User, filter=parse_filter(text))
        assert postgres.search(query).total == sqlite.search(query).total == 1, text
        out.append(
            Case(
                f"{N:,} users: {label}",
                lambda q=query: postgres.search(q),
                lambda q=query: sqlite.search(q),
                "SQLiteStore",
            )
        )
    some = postgres.search(Query(models=User, count=1, start_index=middle)).resources[0]
    other = sqlite.search(Query(models=User, count=1, start_index=middle)).resources[0]
    by_id = Query(models=User, filter=parse_filter(f'id eq "{some.id}"'))
    by_other_id = Query(models=User, filter=parse_filter(f'id eq "{other.id}"'))
    assert postgres.search(by_id).total == sqlite.search(by_other_id).total == 1
    out.append(
        Case(
            f"{N:,} users: id eq",
            lambda: postgres.search(by_id),
            lambda: sqlite.search(by_other_id),
            "SQLiteStore",
        )
    )
    first = Query(models=User, sort_by="userName", count=100)
    names = [u.user_name for u in postgres.search(first).resources]
    assert names == [u.user_name for u in sqlite.search(first).resources]
    assert names == [f"user{i:07d}@example.com" for i in range(100)]
    out.append(
        Case(
            f"{N:,} users: sortBy=userName count=100, first page",
            lambda: postgres.search(first),
            lambda: sqlite.search(first),
            "SQLiteStore",
        )
    )
    paged = Query(models=User, sort_by="userName", count=100, cursor="")
    pg_next = postgres.search(paged).next_cursor
    lite_next = sqlite.search(paged).next_cursor
    pg_query = Query(models=User, sort_by="userName", count=100, cursor=pg_next)
    lite_query = Query(models=User, sort_by="userName", count=100, cursor=lite_next)
    out.append(
        Case(
            f"{N:,} users: sortBy=userName count=100, cursor page 2",
            lambda: postgres.search(pg_query),
            lambda: sqlite.search(lite_query),
            "SQLiteStore",
        )
    )
    pg_group, lite_group = _fresh_group(postgres), _fresh_group(sqlite)
    out.append(
        Case(
            f"PATCH add 1 member to a group of {MEMBERS:,} (update)",
            _adder(postgres, pg_group),
            _adder(sqlite, lite_group),
            "SQLiteStore",
            number=20,
        )
    )
    return out
