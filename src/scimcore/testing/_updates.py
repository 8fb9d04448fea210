"""The contract's ``update``: a PatchResult or a function; nothing changed, nothing written."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from scimcore.errors import NotFound, PreconditionFailed
from scimcore.models import Group, GroupMember, User
from scimcore.patch import patch_result
from scimcore.storage import update
from scimcore.testing._base import ContractBase, StoreShape

__all__ = ["MemberUpdateContract", "UpdateContract"]

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _patch(op: str, path: str, value: Any) -> dict[str, Any]:
    return {"schemas": [PATCH_OP], "Operations": [{"op": op, "path": path, "value": value}]}


def _retext(shape: StoreShape, value: str) -> Any:
    """A change that sets the shape's text attribute (``title`` by default)."""
    name = shape.text_attribute()

    def change(current: Any) -> Any:
        setattr(current, name, value)  # a function may change the resource it is given
        return current

    return change


class UpdateContract(ContractBase):
    """:func:`scimcore.storage.update` (the store's own ``update`` when it has one):
    ``change`` is a :class:`~scimcore.patch.PatchResult`, written only over the
    version it was computed from, or a function of the stored resource; one that
    changes nothing writes nothing and keeps the version (RFC 7644 §3.5.2)."""

    def test_update_with_a_patch_result(self, store: Any, shape: StoreShape) -> None:
        text, name = shape.text, shape.text_attribute()
        user = store.create(shape.user("bjensen", "Guide"))
        result = patch_result(user, _patch("replace", text, "Tour Guide"))
        updated: Any = update(store, User, user.id, result)
        assert getattr(updated, name) == "Tour Guide"
        assert updated.meta.version != user.meta.version
        assert updated.meta.created == user.meta.created
        assert store.get(User, user.id) == updated

    def test_a_patch_result_that_changes_nothing_writes_nothing(
        self, store: Any, shape: StoreShape
    ) -> None:
        text = shape.text
        user = store.create(shape.user("bjensen", "Guide"))
        result = patch_result(user, _patch("add", text, "Guide"))
        assert not result.changed
        same: Any = update(store, User, user.id, result)
        assert (same.meta.version, same.meta.last_modified) == (
            user.meta.version,
            user.meta.last_modified,
        )
        assert same == user
        assert store.get(User, user.id) == user

    def test_a_patch_result_of_an_older_version_is_precondition_failed(
        self, store: Any, shape: StoreShape
    ) -> None:
        text = shape.text
        user = store.create(shape.user("bjensen", "Guide"))
        stale = patch_result(user, _patch("replace", text, "Stale"))
        written: Any = update(store, User, user.id, _retext(shape, "Written in between"))
        with pytest.raises(PreconditionFailed):
            update(store, User, user.id, stale)
        assert store.get(User, user.id) == written  # the write in between is not lost

    def test_a_patch_result_of_a_group_adds_and_removes_members(
        self, store: Any, shape: StoreShape
    ) -> None:
        shape.require(Group)
        group = store.create(
            Group(display_name="G", members=[GroupMember(value="a"), GroupMember(value="b")])
        )
        result = patch_result(group, _patch("add", "members", [{"value": "c"}]))
        result = patch_result(result.resource, {**_patch("remove", 'members[value eq "a"]', None)})
        updated: Any = update(store, Group, group.id, result)
        assert [m.value for m in updated.members] == ["b", "c"]
        assert store.get(Group, group.id) == updated

    def test_update_with_a_function(self, store: Any, shape: StoreShape) -> None:
        text, name = shape.text, shape.text_attribute()
        user = store.create(User(user_name="bjensen"))
        updated: Any = update(store, User, user.id, _retext(shape, "Tour Guide"))
        assert getattr(updated, name) == "Tour Guide"
        assert updated.meta.version != user.meta.version
        assert store.get(User, user.id) == updated
        renamed: Any = update(
            store,
            User,
            user.id,
            lambda current: patch_result(current, _patch("replace", text, "Renamed")),
        )
        assert getattr(renamed, name) == "Renamed"
        assert renamed.meta.version != updated.meta.version

    def test_a_function_that_changes_nothing_writes_nothing(
        self, store: Any, shape: StoreShape
    ) -> None:
        text = shape.text
        user = store.create(shape.user("bjensen", "Guide"))
        for change in (
            _retext(shape, "Guide"),
            lambda current: current,
            lambda current: patch_result(current, _patch("add", text, "Guide")),
        ):
            same: Any = update(store, User, user.id, change)
            assert (same.meta.version, same.meta.last_modified) == (
                user.meta.version,
                user.meta.last_modified,
            )
            assert store.get(User, user.id) == user

    def test_update_honours_expected_version(self, store: Any, shape: StoreShape) -> None:
        text, name = shape.text, shape.text_attribute()
        user = store.create(shape.user("bjensen", "Guide"))
        first = user.meta.version
        second: Any = update(store, User, user.id, _retext(shape, "Two"), expected_version=first)
        for stale in (first, f'W/"x", {first}', 'W/"x", "y"'):
            with pytest.raises(PreconditionFailed):
                update(store, User, user.id, _retext(shape, "Lost"), expected_version=stale)
            result = patch_result(second, _patch("replace", text, "Lost"))
            with pytest.raises(PreconditionFailed):
                update(store, User, user.id, result, expected_version=stale)
        assert store.get(User, user.id) == second
        current = second.meta.version
        third: Any = update(
            store, User, user.id, _retext(shape, "Three"), expected_version=f'W/"x", {current}'
        )
        assert getattr(third, name) == "Three"
        fourth: Any = update(store, User, user.id, _retext(shape, "Four"), expected_version="*")
        assert getattr(fourth, name) == "Four"

    def test_update_unknown_is_not_found(self, store: Any, shape: StoreShape) -> None:
        with pytest.raises(NotFound):
            update(store, User, "nope", _retext(shape, "x"))
        user = store.create(User(user_name="bjensen"))
        if Group in shape.models:
            with pytest.raises(NotFound):
                update(store, Group, user.id, lambda group: group)


