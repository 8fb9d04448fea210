"""The attribute map itself: what it accepts, what it refuses, and that it needs no ORM."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scimcore.mapping import AttributeMap, Column, Computed
from scimcore.models import User

ROOT = Path(__file__).parent.parent.parent


def test_the_core_and_the_map_import_no_orm() -> None:
    code = (
        "import sys, scimcore, scimcore.mapping, scimcore.stores, scimcore.service\n"
        "print(sorted(m for m in ('sqlalchemy', 'django') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"


def test_the_extras_leave_the_core_dependencies_alone() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    core = [requirement.split(">")[0] for requirement in project["dependencies"]]
    assert core == ["attrs", "cattrs", "lark"]
    # The asyncio extra: greenlet, which AsyncMappedStore needs (the async driver is the host's).
    assert project["optional-dependencies"]["sqlalchemy"] == ["sqlalchemy[asyncio]>=2.0"]
    assert project["optional-dependencies"]["django"] == ["django>=4.2"]


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"nope": "x"}, "User has no attribute 'nope'"),
        ({"name": "x"}, "map the sub-attributes of a complex attribute"),
        ({"emails.value": "x"}, "map the sub-attributes of a complex attribute"),
        ({'emails[type eq "work" or type eq "home"].value': "x"}, "equality terms"),
        ({'emails[type eq "work"]': "x"}, "equality terms"),
        ({'emails[kind eq "work"].value': "x"}, "emails has no sub-attribute 'kind'"),
        ({'emails[type eq "work"].value': Computed(lambda row: None)}, "are columns"),
    ],
)
def test_maps_that_cannot_work_are_refused(attributes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AttributeMap(User, attributes)  # type: ignore[arg-type]


class _Row:
    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)


def test_columns_convert_and_computed_values_are_read_only() -> None:
    users = AttributeMap(
        User,
        {
            "userName": Column("login", to_host=str.upper, from_host=str.lower),
            "displayName": Computed(lambda row: f"{row.first} {row.last}"),
            "name.givenName": "first",
            "name.familyName": Column("last", read_only=True),
        },
    )
    row = _Row(id=7, login="BJENSEN", first="Barbara", last="Jensen")
    user = users.resource(row, 'W/"1"')
    assert (user.id, user.user_name, user.display_name) == ("7", "bjensen", "Barbara Jensen")
    assert user.name is not None and user.name.family_name == "Jensen"
    values, setters = users.values(user)
    assert values == {"login": "BJENSEN", "first": "Barbara"}
    assert setters == []
    with pytest.raises(Exception, match="'displayName' is not kept"):
        users.plan('displayName eq "x"')


_ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
_DERIVED = AttributeMap(
    User,
    {
        "userName": "username",
        'emails[type eq "work"].value': "email",
        f"{_ENTERPRISE}:employeeNumber": "number",
        f"{_ENTERPRISE}:department": "department",
    },
)


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        # What the map derives: the resource type, a version, the URNs in schemas.
        ('meta.resourceType eq "User"', "true"),
        ('meta.resourceType eq "user"', "false"),  # caseExact
        ("meta.version pr", "true"),
        ("meta.version eq null", "false"),
        ("schemas pr", "true"),
        ('schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"', "true"),
        (f'schemas eq "{_ENTERPRISE}"', "any(number filled, department filled)"),
        (f'not (schemas eq "{_ENTERPRISE}")', "not(any(number filled, department filled))"),
        ('schemas co "enterprise"', "any(number filled, department filled)"),
        (f'schemas eq "{_ENTERPRISE.upper()}"', "any(number filled, department filled)"),
        # A sub-attribute no schema defines: no match, as for any unknown attribute.
        ('emails[nosuch eq "x"]', "false"),
        ('not (emails[nosuch pr] or emails.nosuch eq "x")', "true"),
    ],
)
def test_filters_on_what_the_map_derives(text: str, plan: str) -> None:
    assert str(_DERIVED.plan(text)) == plan


def test_what_the_map_cannot_derive_is_refused() -> None:
    from scimcore.errors import InvalidFilter
    from scimcore.policy import Policy

    with pytest.raises(InvalidFilter, match=r"'meta\.version' can only be tested with pr"):
        _DERIVED.plan('meta.version eq "W/\\"1\\""')
    with pytest.raises(InvalidFilter, match=r"'meta\.location' is not kept"):
        _DERIVED.plan("meta.location pr")
    with pytest.raises(InvalidFilter, match="Unknown attribute 'nosuch'"):
        _DERIVED.plan('emails[nosuch eq "x"]', Policy.strict())
    computed = AttributeMap(User, {f"{_ENTERPRISE}:department": Computed(lambda row: "R&D")})
    with pytest.raises(InvalidFilter, match="'schemas' is not kept"):
        computed.plan(f'schemas eq "{_ENTERPRISE}"')
