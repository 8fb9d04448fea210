"""Member deltas (issue 21 item 6): a PATCH that adds members, or removes them by value, is
applied by the store without reading the whole member list, with exactly the outcome of the
whole-resource PATCH.

The reference is the same service over a ``MemoryStore`` whose ``before_patch`` hook is
overridden: the service then never uses ``update_members`` and patches the whole group.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.models import Group
from scimcore.patch import touched_values
from scimcore.service import Hooks, Request, ScimService
from scimcore.storage import Query
from scimcore.stores import MemoryStore, PostgresStore, SQLiteStore

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


class WholeResource(Hooks):
    """A host hook on PATCH: the service must patch the whole resource (the reference)."""

    def before_patch(self, ctx: Any, current: Any, resource: Any) -> Any:
        return resource


class Counting:
    """Counts the deltas a store applied (``update_members`` answering a ``meta``)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.applied = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def update_members(self, *args: Any, **kwargs: Any) -> Any:
        meta = self.store.update_members(*args, **kwargs)  # every shipped store has it
        self.applied += meta is not None
        return meta


def call(service: ScimService, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    path, _, query = path.partition("?")
    response = service.handle(
        Request(
            method,
            path,
            query=query,
            headers={"Content-Type": "application/scim+json"},
            body=b"" if body is None else json.dumps(body).encode(),
        )
    )
    return response.status, response.json()


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": list(operations)}


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        sqlite = SQLiteStore(tmp_path / "deltas.sqlite3")
        yield sqlite
        sqlite.close()
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        postgres = PostgresStore(dsn, schema=f"scim_test_{secrets.token_hex(6)}")
        yield postgres
        postgres.drop()
        postgres.close()


# -------------------------------------------------------------------- which PATCHes qualify


@pytest.mark.parametrize(
    ("operations", "expected"),
    [
        # RFC 7644 §3.5.2.1: add members.
        ([{"op": "add", "path": "members", "value": [{"value": "u1"}]}], {"u1"}),
        # RFC 7644 §3.5.2.2: remove one member by a value filter; an "or" of them.
        ([{"op": "remove", "path": 'members[value eq "u2"]'}], {"u2"}),
        ([{"op": "remove", "path": 'members[value eq "a" or value eq "b"]'}], {"a", "b"}),
        # Entra (research E5): remove with a value list; "Add"/"Remove" capitalised.
        ([{"op": "Remove", "path": "members", "value": [{"value": "u3"}]}], {"u3"}),
        ([{"op": "Add", "path": "members", "value": [{"value": "u4", "$ref": None}]}], {"u4"}),
        # Not a delta: replace, remove all, a filter on display, no path, a sub-attribute.
        ([{"op": "replace", "path": "members", "value": [{"value": "u1"}]}], None),
        ([{"op": "remove", "path": "members"}], None),
        ([{"op": "remove", "path": 'members[display eq "x"]'}], None),
        ([{"op": "add", "value": {"members": [{"value": "u1"}]}}], None),
        ([{"op": "replace", "path": 'members[value eq "u1"].display', "value": "x"}], None),
        ([{"op": "add", "path": "members", "value": [{"display": "no value"}]}], None),
        ([{"op": "add", "path": "displayName", "value": "x"}], None),
        # Removed, then added again: it moves to the end, which the named elements cannot
        # show (found by the property test below).
        (
            [
                {"op": "remove", "path": 'members[value eq "u2"]'},
                {"op": "add", "path": "members", "value": [{"value": "U2"}]},
            ],
            None,
        ),
    ],
)
def test_touched_values(operations: list[dict[str, Any]], expected: set[str] | None) -> None:
    found = touched_values(patch(*operations), "members")
    assert found == (None if expected is None else frozenset(expected))


def test_a_malformed_patch_is_not_a_delta() -> None:
    assert touched_values({"Operations": []}, "members") is None
    assert touched_values(b"not json", "members") is None
    assert touched_values(patch({"op": "add", "path": "members[", "value": []}), "members") is None


# -------------------------------------------------------------------- the same outcome


def _group(service: ScimService, values: list[str]) -> str:
    status, body = call(
        service,
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "g", "members": [{"value": v} for v in values]},
    )
    assert status == 201, body
    return str(body["id"])