class MemberUpdateContract(ContractBase):
    """``update_members`` (:class:`~scimcore.storage.SupportsMemberUpdate`), for a store
    that has it: the delta a PATCH of the named members makes, written without the rest,
    with the result a whole-resource PATCH would give."""

    @staticmethod
    def _delta(store: Any) -> Any:
        StoreShape.of(store).require(Group)
        method = getattr(store, "update_members", None)
        if method is None:
            pytest.skip("the store does not apply member deltas (update_members)")
        return method

    def test_update_members_adds_and_removes(self, store: Any) -> None:
        update_members = self._delta(store)
        group = store.create(
            Group(display_name="g", members=[GroupMember(value=v) for v in ("a", "b", "c")])
        )
        body = {
            "schemas": [PATCH_OP],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": "d", "display": "D"}]},
                {"op": "remove", "path": 'members[value eq "B"]'},
            ],
        }
        meta = update_members(Group, group.id, ["d", "B"], lambda g: patch_result(g, body))
        stored = store.get(Group, group.id)
        assert meta is not None
        assert meta.version == stored.meta.version != group.meta.version
        assert stored.meta.created == group.meta.created
        assert [(m.value, m.display) for m in stored.members] == [
            ("a", None),
            ("c", None),
            ("d", "D"),
        ]
        assert stored == attrs.evolve(patch_result(group, body).resource, meta=stored.meta)

    def test_update_members_that_changes_nothing_writes_nothing(self, store: Any) -> None:
        update_members = self._delta(store)
        group = store.create(Group(display_name="g", members=[GroupMember(value="a")]))
        body = _patch("add", "members", [{"value": "a"}])
        meta = update_members(Group, group.id, ["a"], lambda g: patch_result(g, body))
        assert meta is not None
        assert meta.version == group.meta.version
        assert store.get(Group, group.id) == group

    def test_update_members_checks_the_expected_version(self, store: Any) -> None:
        update_members = self._delta(store)
        group = store.create(Group(display_name="g"))
        body = _patch("add", "members", [{"value": "a"}])
        with pytest.raises(PreconditionFailed):
            update_members(
                Group, group.id, ["a"], lambda g: patch_result(g, body), expected_version='W/"x"'
            )
        with pytest.raises(NotFound):
            update_members(Group, "no-such-id", ["a"], lambda g: patch_result(g, body))
        assert store.get(Group, group.id) == group
