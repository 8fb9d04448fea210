"""The contract's CRUD: ids, ``meta``, copies, versions (RFC 7644 §3.3-§3.6)."""

from __future__ import annotations

from typing import Any

import pytest

from scimcore.errors import NotFound, PreconditionFailed, Uniqueness
from scimcore.models import Group, User
from scimcore.storage import Query
from scimcore.testing._base import ContractBase, StoreShape
from scimcore.testing._data import TRAP_USERS
from scimcore.testing._differential import decode as _decode

__all__ = ["CrudContract"]


class CrudContract(ContractBase):
    """Create, get, replace, delete; copies; versions, ``expected_version`` (RFC 7644 §3.14)."""

    def test_create_sets_id_and_meta(self, store: Any) -> None:
        given_user = User(user_name="bjensen")
        created = store.create(given_user)
        assert created.id
        assert created.meta.resource_type == "User"
        assert created.meta.created is not None
        assert created.meta.created.tzinfo is not None
        assert created.meta.last_modified == created.meta.created
        assert created.meta.version
        assert created.meta.location is None
        assert (given_user.id, given_user.meta) == (None, None)  # the input is untouched
        assert store.get(User, created.id) == created

    def test_create_keeps_a_given_id_and_refuses_a_taken_one(self, store: Any) -> None:
        created = store.create(User(id=self.given_id, user_name="a"))
        assert created.id == self.given_id
        with pytest.raises(Uniqueness):
            store.create(User(id=self.given_id, user_name="b"))

    def test_returns_copies(self, store: Any) -> None:
        created = store.create(User(user_name="bjensen", emails=[]))
        created.user_name = "changed"
        fetched = store.get(User, created.id)
        assert fetched.user_name == "bjensen"
        fetched.emails.append(created)
        assert store.get(User, created.id).emails == []
        found = store.search(Query(models=User)).resources[0]
        found.user_name = "other"
        assert store.get(User, created.id).user_name == "bjensen"

    def test_round_trip_keeps_every_attribute(self, store: Any, shape: StoreShape) -> None:
        """What ``create`` returns is what ``get`` reads (the attributes a store over a
        host's table does not keep are gone from both); ``password`` is kept when the
        store keeps it."""
        for data in TRAP_USERS:
            created = store.create(_decode({**data, "password": "s3cret"}, User))
            if shape.keeps("password"):
                assert created.password == "s3cret"
            fetched = store.get(User, created.id)
            assert fetched == created
            assert fetched.user_name == data["userName"]

    def test_get_unknown_is_not_found(self, store: Any, shape: StoreShape) -> None:
        with pytest.raises(NotFound):
            store.get(User, "nope")
        user = store.create(User(user_name="x"))
        if Group in shape.models:
            with pytest.raises(NotFound):
                store.get(Group, user.id)

    def test_replace(self, store: Any, shape: StoreShape) -> None:
        text = shape.text_attribute()
        created = store.create(shape.user("bjensen", "a"))
        setattr(created, text, "b")
        replaced = store.replace(created)
        assert getattr(replaced, text) == "b"
        assert replaced.id == created.id
        assert replaced.meta.created == created.meta.created
        assert replaced.meta.version != created.meta.version
        assert replaced.meta.last_modified >= created.meta.last_modified
        assert store.get(User, created.id) == replaced

    def test_replace_unknown_is_not_found(self, store: Any) -> None:
        with pytest.raises(NotFound):
            store.replace(User(id="nope", user_name="x"))

    def test_stale_version_is_precondition_failed(self, store: Any, shape: StoreShape) -> None:
        text = shape.text_attribute()
        created = store.create(shape.user("bjensen", "a"))
        first = created.meta.version
        setattr(created, text, "b")
        second = store.replace(created, expected_version=first)
        setattr(created, text, "c")
        with pytest.raises(PreconditionFailed):
            store.replace(created, expected_version=first)
        with pytest.raises(PreconditionFailed):
            store.delete(User, created.id, expected_version=first)
        assert store.get(User, created.id) == second

    def test_expected_version_is_compared_weakly_and_star_matches(self, store: Any) -> None:
        created = store.create(User(user_name="bjensen"))
        opaque = created.meta.version.removeprefix("W/")
        replaced = store.replace(created, expected_version=opaque)
        replaced = store.replace(
            replaced, expected_version=f"W/{replaced.meta.version.removeprefix('W/')}"
        )
        replaced = store.replace(replaced, expected_version="*")
        store.delete(User, created.id, expected_version="*")
        with pytest.raises(NotFound):
            store.get(User, created.id)

    def test_versions_change_on_every_write(self, store: Any, shape: StoreShape) -> None:
        """Every write that changes the resource gives a new version (RFC 7644 §3.14); one
        that writes the same resource again may keep it (a version that is a digest of the
        host's row does)."""
        text = shape.text_attribute()
        seen = set()
        user = store.create(User(user_name="bjensen"))
        seen.add(user.meta.version)
        for n in range(5):
            setattr(user, text, f"v{n}")
            user = store.replace(user)
            seen.add(user.meta.version)
        assert len(seen) == 6  # a version is per resource: another's may be the same
        assert store.get(User, user.id).meta.version == user.meta.version

    def test_delete(self, store: Any) -> None:
        created = store.create(User(user_name="bjensen"))
        store.delete(User, created.id)
        with pytest.raises(NotFound):
            store.get(User, created.id)
        with pytest.raises(NotFound):
            store.delete(User, created.id)
        assert store.search(Query(models=User)).total == 0
