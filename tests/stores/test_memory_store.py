"""MemoryStore's scan machinery: hash columns, holes, compaction, cached compilation.

The store narrows ``eq`` on a singular text attribute with a hash column and lets
the evaluator decide each candidate; these tests drive writes between searches
(creates, replaces, deletes, an id taken again after its delete) and compare every
search with the evaluator run over every stored user.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.errors import InvalidFilter
from scimcore.filter import compile_filter, parse_filter
from scimcore.models import Group, GroupMember, Name, User
from scimcore.storage import Query
from scimcore.stores import MemoryStore
from scimcore.stores._skeleton import _search as skeleton_search
from scimcore.stores.memory import _table

TITLES = ["Tour Guide", "tour guide", "Engineer", "ENGINEER", "Straße", "strasse", ""]

# A write: ("create", key, title), ("replace", key, title) or ("delete", key, None).
writes = st.lists(
    st.tuples(
        st.sampled_from(["create", "create", "replace", "delete"]),
        st.integers(0, 40),
        st.sampled_from([*TITLES, None]),
    ),
    max_size=120,
)


def _search(store: MemoryStore, text: str, **query: Any) -> list[str]:
    page = store.search(Query(models=(User,), filter=parse_filter(text), **query))
    return [user.id for user in page.resources]


def _expected(store: MemoryStore, text: str) -> list[str]:
    """The evaluator over every stored user, in creation order."""
    matches = compile_filter(text, User)
    everyone = store.search(Query(models=(User,)))
    expected = [user.id for user in everyone.resources if matches(user)]
    store.scan_columns = False  # the store's own evaluator scan agrees
    try:
        assert _search(store, text) == expected
    finally:
        store.scan_columns = True
    return expected


def _apply(store: MemoryStore, plan: list[tuple[str, int, str | None]]) -> None:
    live: dict[int, str] = {}
    for action, key, title in plan:
        if action == "create" and key not in live:
            # The same id again after a delete: the row goes to the end.
            store.create(User(id=f"u{key}", user_name=f"user{key}", title=title))
            live[key] = f"u{key}"
        elif action == "replace" and key in live:
            store.replace(User(id=live[key], user_name=f"user{key}", title=title))
        elif action == "delete" and key in live:
            store.delete(User, live.pop(key))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(writes, st.sampled_from([*TITLES, "nobody"]))
def test_narrowed_searches_agree_with_the_evaluator_between_writes(
    plan: list[tuple[str, int, str | None]], title: str
) -> None:
    store = MemoryStore()
    text = f'title eq "{title}"'
    store.search(Query(models=(User,), filter=parse_filter(text)))  # build the column first
    _apply(store, plan)
    assert _search(store, text) == _expected(store, text)
    also = f'title eq "{title}" and userName sw "user"'
    assert _search(store, also) == _expected(store, also)


def test_holes_are_closed_up_and_searches_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    store = MemoryStore()
    ids: list[Any] = [
        store.create(User(user_name=f"u{i}", title=f"t{i % 3}")).id for i in range(300)
    ]
    assert len(_search(store, 'title eq "t1"')) == 100
    table = store._rows["user"]
    for resource_id in ids[:200]:
        store.delete(User, resource_id)
    # More than 64 holes and more than half the table: closed up (and the columns rebuilt).
    assert table._holes < 64
    assert len(table._order) < 300
    assert _search(store, 'title eq "t1"') == _expected(store, 'title eq "t1"')
    assert len(_search(store, 'title eq "t1"')) == 33


def test_hash_collisions_only_add_candidates(monkeypatch: pytest.MonkeyPatch) -> None:
    # With every cell 0, every row is a candidate (a collision everywhere): the
    # evaluator still decides, so the answer is the same.
    monkeypatch.setattr(_table, "_MASK", 0)
    monkeypatch.setattr(skeleton_search, "_MADE", {})  # no probe made with the real mask
    store = MemoryStore()
    for i, title in enumerate(TITLES * 3):
        store.create(User(user_name=f"u{i}", title=title))
    store.create(User(user_name="untitled"))
    for title in TITLES:
        text = f'title eq "{title}"'
        assert _search(store, text) == _expected(store, text)


def test_eq_on_a_complex_sub_attribute_is_narrowed_too() -> None:
    store = MemoryStore()
    for i in range(30):
        store.create(User(user_name=f"u{i}", name=Name(family_name=f"F{i % 4}")))
    text = 'name.familyName eq "f2"'
    assert len(_search(store, text)) == 7
    assert _search(store, text) == _expected(store, text)


def test_equal_filters_with_different_values_are_compiled_apart() -> None:
    # ``active eq true`` and ``active eq 1`` are equal nodes (True == 1); the second is
    # still refused, not answered with the first one's predicate.
    store = MemoryStore()
    store.create(User(user_name="bjensen", active=True))
    assert len(_search(store, "active eq true")) == 1
    with pytest.raises(InvalidFilter):
        _search(store, "active eq 1")


def test_parsed_filters_are_reused_and_errors_are_not_cached() -> None:
    assert parse_filter('title eq "x"') is parse_filter('title eq "x"')
    assert parse_filter("active eq true").value is True  # type: ignore[union-attr]
    one = parse_filter("active eq 1").value  # type: ignore[union-attr]
    assert type(one) is int and one == 1
    for _ in range(2):
        with pytest.raises(InvalidFilter):
            parse_filter('title xx "x"')


def test_plain_pages_skip_deleted_rows_and_count_the_rest() -> None:
    store = MemoryStore()
    ids: list[Any] = [store.create(User(user_name=f"u{i:02d}")).id for i in range(20)]
    for resource_id in ids[::2]:
        store.delete(User, resource_id)
    page = store.search(Query(models=(User,), start_index=3, count=4))
    assert page.total == 10
    assert [u.id for u in page.resources] == ids[5:13:2]
    descending = store.search(Query(models=(User,), sort_order="descending", count=3))
    assert [u.id for u in descending.resources] == ids[19:13:-2]
    documents = store.search_documents(Query(models=(User,), count=2))
    assert [d["userName"] for d in documents.resources] == ["u01", "u03"]


def test_documents_are_copies() -> None:
    store = MemoryStore()
    user: Any = store.create(User(user_name="bjensen", title="Guide"))
    document = store.get_document(User, user.id)
    document["meta"]["location"] = "changed"
    document["title"] = "changed"
    listed = store.search_documents(Query(models=(User,))).resources[0]
    assert listed["title"] == "Guide" and "location" not in listed["meta"]
    listed["meta"]["version"] = "changed"
    assert store.get_document(User, user.id)["meta"]["version"] == user.meta.version


def test_plain_pages_past_the_end_and_with_no_count() -> None:
    store = MemoryStore()
    ids: list[Any] = [store.create(User(user_name=f"u{i}")).id for i in range(5)]
    store.delete(User, ids[0])
    past = store.search(Query(models=(User,), start_index=9, count=3))
    assert (past.total, past.resources) == (4, [])
    everything = store.search(Query(models=(User,), start_index=2))
    assert [u.id for u in everything.resources] == ids[2:]
    nothing = store.search(Query(models=(User,), count=0))
    assert (nothing.total, nothing.resources) == (4, [])


# A group write: ("create" | "replace", key, member ids) or ("delete", key, ()).
group_writes = st.lists(
    st.tuples(
        st.sampled_from(["create", "create", "replace", "delete"]),
        st.integers(0, 12),
        st.lists(st.sampled_from([f"m{i}" for i in range(8)]), max_size=6),
    ),
    max_size=60,
)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(group_writes, st.booleans())
def test_memberships_follow_every_group_write(
    plan: list[tuple[str, int, list[str]]], early: bool
) -> None:
    store = MemoryStore()
    wanted = [f"m{i}" for i in range(9)]  # m8 is in no group
    if early:
        store.memberships(Group, wanted)  # the map exists before the writes
    live: set[int] = set()
    for action, key, members in plan:
        group = Group(
            id=f"g{key}",
            display_name=f"Group {key}",
            members=[GroupMember(value=m) for m in members],
        )
        if action == "create" and key not in live:
            store.create(group)
            live.add(key)
        elif action == "replace" and key in live:
            store.replace(group)
        elif action == "delete" and key in live:
            store.delete(Group, f"g{key}")
            live.discard(key)
    expected: dict[str, list[tuple[str, str | None]]] = {m: [] for m in wanted}
    for group in store.search(Query(models=(Group,))).resources:  # in creation order
        for member in {m.value for m in group.members}:
            expected[member].append((group.id, group.display_name))
    assert store.memberships(Group, wanted) == expected


# -------------------------------------------------------------------- member deltas


def _toggle(store: MemoryStore, group_id: str, value: str, present: bool) -> Any:
    """Remove ``value`` from the group's members if ``present``, else add it: a delta."""
    from scimcore.patch import patch_result

    if present:
        operation: dict[str, Any] = {"op": "remove", "path": f'members[value eq "{value}"]'}
    else:
        operation = {"op": "add", "path": "members", "value": [{"value": value}]}
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [operation]}
    meta = store.update_members(Group, group_id, [value], lambda g: patch_result(g, body))
    assert meta is not None  # a delta, not left to the whole-resource PATCH
    return meta


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 40), min_size=1, max_size=60))
def test_readers_never_see_half_a_member_delta(toggles: list[int]) -> None:
    """Threads read a group (get, get_document, each kind of search) while another applies
    member deltas: every copy read holds exactly the members of the version it carries,
    and a search on ``members.value`` returns only groups that hold that value."""
    import sys
    import threading

    store = MemoryStore()
    initial = [f"m{i}" for i in range(0, 400, 2)]  # m0, m2, …: the even values to m398
    group: Any = store.create(
        Group(display_name="g", members=[GroupMember(value=v) for v in initial])
    )
    store.create(Group(display_name="other", members=[GroupMember(value="m1")]))
    expected: dict[str, list[str]] = {group.meta.version: list(initial)}
    seen: list[tuple[str, str, list[str]]] = []  # (how, version, member values)
    misses: list[str] = []
    done = threading.Event()

    def values(resource: Any) -> list[str]:
        return [m.value for m in resource.members or []]

    def read(kind: int) -> None:
        while not done.is_set():
            if kind == 0:
                found: Any = store.get(Group, group.id)
                seen.append(("get", found.meta.version, values(found)))
                document = store.get_document(Group, group.id)
                members = [m["value"] for m in document.get("members", [])]
                seen.append(("get_document", document["meta"]["version"], members))
            elif kind == 1:  # narrowed by the hash column, in creation order, every row
                for text in ('displayName eq "g"', None, "members pr"):
                    page = store.search(Query(models=(Group,), filter=text))
                    for found in page.resources:
                        if found.id == group.id:
                            seen.append((str(text), found.meta.version, values(found)))
                page_of_documents = store.search_documents(Query(models=(Group,), count=1))
                for document in page_of_documents.resources:
                    members = [m["value"] for m in document.get("members", [])]
                    seen.append(("documents", document["meta"]["version"], members))
            else:
                for n in (1, 3, 4):
                    text = f'members.value eq "m{n}"'
                    for found in store.search(Query(models=(Group,), filter=text)).resources:
                        if f"m{n}" not in values(found):
                            misses.append(f"{text}: {found.display_name} {values(found)}")
                        if found.id == group.id:
                            seen.append((text, found.meta.version, values(found)))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    readers = [threading.Thread(target=read, args=(kind,)) for kind in range(3)]
    try:
        for reader in readers:
            reader.start()
        members = list(initial)
        for n in toggles:
            value = f"m{n}"
            meta = _toggle(store, group.id, value, value in members)
            members = [m for m in members if m != value] if value in members else [*members, value]
            expected[meta.version] = list(members)
    finally:
        done.set()
        for reader in readers:
            reader.join()
        sys.setswitchinterval(interval)
    assert misses == []
    assert [(how, version) for how, version, got in seen if got != expected[version]] == []
    assert values(store.get(Group, group.id)) == members
    # The members.value index and the filters agree with the final members.
    for n in range(41):
        page = store.search(Query(models=(Group,), filter=f'members.value eq "m{n}"'))
        holds = [g.display_name for g in page.resources]
        assert holds == (["g"] if f"m{n}" in members else []) + (["other"] if n == 1 else [])
        assert store.memberships(Group, [f"m{n}"])[f"m{n}"] == [
            (g.id, g.display_name) for g in page.resources
        ]


def test_a_delta_keeps_encodes_key_order() -> None:
    from scimcore.codecs.v2 import encode

    store = MemoryStore()
    group: Any = store.create(
        Group(display_name="g", external_id="x", members=[GroupMember(value="a")])
    )
    _toggle(store, group.id, "b", False)
    document = store.get_document(Group, group.id)
    assert list(document) == list(encode(store.get(Group, group.id), full=True))
    assert [m["value"] for m in document["members"]] == ["a", "b"]
    _toggle(store, group.id, "a", True)
    _toggle(store, group.id, "b", True)
    assert "members" not in store.get_document(Group, group.id)
    _toggle(store, group.id, "c", False)
    document = store.get_document(Group, group.id)
    assert list(document) == list(encode(store.get(Group, group.id), full=True))
    assert [m["value"] for m in document["members"]] == ["c"]
