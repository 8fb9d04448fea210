"""Every client operation against real servers: ``scimcore serve`` (SQLite, PostgreSQL)
and scim2-server 0.8.3, each in its own process, over real HTTP."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator

import pytest

from scimcore import (
    EnterpriseUser,
    Group,
    InvalidValue,
    NotFound,
    PreconditionFailed,
    Uniqueness,
    User,
)
from scimcore.client import AsyncClient, Client, PlanPolicy, attr
from scimcore.models import BulkOperation, Email, GroupMember, Name, PatchOp, PatchOperation
from tests.client.conftest import TOKEN


@pytest.fixture(params=["httpx", "stdlib"])
def client(live_server: tuple[str, str], request: pytest.FixtureRequest) -> Iterator[Client]:
    with Client(live_server[1], token=TOKEN, engine=request.param) as client:
        yield client


def _name() -> str:
    return f"user-{secrets.token_hex(6)}"


def test_create_get_replace_delete(client: Client) -> None:
    name = _name()
    created = client.create(
        User(
            user_name=name,
            name=Name(given_name="Barbara", family_name="Jensen"),
            emails=[Email(value=f"{name}@example.com", type="work", primary=True)],
        )
    )
    assert created.id is not None and created.user_name == name
    assert created.meta is not None and created.meta.resource_type == "User"
    fetched = client.get(User, created.id)
    assert fetched.name == Name(given_name="Barbara", family_name="Jensen")
    assert [e.value for e in fetched.emails] == [f"{name}@example.com"]
    only = client.get(User, created.id, attributes=["userName"])
    assert only.user_name == name and only.name is None
    without = client.get(User, created.id, excluded_attributes=["emails"])
    assert without.emails == [] and without.name == fetched.name
    fetched.display_name = "Babs"
    replaced = client.replace(fetched)
    assert replaced.display_name == "Babs"
    client.delete(User, created.id)
    with pytest.raises(NotFound) as caught:
        client.get(User, created.id)
    assert caught.value.status == 404
    assert caught.value.request.method == "GET"
    assert caught.value.request.url.endswith(f"/Users/{created.id}")


def test_uniqueness_is_a_typed_error(client: Client) -> None:
    name = _name()
    client.create(User(user_name=name))
    with pytest.raises(Uniqueness) as caught:
        client.create(User(user_name=name))
    assert caught.value.status == 409 and caught.value.scim_type == "uniqueness"
    assert caught.value.request.method == "POST"


def test_enterprise_extension_round_trips(client: Client) -> None:
    user = User(user_name=_name())
    user[EnterpriseUser] = EnterpriseUser(employee_number="701984", department="Tour")
    created = client.create(user)
    extension = created[EnterpriseUser]
    assert extension is not None
    assert (extension.employee_number, extension.department) == ("701984", "Tour")


def test_patch_and_update(client: Client) -> None:
    created = client.create(User(user_name=_name(), active=True))
    assert created.id is not None
    patched = client.patch(
        User,
        created.id,
        PatchOp(operations=[PatchOperation(op="replace", path="active", value=False)]),
    )
    current = patched if patched is not None else client.get(User, created.id)
    assert current.active is False
    new = client.get(User, created.id)
    new.title = "Tour Guide"
    new.name = Name(family_name="Jensen")
    updated = client.update(current, new)
    assert (updated.title, updated.name) == ("Tour Guide", Name(family_name="Jensen"))


@pytest.mark.parametrize("filters", [True, False])
def test_group_members_updated_by_delta(
    client: Client, filters: bool, live_server: tuple[str, str]
) -> None:
    users = [client.create(User(user_name=_name())) for _ in range(6)]
    group = client.create(
        Group(display_name=_name(), members=[GroupMember(value=u.id) for u in users[:4]])
    )
    assert group.id is not None
    new = client.get(Group, group.id)
    new.members = [m for m in new.members if m.value != users[0].id] + [
        GroupMember(value=users[4].id)
    ]
    policy = PlanPolicy(value_filters=filters)
    if live_server[0] == "scim2-server" and not filters:
        # A strict server: a remove with a value list (Entra's form) is refused, atomically.
        with pytest.raises(InvalidValue, match="carries no value"):
            client.update(group, new, policy=policy)
        assert len(client.get(Group, group.id).members) == 4
        return
    updated = client.update(group, new, policy=policy)
    assert sorted(m.value or "" for m in updated.members) == sorted(u.id or "" for u in users[1:5])


def test_search_get_and_post(client: Client) -> None:
    stem = f"s{secrets.token_hex(4)}"
    for i in range(5):
        client.create(User(user_name=f"{stem}-{i}", title='quote " and \\ back'))
    tricky = attr("title").eq('quote " and \\ back')
    for post in (False, True):
        page = client.search(User, attr("userName").sw(stem), post=post, count=2)
        assert page.total_results == 5
        assert len(page.resources) == 2
        assert all(u.user_name.startswith(stem) for u in page.resources if u.user_name)
        found = client.search(User, f'userName sw "{stem}" and {tricky}', post=post)
        assert found.total_results == 5


def test_iter_resources_reads_everything_once(client: Client) -> None:
    stem = f"i{secrets.token_hex(4)}"
    ids = {client.create(User(user_name=f"{stem}-{i:02}")).id for i in range(23)}
    for method in ("auto", "index"):
        seen = [
            u.id
            for u in client.iter_resources(
                User, attr("userName").sw(stem), page_size=5, method=method
            )
        ]
        assert len(seen) == 23 and set(seen) == ids


def test_cached_get_sends_if_none_match(client: Client, live_server: tuple[str, str]) -> None:
    created = client.create(User(user_name=_name()))
    assert created.id is not None
    statuses: list[int] = []
    with Client(
        live_server[1],
        token=TOKEN,
        on_request=lambda log: statuses.append(log.response.status if log.response else 0),
    ) as watched:
        again = watched.get(User, created.id, cached=created)
    if created.meta is not None and created.meta.version is not None:
        assert again is created and statuses[-1] == 304
    else:  # a server without versions: a plain GET
        assert again.id == created.id and statuses[-1] == 200


def test_if_match_refuses_a_stale_version(client: Client) -> None:
    created = client.create(User(user_name=_name()))
    assert created.id is not None and created.meta is not None
    if created.meta.version is None:
        pytest.skip("this server does not version resources")  # never for scimcore serve
    current = client.get(User, created.id)
    current.display_name = "changed"
    fresh = client.replace(current, if_match=True)
    assert fresh.meta is not None and fresh.meta.version != created.meta.version
    with pytest.raises(PreconditionFailed):
        client.replace(created, if_match=True)


def test_bulk_with_references(client: Client) -> None:
    name = _name()
    ops = [
        BulkOperation(
            method="POST",
            path="/Groups",
            bulk_id="g",
            data={
                "schemas": [Group.__scim_schema__.id],
                "displayName": name,
                "members": [{"value": "bulkId:u"}],
            },
        ),
        BulkOperation(method="POST", path="/Users", bulk_id="u", data=User(user_name=name)),
    ]
    results = client.bulk(ops)
    assert [(r.bulk_id, r.status) for r in results] == [("u", "201"), ("g", "201")]
    group_id = (results[1].location or "").rsplit("/", 1)[-1]
    user_id = (results[0].location or "").rsplit("/", 1)[-1]
    assert [m.value for m in client.get(Group, group_id).members] == [user_id]


def test_async_client(live_server: tuple[str, str]) -> None:
    async def main() -> list[str]:
        async with AsyncClient(live_server[1], token=TOKEN) as client:
            stem = f"a{secrets.token_hex(4)}"
            created = await asyncio.gather(
                *(client.create(User(user_name=f"{stem}-{i}")) for i in range(7))
            )
            assert created[0].id is not None
            fetched = await client.get(User, created[0].id)
            assert fetched.user_name == created[0].user_name
            page = await client.search(User, attr("userName").sw(stem), count=3)
            assert page.total_results == 7
            names = [
                u.user_name or ""
                async for u in client.iter_resources(User, attr("userName").sw(stem), page_size=3)
            ]
            await client.delete(User, created[0].id)
            with pytest.raises(NotFound):
                await client.get(User, created[0].id)
            return names

    names = asyncio.run(main())
    assert len(names) == 7 and len(set(names)) == 7
