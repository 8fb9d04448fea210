"""Fixtures for the PATCH tests: the RFC 7643 §8 example resources and a body builder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scimcore.codecs.v2 import decode
from scimcore.models import Group, User

DATA = Path(__file__).parent / "data"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

Body = Callable[..., dict[str, Any]]


def load(name: str) -> dict[str, Any]:
    """A JSON document of ``data/``."""
    result: dict[str, Any] = json.loads((DATA / name).read_text())
    return result


@pytest.fixture
def user_doc() -> dict[str, Any]:
    """RFC 7643 §8.2, Figure 4: the full User, as JSON."""
    return load("rfc7643-8.2-full-user.json")


@pytest.fixture
def user(user_doc: dict[str, Any]) -> User:
    """RFC 7643 §8.2, Figure 4: the full User."""
    return decode(user_doc, User)


@pytest.fixture
def group_doc() -> dict[str, Any]:
    """RFC 7643 §8.4, Figure 6: the Group, as JSON."""
    return load("rfc7643-8.4-group.json")


@pytest.fixture
def group(group_doc: dict[str, Any]) -> Group:
    """RFC 7643 §8.4, Figure 6: the Group."""
    return decode(group_doc, Group)


@pytest.fixture
def body() -> Body:
    """``body(op, op, …)``: a PatchOp request body with these operations."""

    def make(*operations: dict[str, Any]) -> dict[str, Any]:
        return {"schemas": [PATCH_OP], "Operations": list(operations)}

    return make
