"""End to end: two ``scimcore serve`` instances (SQLite and PostgreSQL) kept in step both ways
while both are written to, then compared resource by resource; and scim2-server 0.8.3 as a
target."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from scimcore.client import Client
from scimcore.models import Email, Group, GroupMember, User
from scimcore.stores import MemoryStore
from scimcore.sync import Rules, Sync, as_endpoint
from tests.sync.conftest import TOKEN

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def replace(path: str, value: Any) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": [{"op": "replace", "path": path, "value": value}]}


def wire(end: Any) -> dict[str, Any]:
    """Each user and group by name, as both sides must hold it (no ids, no meta), and counts."""
    endpoint = as_endpoint(end)
    users = list(endpoint.read(User))
    names = {u.id: u.user_name for u in users}
    seen: dict[str, Any] = {}
    for user in users:
        seen[f"User {user.user_name}"] = (
            user.title,
            user.display_name,
            user.active,
            [e.value for e in user.emails],
            user.external_id,
        )
    groups = list(endpoint.read(Group))
    for group in groups:
        seen[f"Group {group.display_name}"] = sorted(names[m.value] for m in group.members)
    seen["counts"] = (len(users), len(groups))  # nothing duplicated
    return seen


def new_user(name: str, i: int) -> User:
    return User(
        user_name=name,
        external_id=f"x-{name}",
        title=f"title {i}",
        emails=[Email(value=f"{name}@example.org")],
    )


def writer(url: str, prefix: str, stop: threading.Event, rounds: int, owned: str) -> None:
    """Create users, and change ``owned`` (the attribute this side owns) and, now and then,
    one it does not own, on random users of this side, until ``stop`` or ``rounds``."""
    rng = random.Random(prefix)
    with Client(url, token=TOKEN) as client:
        for i in range(rounds):
            if stop.is_set():
                return
            client.create(new_user(f"{prefix}{i:02}", i))
            ids = [u.id or "" for u in client.iter_resources(User)]
            client.patch(User, rng.choice(ids), replace(owned, f"{prefix} wrote {i}"))
            if i % 4 == 3:
                other = "title" if owned == "displayName" else "displayName"
                client.patch(User, rng.choice(ids), replace(other, f"{prefix} trespassed {i}"))
            if owned == "displayName" and i % 3 == 0:
                (group,) = client.search(Group, 'displayName eq "ops"').resources
                client.patch(
                    Group,
                    group.id or "",
                    {
                        "schemas": [PATCH],
                        "Operations": [
                            {"op": "add", "path": "members", "value": [{"value": rng.choice(ids)}]}
                        ],
                    },
                )


@pytest.mark.parametrize(
    "target", [pytest.param("postgres_serve", marks=pytest.mark.postgres), "scim2_serve"]
)
def test_two_servers_kept_in_step_both_ways_under_concurrent_writes(
    sqlite_serve: str, target: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """scimcore serve on SQLite, and scimcore serve on PostgreSQL or scim2-server 0.8.3."""
    target_url: str = request.getfixturevalue(target)
    with Client(sqlite_serve, token=TOKEN) as a, Client(target_url, token=TOKEN) as b:
        made = [a.create(new_user(f"a{i:02}", i)) for i in range(15)]
        a.create(Group(display_name="ops", members=[GroupMember(value=u.id) for u in made[:5]]))
        for i in range(5):
            b.create(new_user(f"b{i:02}", i))
        # The source (SQLite) owns everything but the title, which the target (PostgreSQL) owns.
        rules = Rules(owners={"title": "target"}, two_way=True)
        sync = Sync(a, b, rules=rules, state=tmp_path / "state.sqlite3")
        plan, report = sync.run()
        assert plan.mode == "full" and report.ok, report.table()
        assert report.count("create") == 21  # 15 users and a group to b, 5 users to a

        stop = threading.Event()
        writers = [
            threading.Thread(target=writer, args=(sqlite_serve, "wa", stop, 12, "displayName")),
            threading.Thread(target=writer, args=(target_url, "wb", stop, 12, "title")),
        ]
        for thread in writers:
            thread.start()
        runs, written = 0, 0
        try:
            while any(t.is_alive() for t in writers) or runs < 2:
                plan, report = sync.run()  # incremental, while both sides are written to
                assert plan.mode == "incremental" and report.ok, report.table()
                runs, written = runs + 1, written + sum(report.done.values())
        finally:
            stop.set()
            for thread in writers:
                thread.join()
        for _ in range(3):  # the writes of the last moments, then nothing
            plan, report = sync.run(full=True)
            assert report.ok, report.table()
            if not plan.actions:
                break
        assert plan.actions == ()
        assert written > 0
        left, right = wire(a), wire(b)
        assert left == right
        assert left["counts"] == (15 + 5 + 12 + 12, 1)


def test_scim2_server_as_the_target(scim2_serve: str, tmp_path: Any) -> None:
    source = MemoryStore()
    made = [source.create(new_user(f"u{i:02}", i)) for i in range(8)]
    source.create(Group(display_name="ops", members=[GroupMember(value=u.id) for u in made[:3]]))
    with Client(scim2_serve, token=TOKEN) as target:
        sync = Sync(source, target, state=tmp_path / "state.sqlite3")
        plan, report = sync.run()
        assert report.ok, report.table()
        assert plan.counts() == {"create": 9}
        assert wire(target) == wire(source)
        user = source.get(User, made[0].id or "")
        user.title = "changed"
        source.replace(user)
        (group,) = as_endpoint(source).read(Group)
        group.members = [GroupMember(value=u.id) for u in made[2:6]]
        source.replace(group)
        plan, report = sync.run(full=True)
        assert report.ok, report.table()
        assert sorted(a.label for a in plan.actions) == ["ops", "u00"]
        assert wire(target) == wire(source)
        assert sync.plan(full=True).actions == ()


def test_scimcore_sync_killed_half_way_then_run_again(sqlite_serve: str, tmp_path: Any) -> None:
    """The ``scimcore sync`` process is killed (SIGKILL) in the middle of a run; the next run
    finishes it: every user once on the target."""
    import signal
    import sqlite3
    import subprocess
    import sys
    import time
    from pathlib import Path

    from scimcore.stores import SQLiteStore

    source = tmp_path / "hr.sqlite3"
    store = SQLiteStore(str(source))
    for i in range(40):
        store.create(new_user(f"k{i:02}", i))
    store.close()
    state = tmp_path / "state.sqlite3"
    command = [
        str(Path(sys.executable).with_name("scimcore")),
        *("sync", "--from", str(source), "--to", sqlite_serve, "--token", TOKEN),
        *("--state", str(state), "--bulk", "0", "--max-rate", "40"),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def linked() -> int:
        if not state.exists():
            return 0
        with sqlite3.connect(state) as db:
            try:
                return int(db.execute("SELECT count(*) FROM links").fetchone()[0])
            except sqlite3.OperationalError:  # not made yet
                return 0

    deadline = time.monotonic() + 30
    while linked() < 5 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    halfway = linked()
    assert 5 <= halfway < 40
    with Client(sqlite_serve, token=TOKEN) as target:
        assert halfway <= len(list(target.iter_resources(User))) <= halfway + 1
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        assert finished.returncode == 0, finished.stderr
        lines = finished.stdout.splitlines()
        assert lines[0].startswith(f"full sync {source} → {sqlite_serve}: ")
        reopened = SQLiteStore(str(source))
        try:
            assert wire(target) == wire(reopened)
        finally:
            reopened.close()
