"""Storage: 100,000 users in SQLite against MemoryStore scans and scim2-server's InMemoryStorage.

- ``userName eq`` (an IdP's lookup before it creates a user): SQLiteStore's index
  seek against the evaluator scanning every user of a MemoryStore
  (``scan_columns=False``; target ≥100×), and, for information, against the
  MemoryStore's default hash-column scan (a scan too, but of 2 bytes a user).
- ``name.familyName eq "x" and active eq true`` with ``count=100`` (no index: a
  scan in SQL, with the total) against scim2-server 0.8.3's ``InMemoryStorage.search``
  over the same users, driven as its own storage contract drives it (target ≥20×).

The SQLite file is built once and kept under ``/tmp`` (rebuilt when this file's
data version changes); building 100k users takes a minute or two the first time.
The database size and the peak memory (RSS) of the process are printed.
"""

from __future__ import annotations

import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

from _harness import Case

from scimcore.filter import parse_filter
from scimcore.models import Email, Name, User
from scimcore.storage import Query
from scimcore.stores import MemoryStore, SQLiteStore

N = 100_000
DATA_VERSION = 3
CACHE = (
    Path(os.environ.get("SCIMCORE_BENCH_DIR", "/tmp"))
    / f"scimcore-bench-{N}-v{DATA_VERSION}.sqlite3"
)
FAMILIES = [f"family{i:03d}" for i in range(500)]


def _wire(i: int, rng: random.Random) -> dict[str, Any]:
    family = "x" if i % 200 == 7 else rng.choice(FAMILIES)
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": f"user{i:06d}@example.com",
        "externalId": f"ext-{i}",
        "name": {"familyName": family, "givenName": f"Given{i % 997}"},
        "displayName": f"Given{i % 997} {family}",
        "active": rng.random() < 0.5,
        "emails": [{"value": f"user{i:06d}@example.com", "type": "work", "primary": True}],
    }


def _wires() -> list[dict[str, Any]]:
    rng = random.Random(42)
    return [_wire(i, rng) for i in range(N)]


def _ours(data: dict[str, Any]) -> User:
    return User(
        user_name=data["userName"],
        external_id=data["externalId"],
        name=Name(family_name=data["name"]["familyName"], given_name=data["name"]["givenName"]),
        display_name=data["displayName"],
        active=data["active"],
        emails=[
            Email(value=e["value"], type=e["type"], primary=e["primary"]) for e in data["emails"]
        ],
    )


def _sqlite(wires: list[dict[str, Any]]) -> SQLiteStore:
    if CACHE.exists():
        store = SQLiteStore(CACHE)
        if store.search(Query(models=User, count=0)).total == N:
            return store
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{CACHE}{suffix}").unlink(missing_ok=True)
    start = time.perf_counter()
    store = SQLiteStore(CACHE)
    for chunk in range(0, N, 5000):
        store.create_many(_ours(w) for w in wires[chunk : chunk + 5000])
    print(f"   built {CACHE} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return store


def _scim2_server(wires: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    from scim2_server.memory import InMemoryStorage
    from scim2_server.testing import ScimStorageContract
    from scim2_server.utils import load_default_provider

    provider = load_default_provider()
    user_type = next(rt for rt in provider.resource_types if rt.id == "User")
    model = provider.model_for(user_type)
    storage = InMemoryStorage()
    storage.resources = [
        model.model_validate(
            {**w, "id": f"id{i}", "meta": {"resourceType": "User", "version": f'W/"{i}"'}}
        )
        for i, w in enumerate(wires)
    ]
    request = ScimStorageContract.search_request(
        [model], filter='name.familyName eq "x" and active eq true', count=100
    )
    return storage, user_type, request


def _size(path: Path) -> int:
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


def cases() -> list[Case]:
    """The storage comparisons (building the stores first)."""
    from scim2_server.testing import ScimStorageContract

    wires = _wires()
    sqlite = _sqlite(wires)
    memory, evaluator = MemoryStore(), MemoryStore(scan_columns=False)
    start = time.perf_counter()
    for store in (memory, evaluator):
        for chunk in range(0, N, 5000):
            store.create_many(_ours(w) for w in wires[chunk : chunk + 5000])
    print(f"   MemoryStores filled in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    storage, user_type, request = _scim2_server(wires)

    lookup = Query(models=User, filter=parse_filter('userName eq "USER054321@example.com"'))
    both = Query(
        models=User, filter=parse_filter('name.familyName eq "x" and active eq true'), count=100
    )
    assert sqlite.search(lookup).total == memory.search(lookup).total == 1
    assert evaluator.search(lookup).total == 1
    ours_page, peer_page = (
        sqlite.search(both),
        ScimStorageContract.search(storage, [user_type], request),
    )
    assert ours_page.total == peer_page.total == memory.search(both).total
    assert len(ours_page.resources) == len(peer_page.resources) == 100

    print(
        f"   SQLite database: {_size(CACHE) / 2**20:.1f} MiB for {N:,} users "
        f"({_size(CACHE) / N:.0f} bytes per user)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"   peak memory (RSS) of this process, all four stores loaded: {peak:.0f} MiB")

    return [
        Case(
            "userName eq, 100k users: SQLiteStore vs an evaluator scan",
            lambda: sqlite.search(lookup),
            lambda: evaluator.search(lookup),
            peer_name="scimcore MemoryStore(scan_columns=False)",
            target=100,
        ),
        Case(
            "userName eq, 100k users: SQLiteStore vs a hash-column scan",
            lambda: sqlite.search(lookup),
            lambda: memory.search(lookup),
            peer_name="scimcore MemoryStore (default)",
        ),
        Case(
            "familyName eq and active eq, count=100, 100k users",
            lambda: sqlite.search(both),
            lambda: ScimStorageContract.search(storage, [user_type], request),
            peer_name="scim2-server 0.8.3 InMemoryStorage",
            target=20,
        ),
        Case(
            "same filter, MemoryStore (hash column on familyName)",
            lambda: memory.search(both),
            lambda: ScimStorageContract.search(storage, [user_type], request),
            peer_name="scim2-server 0.8.3 InMemoryStorage",
        ),
    ]