def _outcome(service: ScimService, group_id: str, body: dict[str, Any]) -> tuple[Any, ...]:
    before = call(service, "GET", f"/Groups/{group_id}")[1]
    status, answer = call(service, "PATCH", f"/Groups/{group_id}", body)
    after = call(service, "GET", f"/Groups/{group_id}")[1]
    error = None if status < 400 else (answer.get("scimType"), answer.get("detail"))
    changed = before["meta"]["version"] != after["meta"]["version"]
    members = [(m["value"], m.get("display"), m.get("type")) for m in after.get("members", [])]
    return status, error, changed, members


VALUES = st.sampled_from(["u1", "u2", "U2", "u3", "u4", "x"])
MEMBER = st.fixed_dictionaries(
    {"value": VALUES}, optional={"display": st.sampled_from(["A", "B"]), "type": st.just("User")}
)
OPERATION = st.one_of(
    st.builds(
        lambda op, value: {"op": op, "path": "members", "value": value},
        st.sampled_from(["add", "Add"]),
        st.lists(MEMBER, min_size=1, max_size=3),
    ),
    st.builds(lambda v: {"op": "remove", "path": f'members[value eq "{v}"]'}, VALUES),
    st.builds(
        lambda vs: {"op": "Remove", "path": "members", "value": [{"value": v} for v in vs]},
        st.lists(VALUES, min_size=1, max_size=2),
    ),
    # Not a delta: the whole resource is written (SQLite then keeps the member rows that
    # are still there, in order, and rewrites the rest).
    st.builds(
        lambda value: {"op": "replace", "path": "members", "value": value},
        st.lists(MEMBER, max_size=4),
    ),
    st.builds(
        lambda display: {
            "op": "replace",
            "path": 'members[value eq "u2"].display',
            "value": display,
        },
        st.sampled_from(["A", "C"]),
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    initial=st.lists(VALUES, max_size=4),
    requests=st.lists(st.lists(OPERATION, min_size=1, max_size=3), min_size=1, max_size=3),
)
def test_a_delta_gives_what_the_whole_resource_patch_gives(
    store: Any, initial: list[str], requests: list[list[dict[str, Any]]]
) -> None:
    delta = ScimService(Counting(store))
    reference = ScimService(MemoryStore(), hooks=WholeResource())
    group, reference_group = _group(delta, initial), _group(reference, initial)
    for operations in requests:
        body = patch(*operations)
        assert _outcome(delta, group, body) == _outcome(reference, reference_group, body)
    # The served document is what the codec makes of the stored group (no stray empty list).
    served = call(delta, "GET", f"/Groups/{group}")[1]
    assert served.get("members", None) != []


def test_the_delta_path_is_taken_and_reads_no_member_list(store: Any) -> None:
    counting = Counting(store)
    service = ScimService(counting, patch_no_content=True)
    group = _group(service, [f"m{i}" for i in range(50)])
    body = patch({"op": "add", "path": "members", "value": [{"value": "new"}]})
    status, answer = call(service, "PATCH", f"/Groups/{group}", body)
    assert (status, answer, counting.applied) == (204, None, 1)
    body = patch({"op": "remove", "path": 'members[value eq "m7"]'})
    response = service.handle(
        Request(
            "PATCH",
            f"/Groups/{group}",
            headers={"Content-Type": "application/scim+json"},
            body=json.dumps(body).encode(),
        )
    )
    assert response.status == 204 and counting.applied == 2
    stored = store.get(Group, group)
    assert response.header("ETag") == stored.meta.version
    values = [m.value for m in stored.members]
    assert values == [f"m{i}" for i in range(50) if i != 7] + ["new"]
    # The members.value index (User.groups, filters) sees both changes.
    for value, found in (("new", [group]), ("m7", []), ("M8", [group])):
        page = store.search(Query(models=Group, filter=f'members.value eq "{value}"'))
        assert [g.id for g in page.resources] == found


def test_if_match_is_checked_before_a_delta(store: Any) -> None:
    service = ScimService(Counting(store))
    group = _group(service, ["a"])
    body = json.dumps(patch({"op": "add", "path": "members", "value": [{"value": "b"}]}))
    response = service.handle(
        Request(
            "PATCH",
            f"/Groups/{group}",
            headers={"Content-Type": "application/scim+json", "If-Match": 'W/"stale"'},
            body=body.encode(),
        )
    )
    assert response.status == 412
    assert [m.value for m in store.get(Group, group).members] == ["a"]


def test_patch_no_content_answers_200_when_attributes_are_asked(store: Any) -> None:
    service = ScimService(store, patch_no_content=True)
    group = _group(service, ["a"])
    body = patch({"op": "add", "path": "members", "value": [{"value": "b"}]})
    status, answer = call(service, "PATCH", f"/Groups/{group}?attributes=displayName", body)
    assert status == 200
    assert (answer["displayName"], "members" in answer) == ("g", False)
    status, answer = call(
        service,
        "PATCH",
        f"/Groups/{group}",
        patch({"op": "replace", "path": "displayName", "value": "h"}),
    )
    assert (status, answer) == (204, None)


def test_serve_patch_no_content_over_http(tmp_path: Path) -> None:
    """``serve --patch-no-content``'s app, over real HTTP on a SQLite file: an Entra-style
    member add answers 204 with the ETag the group now has."""
    from scimcore._serve import build_app
    from scimcore.policy import Policy
    from tests._live import Client, LiveServer

    store = SQLiteStore(tmp_path / "serve.sqlite3")
    app = build_app(store, ["t0ken"], Policy.interop(), patch_no_content=True)
    with LiveServer(app) as port:
        client = Client(port, "/scim/v2", "t0ken")
        group = client.post("/Groups", {"schemas": [GROUP], "displayName": "Staff"}).json
        # Research E6: Entra's member add, "Add" capitalised and "$ref": null.
        body = patch({"op": "Add", "path": "members", "value": [{"$ref": None, "value": "u1"}]})
        reply = client.patch(f"/Groups/{group['id']}", body)
        assert (reply.status, reply.body) == (204, b"")
        read = client.get(f"/Groups/{group['id']}")
        assert reply.headers["etag"] == read.headers["etag"] == read.json["meta"]["version"]
        assert read.json["members"] == [{"value": "u1"}]
    store.close()


def test_members_are_checked_before_a_delta_when_unknown_ones_are_refused(store: Any) -> None:
    """``Policy.entra()`` refuses a member that names no resource (``unknown_members`` off):
    the delta still applies for known ids, and an unknown one gets the whole-resource
    PATCH's 400, writing nothing."""
    from scimcore import Policy

    counting = Counting(store)
    service = ScimService(counting, policy=Policy.entra())
    user = call(
        service,
        "POST",
        "/Users",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen"},
    )[1]
    group = _group(service, [])
    known = patch({"op": "add", "path": "members", "value": [{"value": user["id"]}]})
    assert call(service, "PATCH", f"/Groups/{group}", known)[0] == 200
    assert counting.applied == 1
    unknown = patch({"op": "add", "path": "members", "value": [{"value": "no-such-id"}]})
    status, error = call(service, "PATCH", f"/Groups/{group}", unknown)
    assert (status, error["scimType"]) == (400, "invalidValue")
    assert counting.applied == 1
    assert [m.value for m in store.get(Group, group).members] == [user["id"]]
