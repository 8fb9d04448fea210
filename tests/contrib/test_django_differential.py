"""DjangoStore's ``Q`` push-down against the evaluator, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from scimcore.contrib.django import DjangoStore
from tests.contrib._host import ACCOUNTS
from tests.contrib.test_sqlalchemy_differential import test_push_down_equals_the_evaluator

__all__ = ["test_push_down_equals_the_evaluator"]

pytestmark = pytest.mark.slow


@pytest.fixture
def store(django_alias: str) -> DjangoStore:
    from tests.contrib.django_host import Account

    return DjangoStore(Account, ACCOUNTS, using=django_alias)
