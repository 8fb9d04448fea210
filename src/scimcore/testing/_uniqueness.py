"""Uniqueness (RFC 7643 §2.2 ``uniqueness``; RFC 7644 §3.12 ``uniqueness``, 409)."""

from __future__ import annotations

from typing import Any

import pytest

from scimcore.errors import Uniqueness
from scimcore.models import Group, User
from scimcore.storage import Query
from scimcore.testing._base import ContractBase, StoreShape

__all__ = ["UniquenessContract"]


class UniquenessContract(ContractBase):
    """Values that must be unique: ``userName``, case-insensitively and after Unicode folding."""

    def test_user_name_is_unique_case_insensitively(self, store: Any) -> None:
        store.create(User(user_name="BJensen"))
        with pytest.raises(Uniqueness):
            store.create(User(user_name="bjensen"))
        with pytest.raises(Uniqueness):
            store.create(User(user_name="BJENSEN"))
        store.create(User(user_name="bjensen2"))
        assert store.search(Query(models=User)).total == 2

    def test_user_name_uniqueness_folds_unicode(self, store: Any) -> None:
        store.create(User(user_name="straße"))
        with pytest.raises(Uniqueness):
            store.create(User(user_name="STRASSE"))
        store.create(User(user_name="Cafe\u0301"))
        with pytest.raises(Uniqueness):
            store.create(User(user_name="CAFÉ"))

    def test_replace_checks_uniqueness_and_changes_nothing_on_failure(
        self, store: Any, shape: StoreShape
    ) -> None:
        store.create(User(user_name="taken"))
        mine = store.create(shape.user("mine", "t"))
        setattr(mine, shape.text_attribute(), "same name, new text")
        mine = store.replace(mine)  # keeping its own userName is no conflict
        mine.user_name = "TAKEN"
        with pytest.raises(Uniqueness):
            store.replace(mine)
        assert store.get(User, mine.id).user_name == "mine"

    def test_a_freed_user_name_can_be_taken_again(self, store: Any) -> None:
        first = store.create(User(user_name="bjensen"))
        first.user_name = "renamed"
        store.replace(first)
        second = store.create(User(user_name="BJENSEN"))
        store.delete(User, second.id)
        store.create(User(user_name="bjensen"))

    def test_user_names_do_not_clash_with_group_names(self, store: Any, shape: StoreShape) -> None:
        shape.require(Group)
        store.create(User(user_name="admins"))
        store.create(Group(display_name="admins"))
