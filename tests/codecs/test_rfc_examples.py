"""Every RFC example payload (tests/data/rfc) decodes and encodes back to equal JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scimcore.codecs.v2 import decode, encode
from scimcore.models import Group, User

DATA = Path(__file__).parent.parent / "data" / "rfc"

#: (file, model): the section is the file name's prefix.
EXAMPLES: list[tuple[str, type[Any]]] = [
    ("rfc7643-8.1-minimal-user.json", User),
    ("rfc7643-8.2-full-user.json", User),
    ("rfc7643-8.3-enterprise-user.json", User),
    ("rfc7643-8.4-group.json", Group),
]


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


@pytest.mark.parametrize(("name", "model"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_round_trip(name: str, model: type[Any]) -> None:
    doc = load(name)
    assert encode(decode(doc, model), full=True) == doc


def test_full_user_typed_access() -> None:
    from scimcore.models import EnterpriseUser

    user = decode(load("rfc7643-8.3-enterprise-user.json"), User)
    assert user.name is not None
    assert user.name.given_name == "Barbara"
    assert user.emails[0].primary is True
    assert user.groups[1].ref == (
        "https://example.com/v2/Groups/fc348aa8-3835-40eb-a20b-c726e15c55b5"
    )
    enterprise = user[EnterpriseUser]
    assert enterprise is not None
    assert enterprise.manager is not None
    assert enterprise.manager.display_name == "John Smith"
    assert user.meta is not None
    assert user.meta.created is not None
    assert user.meta.created.isoformat() == "2010-01-23T04:56:22+00:00"
