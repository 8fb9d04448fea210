"""What every part of the store contract has: its settings and its fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from scimcore.models import Group, User
from scimcore.storage import ResourceStore
from scimcore.testing._data import TRAP_GROUPS, TRAP_USERS
from scimcore.testing._differential import decode

__all__ = ["ContractBase"]


class ContractBase:
    """The settings and fixtures of :class:`~scimcore.testing.StoreContract`."""

    #: Whether the store pages with RFC 9865 cursors.
    supports_cursors: ClassVar[bool] = True
    #: Whether the store sorts (``sortBy``).
    supports_sort: ClassVar[bool] = True
    #: Examples of the Hypothesis differential run.
    hypothesis_examples: ClassVar[int] = 200
    #: Writer threads in the concurrency tests.
    threads: ClassVar[int] = 8

    @pytest.fixture
    def store(self) -> Iterator[ResourceStore]:
        """The store under test: override in the subclass."""
        raise NotImplementedError("give StoreContract a 'store' fixture")

    @pytest.fixture
    def populated(self, store: Any) -> tuple[Any, list[Any], list[Any]]:
        """The store with :data:`TRAP_USERS` and :data:`TRAP_GROUPS` in it."""
        users = [store.create(decode(u, User)) for u in TRAP_USERS]
        groups = [store.create(decode(g, Group)) for g in TRAP_GROUPS]
        return store, users, groups

    def _users(self, store: Any, n: int) -> list[Any]:
        """``n`` new users, ``user00``…"""
        return [store.create(User(user_name=f"user{i:02d}")) for i in range(n)]
