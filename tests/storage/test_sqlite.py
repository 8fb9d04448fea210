"""SQLiteStore specifics: layout, migration, WAL, indexes, configuration, persistence."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import attrs
import pytest

from scimcore.errors import InternalServerError, InvalidValue, Uniqueness
from scimcore.filter import parse_filter
from scimcore.models import Email, Group, User
from scimcore.storage import Query
from scimcore.stores import SCHEMA_VERSION, SQLiteStore


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "scim.sqlite3"


def test_layout_and_persistence(path: Path) -> None:
    store = SQLiteStore(path)
    bjensen = store.create(User(user_name="bjensen", title="Tour Guide"))
    store.close()
    db = sqlite3.connect(path)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"scim_meta", "scim_resources", "scim_search", "scim_lookup", "scim_unique"} <= tables
    meta = dict(db.execute("SELECT key, value FROM scim_meta"))
    assert meta["schema_version"] == SCHEMA_VERSION
    assert meta["version"] == 1
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    again = SQLiteStore(path)
    assert again.get(User, bjensen.id or "") == bjensen
    again.close()


def test_a_newer_layout_is_refused(path: Path) -> None:
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE scim_meta SET value = ? WHERE key = 'schema_version'", (SCHEMA_VERSION + 1,))
    db.commit()
    db.close()
    with pytest.raises(InternalServerError, match="layout"):
        SQLiteStore(path)


def test_cursors_survive_a_restart(path: Path) -> None:
    store = SQLiteStore(path)
    for i in range(5):
        store.create(User(user_name=f"u{i}"))
    query = Query(models=User, cursor="", count=2, sort_by="userName")
    token = store.search(query).next_cursor
    store.close()
    again = SQLiteStore(path)
    page = again.search(Query(models=User, cursor=token, count=2, sort_by="userName"))
    assert [u.user_name for u in page.resources] == ["u2", "u3"]
    again.close()


def test_user_name_eq_is_an_index_seek(path: Path) -> None:
    store = SQLiteStore(path)
    store.create(User(user_name="bjensen"))
    params: dict[str, object] = {}
    where = store._searches.where(Query(models=User, filter='userName eq "BJensen"'), params)
    plan = " ".join(
        str(row[3])
        for row in store._database.connection().execute(
            f"EXPLAIN QUERY PLAN SELECT count(*) FROM scim_search AS r WHERE {where}", params
        )
    )
    # userName is unique: its values are in scim_unique (and only "" in scim_lookup).
    assert "SEARCH scim_unique USING PRIMARY KEY" in plan
    assert "SEARCH scim_lookup USING PRIMARY KEY" in plan
    assert "SCAN" not in plan.replace("SCAN r", "")
    store.close()


def test_id_eq_seeks_the_resources_key(path: Path) -> None:
    store = SQLiteStore(path)
    user = store.create(User(user_name="bjensen"))
    store.create(User(user_name="other"))
    params: dict[str, object] = {}
    where = store._searches.where(Query(models=User, filter=f'id eq "{user.id}"'), params)
    plan = " ".join(
        str(row[3])
        for row in store._database.connection().execute(
            f"EXPLAIN QUERY PLAN SELECT count(*) FROM scim_search AS r WHERE {where}", params
        )
    )
    assert "SEARCH scim_resources USING COVERING INDEX sqlite_autoindex_scim_resources_1" in plan
    page = store.search(Query(models=User, filter=f'id eq "{user.id}" or id eq "nope"'))
    assert [u.id for u in page.resources] == [user.id]
    assert store.search(Query(models=User, filter=f'id eq "{(user.id or "").upper()}"')).total == 0
    store.close()


def test_a_value_is_indexed_once(path: Path) -> None:
    """``id`` is in no index table; a unique lookup's values are in ``scim_unique``, and
    only those it does not hold (``""``) in ``scim_lookup``: ``eq`` finds them all."""
    store = SQLiteStore(path, unique={"User": ["externalId"]})
    a = store.create(User(user_name="a", external_id="X1", emails=[Email(value="a@x")]))
    b = store.create(User(user_name="b", external_id=""))
    c = store.create(User(user_name="c", external_id=""))
    assert _lookups(path) == {
        ("user/emails/value", "a@x"),
        ("user/externalid", ""),
    }
    assert _rows(path, "scim_unique") == {
        ("user/username", "a"),
        ("user/username", "b"),
        ("user/username", "c"),
        ("user/externalid", "X1"),
    }

    def found(text: str) -> list[str | None]:
        return sorted(u.user_name for u in store.search(Query(models=User, filter=text)).resources)

    assert found('externalId eq "X1"') == ["a"]
    assert found('externalId eq ""') == ["b", "c"]
    assert found('externalId eq "X1" or externalId eq ""') == ["a", "b", "c"]
    assert found('userName eq "B" or userName eq "c"') == ["b", "c"]
    with pytest.raises(Uniqueness):
        store.create(User(user_name="d", external_id="X1"))
    store.replace(attrs.evolve(b, external_id="X2"))
    store.replace(attrs.evolve(a, external_id=""))
    assert found('externalId eq ""') == ["a", "c"]
    assert found('externalId eq "X2"') == ["b"]
    store.delete(User, c.id or "")
    assert _lookups(path) == {("user/emails/value", "a@x"), ("user/externalid", "")}
    assert _rows(path, "scim_unique") == {
        ("user/username", "a"),
        ("user/username", "b"),
        ("user/externalid", "X2"),
    }
    store.close()


def test_a_file_of_the_older_index_rows_is_rebuilt(path: Path) -> None:
    """A file written before rows were kept once (``id`` and ``userName`` rows in
    scim_lookup, an ``AUTOINCREMENT`` rid and a version counter behind it) opens: the
    rows are rebuilt, and a new resource takes a rid past every rid."""
    store = SQLiteStore(path)
    user = store.create(User(user_name="bjensen"))
    store.close()
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO scim_lookup SELECT 'user/id', id, rid FROM scim_resources UNION ALL "
        "SELECT 'user/username', json_extract(sdoc, '$.username'), rid FROM scim_resources"
    )
    db.execute("UPDATE scim_resources SET rid = 7, version = 7")
    db.execute("UPDATE scim_search SET rid = 7")
    db.execute("UPDATE scim_unique SET rid = 7")
    db.execute("UPDATE scim_meta SET value = 'before' WHERE key = 'index_digest'")
    db.execute("UPDATE scim_meta SET value = 2 WHERE key = 'version'")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert _lookups(path) == set()
    other = store.create(User(user_name="other"))
    assert other.meta is not None and other.meta.version == 'W/"8"'
    assert store.search(Query(models=User, filter=f'id eq "{user.id}"')).total == 1
    assert store.search(Query(models=User, filter='userName eq "BJENSEN"')).total == 1
    store.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT rid, version FROM scim_resources ORDER BY rid").fetchall() == [
        (7, 7),
        (8, 8),
    ]
    db.close()


def test_changing_the_lookups_rebuilds_the_index(path: Path) -> None:
    store = SQLiteStore(path)
    store.create(User(user_name="a", title="Boss"))
    store.create(User(user_name="b", title="boss"))
    store.close()
    store = SQLiteStore(path, lookups={"User": ["title"]})
    counts = (
        store._database.connection()
        .execute("SELECT key, count(*) FROM scim_lookup GROUP BY key ORDER BY key")
        .fetchall()
    )
    # ``id`` (always indexed) is found through scim_resources; userName in scim_unique.
    assert counts == [("user/title", 2)]
    page = store.search(Query(models=User, filter='title eq "BOSS"'))
    assert sorted(u.user_name for u in page.resources) == ["a", "b"]
    store.close()


def test_configured_uniqueness(path: Path) -> None:
    store = SQLiteStore(path, unique={"User": ["externalId"], "Group": ["displayName"]})
    store.create(User(user_name="a", external_id="ABC"))
    store.create(User(user_name="b", external_id="abc"))  # externalId is caseExact
    with pytest.raises(Uniqueness, match="externalId 'ABC'"):
        store.create(User(user_name="c", external_id="ABC"))
    store.create(Group(display_name="Admins"))
    with pytest.raises(Uniqueness):
        store.create(Group(display_name="ADMINS"))  # displayName is not caseExact
    store.close()


def test_uniqueness_holds_between_two_stores_on_one_file(path: Path) -> None:
    one, two = SQLiteStore(path), SQLiteStore(path)
    one.create(User(user_name="bjensen"))
    with pytest.raises(Uniqueness):
        two.create(User(user_name="BJENSEN"))
    x, y = one.create(User(user_name="x")), two.create(User(user_name="y"))
    assert x.meta is not None
    assert y.meta is not None
    versions = {x.meta.version, y.meta.version}
    assert len(versions) == 2
    one.close()
    two.close()


@pytest.mark.parametrize("bad", ["nul\x00byte", "lone\ud800surrogate"])
def test_values_sqlite_cannot_keep_are_invalid(path: Path, bad: str) -> None:
    store = SQLiteStore(path)
    with pytest.raises(InvalidValue):
        store.create(User(user_name=bad))
    assert store.search(Query(models=User)).total == 0
    store.close()


def test_scim_fold_is_registered(path: Path) -> None:
    store = SQLiteStore(path)
    assert (
        store._database.connection()
        .execute("SELECT scim_fold('STRASSE') = scim_fold('straße')")
        .fetchone()[0]
        == 1
    )
    store.close()


def test_create_many_is_all_or_nothing(path: Path) -> None:
    store = SQLiteStore(path)
    with pytest.raises(Uniqueness):
        store.create_many([User(user_name="a"), User(user_name="b"), User(user_name="A")])
    assert store.search(Query(models=User)).total == 0
    created = store.create_many([User(user_name="a"), Group(display_name="g")])
    assert [type(r) for r in created] == [User, Group]
    store.close()


def test_update_is_atomic_between_threads(path: Path) -> None:
    store = SQLiteStore(path)
    user = store.create(User(user_name="counter", title="0"))

    def bump(current: User) -> User:
        current.title = str(int(current.title or "0") + 1)
        return current

    def work() -> None:
        for _ in range(20):
            store.update(User, user.id or "", bump)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get(User, user.id or "").title == "80"
    store.close()


def test_a_closed_store_refuses_calls(path: Path) -> None:
    store = SQLiteStore(path)
    store.close()
    with pytest.raises(InternalServerError):
        store.get(User, "x")


def test_an_unconfigured_model_is_refused(path: Path) -> None:
    store = SQLiteStore(path, models=[User])
    with pytest.raises(InvalidValue):
        store.create(Group(display_name="g"))
    store.close()


def test_search_over_users_and_groups_sorts_them_together(path: Path) -> None:
    store = SQLiteStore(path)
    store.create(User(user_name="u", display_name="beta"))
    store.create(Group(display_name="Alpha"))
    store.create(Group(display_name="gamma"))
    page = store.search(Query(models=(User, Group), sort_by="displayName", count=2, cursor=""))
    names = [r.display_name for r in page.resources]
    assert names == ["Alpha", "beta"]
    rest = store.search(
        Query(models=(User, Group), sort_by="displayName", count=2, cursor=page.next_cursor)
    )
    assert [r.display_name for r in rest.resources] == ["gamma"]
    found = store.search(Query(models=(User, Group), filter=parse_filter("userName pr")))
    assert [type(r) for r in found.resources] == [User]
    store.close()


def test_writes_are_checkpointed_in_the_background(path: Path) -> None:
    """Commits only append to the log; a background thread copies it into the database.

    Observed from outside: the database file grows only when a checkpoint copies
    pages into it, and SQLite's own checkpoint (the safety net) waits for 16,384
    pages of log, far more than these writes make.
    """
    store = SQLiteStore(path)
    try:
        assert (
            store._database.connection().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 16384
        )
        before = path.stat().st_size
        store.create_many([User(user_name=f"u{i}", title="x" * 500) for i in range(200)])
        checkpointer = store._database.checkpointer
        assert checkpointer is not None
        thread = checkpointer._thread
        assert thread is not None and thread.name == "scimcore-sqlite-checkpoint"
        waited = threading.Event()
        for _ in range(100):
            if path.stat().st_size > before + 100_000:
                break
            waited.wait(0.05)
        assert path.stat().st_size > before + 100_000  # the pages reached the database
    finally:
        store.close()
    assert not thread.is_alive()  # close() ends the thread
    reopened = SQLiteStore(path)
    assert reopened.search(Query(models=User, count=0)).total == 200
    reopened.close()


def test_a_memory_store_has_no_checkpointer() -> None:
    store = SQLiteStore(":memory:")
    store.create(User(user_name="a"))
    assert store._database.checkpointer is None
    store.close()


def _lookups(path: Path) -> set[tuple[str, str]]:
    return _rows(path, "scim_lookup")


def _rows(path: Path, table: str) -> set[tuple[str, str]]:
    db = sqlite3.connect(path)
    try:
        return {(k, v) for k, v in db.execute(f"SELECT key, value FROM {table}")}
    finally:
        db.close()


def test_a_layout_1_file_is_migrated(path: Path) -> None:
    """Layout 1 had indexes by rid on the lookup and unique tables; layout 2 drops them."""
    store = SQLiteStore(path)
    user = store.create(User(user_name="bjensen"))
    store.close()
    db = sqlite3.connect(path)
    db.execute("CREATE INDEX scim_lookup_rid ON scim_lookup (rid)")
    db.execute("CREATE INDEX scim_unique_rid ON scim_unique (rid)")
    db.execute("UPDATE scim_meta SET value = 1 WHERE key = 'schema_version'")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store.get(User, user.id or "").user_name == "bjensen"
    store.delete(User, user.id or "")
    store.create(User(user_name="bjensen"))  # the unique value went with the deleted user
    store.close()
    db = sqlite3.connect(path)
    indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    version = db.execute("SELECT value FROM scim_meta WHERE key = 'schema_version'").fetchone()
    db.close()
    assert not indexes & {"scim_lookup_rid", "scim_unique_rid"}
    assert version == (SCHEMA_VERSION,) == (3,)


def test_a_layout_2_file_has_its_members_moved_into_rows(path: Path) -> None:
    """Layout 2 kept a group's members inline in its documents; layout 3 keeps them in
    ``scim_members``. Opening a layout 2 file moves them, and the group reads, filters and
    takes member deltas as before."""
    from scimcore.models import Group, GroupMember
    from scimcore.patch import patch_result

    store = SQLiteStore(path)
    users = store.create_many([User(user_name=f"u{i}") for i in range(3)])
    members = [GroupMember(value=u.id, display=u.user_name) for u in users]
    group = store.create(Group(display_name="Staff", members=members[:2]))
    store.close()
    db = sqlite3.connect(path)  # back to layout 2: members inline, no member rows
    for column, member in (("doc", "member"), ("sdoc", "smember")):
        db.execute(
            f"UPDATE scim_resources SET {column} = json_set({column}, '$.members', "
            f"(SELECT json_group_array(json({member})) FROM (SELECT {member} FROM scim_members "
            "WHERE rid = scim_resources.rid ORDER BY seq))) WHERE resource_type = 'group'"
        )
    db.execute("DROP TABLE scim_members")
    db.execute("UPDATE scim_meta SET value = 2 WHERE key = 'schema_version'")
    db.execute("UPDATE scim_meta SET value = 'layout 2' WHERE key = 'index_digest'")
    db.commit()
    db.close()

    store = SQLiteStore(path)
    assert store.get(Group, group.id or "") == group
    found = store.search(Query(models=Group, filter='members[display eq "U1"]'))
    assert [g.id for g in found.resources] == [group.id]
    add = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": users[2].id}]}],
    }
    store.update_members(Group, group.id or "", [users[2].id or ""], lambda g: patch_result(g, add))
    assert [m.value for m in store.get(Group, group.id or "").members or []] == [
        u.id for u in users
    ]
    store.close()
    db = sqlite3.connect(path)
    docs = db.execute("SELECT doc, sdoc FROM scim_resources WHERE resource_type = 'group'")
    assert [("members" in json.loads(d), "members" in json.loads(s)) for d, s in docs] == [
        (False, False)
    ]
    assert db.execute("SELECT count(*) FROM scim_members").fetchone() == (3,)
    db.close()


def test_a_replace_rewrites_only_the_index_rows_that_changed(path: Path) -> None:
    from scimcore.models import GroupMember

    store = SQLiteStore(path)
    users = store.create_many([User(user_name=f"u{i}") for i in range(3)])
    group = store.create(
        Group(display_name="Staff", members=[GroupMember(value=u.id) for u in users[:2]])
    )
    before = _lookups(path)
    db = store._database.connection()
    changes = db.total_changes
    group.members = [GroupMember(value=u.id) for u in users[1:]]  # u0 leaves, u2 joins
    group.display_name = "STAFF"  # folds to the same lookup value
    store.replace(group)
    # the search row (INSERT OR REPLACE counts 1), the resource row, one lookup row
    # out, one in, one member row out (u0), one in (u2), and the version counter:
    # nothing else was written (u1's member row is kept).
    assert db.total_changes - changes == 7
    after = _lookups(path)
    assert before - after == {("group/members/value", users[0].id)}
    assert after - before == {("group/members/value", users[2].id)}
    assert store.memberships(Group, [u.id or "" for u in users]) == {
        users[0].id: [],
        users[1].id: [(group.id, "STAFF")],
        users[2].id: [(group.id, "STAFF")],
    }
    store.delete(Group, group.id or "")
    # The users' ids are found through scim_resources, their userNames in scim_unique.
    assert _lookups(path) == set()
    store.close()


def test_memberships_without_the_members_lookup_search(path: Path) -> None:
    from scimcore.models import GroupMember

    store = SQLiteStore(path, lookups={"User": ["userName"], "Group": ["displayName"]})
    users = store.create_many([User(user_name=f"u{i}") for i in range(3)])
    ids = [u.id or "" for u in users]
    staff = store.create(Group(display_name="Staff", members=[GroupMember(value=ids[0])]))
    all_ = store.create(Group(display_name="All", members=[GroupMember(value=i) for i in ids]))
    assert store.memberships(Group, ids) == {
        ids[0]: [(staff.id, "Staff"), (all_.id, "All")],
        ids[1]: [(all_.id, "All")],
        ids[2]: [(all_.id, "All")],
    }
    assert store.memberships(Group, ids[1:2]) == {ids[1]: [(all_.id, "All")]}
    store.close()


def test_a_new_database_file_is_private(tmp_path: Path) -> None:
    """Issue 21: the file (and its -wal and -shm files) is readable by its owner only."""
    import stat

    store = SQLiteStore(tmp_path / "private.sqlite3")
    store.create(User(user_name="bjensen"))
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in sorted(tmp_path.iterdir())}
    store.close()
    assert modes == {
        "private.sqlite3": 0o600,
        "private.sqlite3-shm": 0o600,
        "private.sqlite3-wal": 0o600,
    }


def test_a_replace_clears_the_search_columns_it_no_longer_fills(path: Path) -> None:
    """A search row names only the columns holding a value: a replace that drops a value
    leaves its column NULL, not the old value."""
    store = SQLiteStore(path)
    user = store.create(User(user_name="bjensen", title="Boss", display_name="Barbara"))
    store.replace(attrs.evolve(user, title=None))
    assert store.search(Query(models=User, filter="title pr")).total == 0
    assert store.search(Query(models=User, filter='displayName eq "barbara"')).total == 1
    columns = store._layout.columns["user"]
    title = columns["user/title"].removeprefix("r.")
    row = store._database.connection().execute(f"SELECT {title} FROM scim_search").fetchall()
    assert row == [(None,)]
    store.close()
