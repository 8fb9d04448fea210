"""StoreContract on MappedStore: a Users-only store over a host's table that keeps some
attributes only. The contract learns that shape from the store (``model``,
``served_schema``) and tests what it keeps; the Group parts are skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scimcore.contrib.sqlalchemy import MappedStore
from scimcore.models import User
from scimcore.testing import StoreContract
from scimcore.testing._base import StoreShape
from tests.contrib._host import ACCOUNTS, Account
from tests.contrib.conftest import sqlite_engine


class TestMappedStoreContract(StoreContract):
    hypothesis_examples = 25
    given_id = "4242"  # the host's key is an integer

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[Any]:
        engine = sqlite_engine(tmp_path / "accounts.sqlite3")
        yield MappedStore(engine, Account, ACCOUNTS, cursor_secret=b"k" * 32)
        engine.dispose()


def test_the_shape_is_learned_from_the_store(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "accounts.sqlite3")
    shape = StoreShape.of(MappedStore(engine, Account, ACCOUNTS, cursor_secret=b"k" * 32))
    assert shape.models == (User,)  # no Group: those parts are skipped
    assert shape.text == "displayName"  # no title in the table: the next text attribute
    assert shape.keeps("name.givenName") and not shape.keeps("name.formatted")
    assert shape.keeps("emails.value") and not shape.keeps("title")
    assert shape.sorts_by("userName") and not shape.sorts_by("emails.value")
    engine.dispose()
