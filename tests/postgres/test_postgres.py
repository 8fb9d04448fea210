"""PostgresStore beyond the contract: deltas, database-enforced uniqueness, indexes, async, CLI."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from scimcore.cli import main
from scimcore.errors import PreconditionFailed, Uniqueness
from scimcore.filter import compile_filter, parse_filter
from scimcore.models import Email, Group, GroupMember, User
from scimcore.patch import apply_patch, patch_result
from scimcore.storage import Query
from scimcore.stores import AsyncPostgresStore, PostgresStore
from scimcore.stores.postgres import _search, _writes
from scimcore.stores.postgres._statement import Statement

from .conftest import schema_name

pytestmark = pytest.mark.postgres

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _add(*ids: str) -> dict[str, Any]:
    return {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": i} for i in ids]}],
    }


def _adding(member: str) -> Callable[[Any], Any]:
    return lambda group: apply_patch(group, _add(member))


def _sql(store: PostgresStore, text: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(store.dsn, options=f"-c search_path={store.schema}") as conn:
        return conn.execute(text, params).fetchall()


# -- membership deltas ---------------------------------------------------------------------


def test_a_member_add_writes_one_row_and_keeps_the_others(pg_store: PostgresStore) -> None:
    group: Any = pg_store.create(
        Group(display_name="Big", members=[GroupMember(value=f"u{i}") for i in range(300)])
    )
    before = _sql(pg_store, "SELECT seq, doc->>'value' FROM scim_values ORDER BY seq")
    assert len(before) == 300
    assert _sql(pg_store, "SELECT doc ? 'members' FROM scim_resources")[0] == (False,)

    stored: Any = pg_store.update(Group, group.id, lambda g: apply_patch(g, _add("new")))
    after = _sql(pg_store, "SELECT seq, doc->>'value' FROM scim_values ORDER BY seq")
    assert after[:300] == before  # the 300 rows are the same rows, untouched
    assert [value for _, value in after[300:]] == ["new"]
    assert [m.value for m in stored.members] == [*(f"u{i}" for i in range(300)), "new"]
    assert pg_store.get(Group, group.id) == stored

    remove = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "remove", "path": 'members[value eq "u7"]'}],
    }
    stored = pg_store.update(Group, group.id, lambda g: patch_result(g, remove))
    after_remove = _sql(pg_store, "SELECT seq, doc->>'value' FROM scim_values ORDER BY seq")
    assert after_remove == [row for row in after if row[1] != "u7"]
    assert "u7" not in {m.value for m in stored.members}
    found = pg_store.search(Query(models=Group, filter='members.value eq "new"'))
    assert [g.id for g in found.resources] == [group.id]
    assert pg_store.search(Query(models=Group, filter='members.value eq "u7"')).total == 0


def test_an_update_that_changes_nothing_writes_nothing(pg_store: PostgresStore) -> None:
    group: Any = pg_store.create(Group(display_name="G", members=[GroupMember(value="a")]))
    same: Any = pg_store.update(Group, group.id, lambda g: apply_patch(g, _add("a")))
    assert same.meta.version == group.meta.version
    assert same.meta.last_modified == group.meta.last_modified


def test_threads_adding_members_lose_none(pg_store: PostgresStore) -> None:
    group: Any = pg_store.create(Group(display_name="Everyone"))
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(5):
                pg_store.update(Group, group.id, _adding(f"t{n}-{i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    members = {m.value for m in pg_store.get(Group, group.id).members}
    assert members == {f"t{n}-{i}" for n in range(8) for i in range(5)}


def test_update_checks_expected_version_on_the_locked_row(pg_store: PostgresStore) -> None:
    group: Any = pg_store.create(Group(display_name="G"))
    pg_store.update(Group, group.id, lambda g: apply_patch(g, _add("x")))
    with pytest.raises(PreconditionFailed):
        pg_store.update(
            Group,
            group.id,
            lambda g: apply_patch(g, _add("y")),
            expected_version=group.meta.version,
        )
    assert [m.value for m in pg_store.get(Group, group.id).members] == ["x"]


def test_replace_of_a_group_writes_the_difference(pg_store: PostgresStore) -> None:
    group: Any = pg_store.create(
        Group(display_name="G", members=[GroupMember(value=v) for v in "abc"])
    )
    group.members = [GroupMember(value="c"), GroupMember(value="d"), GroupMember(value="a")]
    stored: Any = pg_store.replace(group)
    assert sorted(m.value for m in stored.members) == ["a", "c", "d"]
    assert pg_store.get(Group, group.id) == stored
    assert _sql(pg_store, "SELECT count(*) FROM scim_values") == [(3,)]


def test_excluded_members_are_not_loaded(pg_store: PostgresStore) -> None:
    pg_store.create(Group(display_name="G", members=[GroupMember(value="a")]))
    page = pg_store.search(Query(models=Group, excluded_attributes=["members"]))
    assert [g.members for g in page.resources] == [[]]
    page = pg_store.search(Query(models=Group, attributes=["members.value"]))
    assert [[m.value for m in g.members] for g in page.resources] == [["a"]]
    page = pg_store.search(Query(models=Group, excluded_attributes=["members.display"]))
    assert [[m.value for m in g.members] for g in page.resources] == [["a"]]
    page = pg_store.search(Query(models=Group, attributes=["displayName"]))
    assert [g.members for g in page.resources] == [[]]


# -- case folding and uniqueness -----------------------------------------------------------


def test_postgres_lower_is_not_the_evaluators_case_fold(pg_store: PostgresStore) -> None:
    """Why the folded copy is computed in Python: lower() does not fold ß, nor ǅ the same way."""
    assert _sql(pg_store, "SELECT lower('STRASSE') = lower('straße')") == [(False,)]
    pg_store.create(User(user_name="straße"))
    with pytest.raises(Uniqueness):
        pg_store.create(User(user_name="STRASSE"))
    assert pg_store.search(Query(models=User, filter='userName eq "STRASSE"')).total == 1


def test_the_database_itself_refuses_a_second_folded_user_name(pg_store: PostgresStore) -> None:
    pg_store.create(User(user_name="BJensen"))
    with pytest.raises(psycopg.errors.UniqueViolation):
        _sql(
            pg_store,
            "INSERT INTO scim_resources (resource_type, id, version, doc, sdoc) "
            "VALUES ('user', 'x', 1, '{}', '{\"username\": \"bjensen\"}')",
        )


def test_uniqueness_error_names_the_attribute(pg_store: PostgresStore) -> None:
    pg_store.create(User(user_name="BJensen"))
    with pytest.raises(Uniqueness, match="userName 'bjensen' is already taken"):
        pg_store.create(User(user_name="bjensen"))


def test_extra_unique_rules_are_indexes(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn, schema=schema_name(), unique={"User": ["externalId"]})
    try:
        store.create(User(user_name="a", external_id="E1"))
        store.create(User(user_name="b", external_id="e1"))  # externalId is caseExact
        with pytest.raises(Uniqueness, match="externalId"):
            store.create(User(user_name="c", external_id="E1"))
        store.create(User(user_name="d", external_id=""))
        store.create(User(user_name="e", external_id=""))  # "" is no value
    finally:
        store.drop()
        store.close()


# -- filters PostgreSQL cannot bind as they are --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        'userName eq "a\\u0000"',
        'userName ne "a\\u0000"',
        'userName co "\\u0000"',
        'userName sw "b\\u0000"',
        'userName ew "\\u0000"',
        'userName gt "b\\u0000x"',
        'userName ge "b\\u0000"',
        'userName lt "b\\u0000"',
        'userName le "bob\\u0000"',
        'not (title co "\\u0000")',
        'nosuch ne "\\u0000"',
        'not (nosuch eq "\\u0000")',
        'emails[nosuch ne "\\u0000"]',
        'emails[type ne "\\u0000"]',
        'name.nosuch ne "\\u0000"',
        'emails[value eq "\\u0000"]',
        'emails[not (value eq "\\u0000")]',
    ],
)
def test_filters_with_u0000_agree_with_the_evaluator(pg_store: PostgresStore, text: str) -> None:
    users = [
        pg_store.create(User(user_name=n, title=t))
        for n, t in (("a", None), ("b", "x"), ("bob", ""), ("c", "y"))
    ]
    node = parse_filter(text)
    expected = {u.id for u in users if compile_filter(node, User)(u)}
    assert {u.id for u in pg_store.search(Query(models=User, filter=node)).resources} == expected


# -- indexes -------------------------------------------------------------------------------


def _plans(store: PostgresStore, query: Query, *, sorts: bool = False) -> list[str]:
    """EXPLAIN every SELECT the search runs (scans, and sorts unless told, switched off:
    usable indexes)."""
    plans: list[str] = []
    operation = _search.search(store._config, query, store.cursors)
    with psycopg.connect(
        store.dsn, options=f"-c search_path={store.schema}", cursor_factory=psycopg.ClientCursor
    ) as conn:
        conn.execute("SET enable_seqscan = off")
        if not sorts:
            conn.execute("SET enable_sort = off")
        rows: Any = None
        try:
            while True:
                statement: Statement = operation.send(rows)
                cursor = conn.execute(statement.text, statement.params)
                rows = cursor.fetchall() if cursor.description else []
                if statement.text.startswith("SELECT"):
                    plan = conn.execute("EXPLAIN " + statement.text, statement.params).fetchall()
                    plans.append("\n".join(line for (line,) in plan))
        except StopIteration:
            return plans


@pytest.mark.slow
def test_lookups_and_sorted_pages_use_indexes(pg_store: PostgresStore) -> None:
    for i in range(50):
        pg_store.create(User(user_name=f"user{i}", emails=[Email(value=f"u{i}@x.org")]))
    # A lookup without ``count`` reads all its matches: they give the total, no count runs.
    (plan,) = _plans(pg_store, Query(models=User, filter='userName eq "USER7"'))
    assert plan.count("scim_lookup_pkey") == 1 and "Aggregate" not in plan, plan
    (plan,) = _plans(pg_store, Query(models=User, filter='emails.value eq "u3@x.org"'))
    assert plan.count("scim_lookup_pkey") == 1 and "Aggregate" not in plan, plan
    some = pg_store.search(Query(models=User, count=1)).resources[0]
    # (sorting the one row found by rid costs less than finding it by scanning in rid order)
    (plan,) = _plans(pg_store, Query(models=User, filter=f'id eq "{some.id}"'), sorts=True)
    assert "using scim_resources_id on" in plan and "Aggregate" not in plan, plan
    # A full page is read first, then again with the total (one snapshot for both).
    page, counted = _plans(pg_store, Query(models=User, sort_by="userName", count=10))
    for plan in (page, counted):
        assert "Index Scan using scim_sort_" in plan and "Sort Key: ((NULLIF" not in plan, plan
    page, counted = _plans(
        pg_store, Query(models=User, sort_by="userName", sort_order="descending", count=10)
    )
    assert "Index Scan Backward using scim_sort_" in counted, counted
    # A lookup's page is shorter than asked: it gives the total, no count is run.
    (plan,) = _plans(pg_store, Query(models=User, filter='userName eq "USER7"', count=10))
    assert plan.count("scim_lookup_pkey") == 1 and "Aggregate" not in plan, plan
    found = pg_store.search(Query(models=User, filter='userName eq "USER7"', count=10))
    assert (found.total, [u.user_name for u in found.resources]) == (1, ["user7"])
    first = pg_store.search(Query(models=User, sort_by="userName", count=10, cursor=""))
    following = Query(models=User, sort_by="userName", count=10, cursor=first.next_cursor)
    plans = _plans(pg_store, following)
    assert all("Sort Key: ((NULLIF" not in plan for plan in plans), plans
    assert "Index Cond: (ROW(" in plans[0], plans[0]  # the scan starts at the cursor


# -- several stores on one database --------------------------------------------------------


def test_a_cursor_from_one_server_is_read_by_another(postgres_dsn: str) -> None:
    schema = schema_name()
    first = PostgresStore(postgres_dsn, schema=schema)
    second = PostgresStore(postgres_dsn, schema=schema)
    try:
        for i in range(5):
            first.create(User(user_name=f"u{i}"))
        page = first.search(Query(models=User, cursor="", count=2, sort_by="userName"))
        assert page.next_cursor is not None
        following = second.search(
            Query(models=User, cursor=page.next_cursor, count=2, sort_by="userName")
        )
        assert [u.user_name for u in following.resources] == ["u2", "u3"]
    finally:
        first.drop()
        first.close()
        second.close()


# -- the async twin ------------------------------------------------------------------------


def test_async_twin(postgres_dsn: str) -> None:
    async def scenario() -> None:
        store = await AsyncPostgresStore.open(postgres_dsn, schema=schema_name())
        try:
            user: Any = await store.create(User(user_name="BJensen"))
            assert (await store.get(User, user.id)) == user
            with pytest.raises(Uniqueness):
                await store.create(User(user_name="bjensen"))
            group: Any = await store.create(Group(display_name="G"))
            await asyncio.gather(
                *(store.update(Group, group.id, _adding(f"m{n}")) for n in range(20))
            )
            stored: Any = await store.get(Group, group.id)
            assert sorted(m.value for m in stored.members) == sorted(f"m{n}" for n in range(20))
            page = await store.search(Query(models=User, filter='userName eq "BJENSEN"'))
            assert [u.id for u in page.resources] == [user.id]
            user.title = "t"
            await store.replace(user, expected_version=user.meta.version)
            with pytest.raises(PreconditionFailed):
                await store.delete(User, user.id, expected_version=user.meta.version)
            await store.delete(User, user.id)
        finally:
            drop = PostgresStore(postgres_dsn, schema=store.schema)
            drop.drop()
            drop.close()
            await store.aclose()

    asyncio.run(scenario())


# -- scimcore db -----------------------------------------------------------------------------


@pytest.fixture
def empty_schema(postgres_dsn: str) -> Iterator[str]:
    schema = schema_name()
    yield schema
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_db_init_and_upgrade(
    postgres_dsn: str, empty_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade", postgres_dsn, "--schema", empty_schema]) == 1
    assert "run 'scimcore db init'" in capsys.readouterr().err
    with pytest.raises(Exception, match="scimcore db init"):
        PostgresStore(postgres_dsn, schema=empty_schema, create=False)
    assert main(["db", "init", postgres_dsn, "--schema", empty_schema]) == 0
    assert main(["db", "init", postgres_dsn, "--schema", empty_schema]) == 0  # idempotent
    assert main(["db", "upgrade", postgres_dsn, "--schema", empty_schema]) == 0
    assert "layout 1" in capsys.readouterr().out
    store = PostgresStore(postgres_dsn, schema=empty_schema, create=False)
    try:
        assert store.create(User(user_name="x")).user_name == "x"
    finally:
        store.close()


def test_db_refuses_a_newer_layout(
    postgres_dsn: str, empty_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "init", postgres_dsn, "--schema", empty_schema]) == 0
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(
            f"UPDATE \"{empty_schema}\".scim_meta SET value = '99' WHERE key = 'schema_version'"
        )
    assert main(["db", "upgrade", postgres_dsn, "--schema", empty_schema]) == 1
    assert "layout 99" in capsys.readouterr().err


def test_create_many(pg_store: PostgresStore) -> None:
    users = [User(user_name=f"bulk{i}", emails=[Email(value=f"b{i}@x.org")]) for i in range(25)]
    group = Group(display_name="G", members=[GroupMember(value="a")])
    created: list[Any] = pg_store.create_many([*users, group])
    ids = [r.id for r in created]
    assert len(set(ids)) == 26
    assert pg_store.get(User, ids[3]) == created[3]
    assert [m.value for m in pg_store.get(Group, ids[25]).members] == ["a"]
    found = pg_store.search(Query(models=User, filter='emails.value eq "B7@X.ORG"'))
    assert [u.id for u in found.resources] == [ids[7]]
    with pytest.raises(Uniqueness):
        pg_store.create_many([User(user_name="new"), User(user_name="BULK1")])
    assert pg_store.search(Query(models=User, count=0)).total == 25  # all or nothing


def test_a_lookup_value_stays_while_another_member_holds_it(pg_store: PostgresStore) -> None:
    group: Any = pg_store.create(
        Group(
            display_name="G",
            members=[GroupMember(value="d", type="User"), GroupMember(value="d", type="Group")],
        )
    )
    remove = {
        "schemas": [PATCH_OP],
        "Operations": [{"op": "remove", "path": 'members[type eq "User"]'}],
    }
    pg_store.update(Group, group.id, lambda g: apply_patch(g, remove))
    found = pg_store.search(Query(models=Group, filter='members.value eq "d"'))
    assert [g.id for g in found.resources] == [group.id]
    remove["Operations"][0]["path"] = 'members[type eq "Group"]'  # type: ignore[index]
    pg_store.update(Group, group.id, lambda g: apply_patch(g, remove))
    assert pg_store.search(Query(models=Group, filter='members.value eq "d"')).total == 0
    assert _sql(pg_store, "SELECT count(*) FROM scim_lookup WHERE key LIKE 'group/members%%'") == [
        (0,)
    ]


def test_the_service_on_the_async_twin(postgres_dsn: str) -> None:
    """ScimService.handle_async awaits AsyncPostgresStore; PATCHes in flight lose nothing."""
    from scimcore.service import Request, ScimService

    async def scenario() -> None:
        store = await AsyncPostgresStore.open(postgres_dsn, schema=schema_name())
        service = ScimService(store)
        try:

            async def send(method: str, path: str, body: Any = None, **headers: str) -> Any:
                data = b"" if body is None else json.dumps(body).encode()
                sent = {"Content-Type": "application/scim+json", **headers}
                return await service.handle_async(Request(method, path, headers=sent, body=data))

            group = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"}
            created = await send("POST", "/Groups", group)
            assert created.status == 201, created.json()
            gid = created.json()["id"]
            replies = await asyncio.gather(
                *(send("PATCH", f"/Groups/{gid}", _add(f"u{n}")) for n in range(12))
            )
            assert [r.status for r in replies] == [200] * 12
            stored = (await send("GET", f"/Groups/{gid}")).json()
            assert sorted(m["value"] for m in stored["members"]) == sorted(
                f"u{n}" for n in range(12)
            )
            stale = created.header("etag")
            late = await send("PATCH", f"/Groups/{gid}", _add("late"), **{"If-Match": stale})
            assert late.status == 412
        finally:
            drop = PostgresStore(postgres_dsn, schema=store.schema)
            drop.drop()
            drop.close()
            await store.aclose()

    asyncio.run(scenario())


def test_reindex_rebuilds_lookups_and_members(postgres_dsn: str) -> None:
    schema = schema_name()
    store = PostgresStore(postgres_dsn, schema=schema)
    try:
        group: Any = store.create(Group(display_name="G", members=[GroupMember(value="m1")]))
        users = [store.create(User(user_name=f"U{i}", title=f"T{i}")) for i in range(5)]
        with psycopg.connect(store.dsn, options=f"-c search_path={schema}") as conn:
            conn.execute("DELETE FROM scim_lookup")
        assert store.search(Query(models=User, filter='userName eq "u3"')).total == 0
        store._run(lambda: _writes.reindex(store._config, batch=2))
        found = store.search(Query(models=User, filter='userName eq "u3"')).resources
        assert [u.id for u in found] == [users[3].id]
        assert [m.value for m in store.get(Group, group.id).members] == ["m1"]
        assert store.search(Query(models=Group, filter='members.value eq "m1"')).total == 1
        # A store configured with other lookups rebuilds them when it opens.
        other = PostgresStore(postgres_dsn, schema=schema, lookups={"User": ["title"]})
        other.close()
        assert _sql(store, "SELECT key, value FROM scim_lookup ORDER BY value") == [
            ("user/title", f"t{i}") for i in range(5)
        ]
    finally:
        store.drop()
        store.close()


def test_a_lookup_of_a_shape_seen_before_binds_its_values_and_no_nul(
    pg_store: PostgresStore,
) -> None:
    for name in ("alice", "bob", "a"):
        pg_store.create(User(user_name=name))

    def names(text: str) -> list[str]:
        page = pg_store.search(Query(models=User, filter=parse_filter(text)))
        return sorted(u.user_name for u in page.resources)

    assert names('userName eq "ALICE"') == ["alice"]
    assert len(pg_store._searches._cached) == 1  # the shape's SQL, kept
    assert names('userName eq "Bob"') == ["bob"]
    # U+0000 cannot be bound: such a value is rewritten, never taken from the cache
    assert names('userName eq "a\\u0000"') == []
    assert names('userName ge "a\\u0000lice"') == ["alice", "bob"]
    assert names('not (userName eq "bob\\u0000")') == ["a", "alice", "bob"]
    assert names('userName eq "a"') == ["a"]


def test_a_lookup_is_prepared_and_not_planned_on_every_call(postgres_dsn: str) -> None:
    store = PostgresStore(postgres_dsn, schema=schema_name(), pool_size=1)  # one connection

    def prepared() -> list[tuple[Any, ...]]:
        """The lookups prepared on the store's connection: (generic plans, custom plans)."""
        with store._pool.connection() as conn:
            return conn.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement LIKE '%user/username%'"
            ).fetchall()

    def lookups(first: int, stop: int) -> None:
        for i in range(first, stop):
            text = f'userName eq "USER{i}"'
            found = store.search(Query(models=User, filter=text))
            assert [u.user_name for u in found.resources] == [f"user{i}"]

    try:
        store.create_many(User(user_name=f"user{i}") for i in range(20))
        lookups(0, 12)  # prepared by psycopg, then planned for its values by the server
        ((generic, custom),) = prepared()  # one statement for every value
        assert generic > 0
        lookups(12, 20)
        assert prepared() == [(generic + 8, custom)]  # each call ran the plan kept
    finally:
        store.drop()
        store.close()


def test_a_search_the_indexes_answer_is_one_statement_under_a_deadline(
    pg_store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scimcore.storage import Deadline
    from scimcore.stores.postgres import _store

    pg_store.create(User(user_name="bjensen", title="Tour Guide"))
    sent: list[str] = []
    execute = _store._execute

    def spy(cursor: Any, statement: Statement) -> list[Any]:
        sent.append(statement.text)
        return execute(cursor, statement)

    monkeypatch.setattr(_store, "_execute", spy)
    lookup = Query(models=User, filter=parse_filter('userName eq "BJENSEN"'), deadline=Deadline(5))
    assert [u.user_name for u in pg_store.search(lookup).resources] == ["bjensen"]
    assert len(sent) == 1 and "statement_timeout" not in sent[0]
    sent.clear()
    scan = Query(models=User, filter=parse_filter('title co "guide"'), deadline=Deadline(5))
    assert [u.user_name for u in pg_store.search(scan).resources] == ["bjensen"]
    assert "statement_timeout" in sent[0]  # a scan is bounded in time
