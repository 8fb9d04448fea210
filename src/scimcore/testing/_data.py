"""The data the contract runs on: resources full of traps, filters and sorts to compare.

The resources are wire documents (RFC 7643 §4.1 shapes; ``bjensen`` from §8.2).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DIFFERENTIAL_FILTERS",
    "DIFFERENTIAL_ROOT_FILTERS",
    "DIFFERENTIAL_SORTS",
    "ENTERPRISE",
    "GROUP",
    "TRAP_GROUPS",
    "TRAP_USERS",
    "USER",
]

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _user(user_name: str, **fields: Any) -> dict[str, Any]:
    schemas = [USER, ENTERPRISE] if ENTERPRISE in fields else [USER]
    return {"schemas": schemas, "userName": user_name, **fields}


#: Users full of traps, as wire JSON (RFC 7643 §4.1 shapes; ``bjensen`` from §8.2).
TRAP_USERS: tuple[dict[str, Any], ...] = (
    _user(
        "BJensen",
        externalId="bjensen",
        name={"familyName": "Jensen", "givenName": "Barbara", "formatted": "Ms. Barbara J Jensen"},
        displayName="Babs Jensen",
        title="Tour Guide",
        active=True,
        emails=[
            {"value": "bjensen@example.com", "type": "work", "primary": True},
            {"value": "babs@jensen.org", "type": "home"},
        ],
        phoneNumbers=[{"value": "555-555-8377", "type": "work"}],
        x509Certificates=[{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
        **{
            ENTERPRISE: {
                "employeeNumber": "701984",
                "costCenter": "4130",
                "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"},
            }
        },
    ),
    _user(
        "jsmith",
        externalId="ABC",
        title="",
        active=False,
        nickName="Johnny",
        emails=[{"value": "a@x.com", "type": "work"}, {"value": "j@EXAMPLE.com", "type": "home"}],
    ),
    _user(
        "alice",
        externalId="abc",
        title="50%_off",
        name={"givenName": "Alice"},
        emails=[{"value": "alice@example.org", "primary": False}],
    ),
    _user("Bob", title="50 percent", name={"familyName": "O'Brien"}, active=True),
    _user("carol", title="under_score", displayName='Say "hi"', nickName=""),
    _user("a%b", title="a\\b", displayName="back\\slash", emails=[{"value": "%@_.com"}]),
    _user("a_b", title="it's", name={}, emails=[]),
    _user("straße", displayName="STRASSE", title="Straße"),
    _user("Café", displayName="Cafe\u0301", title="café"),
    _user("ÉCOLE", displayName="école", title="ÉCOLE"),
    _user(
        "zoë",
        title="Zoe",
        active=False,
        addresses=[
            {"type": "work", "postalCode": "91608", "country": "US"},
            {"type": "home", "country": "fr"},
        ],
    ),
    _user("日本語", title="日本", displayName="ﬁle", nickName="ǅ"),
    _user('quote"d', title="'", displayName='"', externalId='q"d'),
    _user("percent%", title="%", displayName="_", externalId="%"),
    _user("under_", title="_", displayName="%", externalId="_"),
    _user(
        "emoji😀",
        title="😀",
        displayName="a😀b",
        emails=[{"value": "EMOJI@Example.COM", "type": "Work", "primary": True}],
    ),
    _user("minimal"),
    _user(
        "dup-emails",
        emails=[
            {"value": "same@x.com", "type": "work"},
            {"value": "same@x.com", "type": "home", "primary": True},
        ],
        **{ENTERPRISE: {"employeeNumber": "", "department": "R&D"}},
    ),
    _user("sw-identical", title="sw-identical", displayName="SW-IDENTICAL"),
)

#: Groups for searches over several resource types.
TRAP_GROUPS: tuple[dict[str, Any], ...] = (
    {
        "schemas": [GROUP],
        "displayName": "Admins",
        "externalId": "g1",
        "members": [{"value": "u-1", "type": "User"}, {"value": "u-2", "type": "User"}],
    },
    {"schemas": [GROUP], "displayName": "tour guides", "members": [{"value": "U-1"}]},
    {"schemas": [GROUP], "displayName": "50%_club", "members": []},
)

_EMP = f"{ENTERPRISE}:employeeNumber"

#: Filters the differential search runs (on Users unless listed with groups).
DIFFERENTIAL_FILTERS: tuple[str, ...] = (
    'userName eq "bjensen"',
    'userName eq "BJENSEN"',
    'userName ne "bjensen"',
    'userName co "%"',
    'userName co "_"',
    'userName sw "a_"',
    'userName sw "a%"',
    'userName ew "%"',
    'userName ew "_"',
    'userName co "\\""',
    'userName co "\'"',
    'userName sw ""',
    'userName ew ""',
    'userName co ""',
    'userName gt "m"',
    'userName le "b"',
    'userName ge "bjensen"',
    'userName lt "É"',
    'userName eq "STRASSE"',
    'userName eq "strasse"',
    'userName eq "CAFÉ"',
    'userName eq "Cafe\u0301"',
    'userName co "😀"',
    'userName sw "BJ"',
    'userName ew "SEN"',
    'userName co "ens"',
    'userName sw "bjensen"',
    "title pr",
    "not (title pr)",
    'title eq ""',
    'title ne ""',
    "title eq null",
    "title ne null",
    'title co "a"',
    'title co "%"',
    'title co "_"',
    'title co "\\\\"',
    'title eq "\'"',
    'title sw "50%"',
    'title sw "50_"',
    'title lt "z"',
    'title gt ""',
    'title eq "STRASSE"',
    'title eq "CAFÉ"',
    "nickName pr",
    'nickName ne "x"',
    'nickName eq "ǆ"',
    'displayName eq "FILE"',
    'displayName co "\\\\"',
    'displayName eq "\\""',
    'displayName eq "Café"',
    'externalId eq "ABC"',
    'externalId eq "abc"',
    'externalId sw "A"',
    'externalId co "%"',
    'externalId eq "_"',
    "externalId pr",
    "id pr",
    "active eq true",
    "active eq false",
    "active ne true",
    "active pr",
    "not (active eq true)",
    "active eq null",
    'emails.value co "example.com"',
    'emails co "example.com"',
    'emails.value ew ".ORG"',
    'emails.value eq "SAME@X.COM"',
    'emails.value sw "%"',
    'emails.type eq "work"',
    'emails.type ne "work"',
    'emails[type eq "work" and value co "example.com"]',
    'emails.type eq "work" and emails.value co "example.com"',
    'emails[type eq "work"]',
    'emails[not (type eq "work")]',
    'emails[type ne "work"]',
    "emails[primary eq true]",
    "emails[primary eq false]",
    "emails[primary pr]",
    "emails pr",
    "emails.value pr",
    "emails[value pr]",
    "not (emails pr)",
    "emails.primary eq true",
    "emails.primary ne true",
    'emails[type eq "work" or primary eq true]',
    'name.familyName eq "jensen"',
    'name.familyName co "\'"',
    "name.familyName pr",
    "name pr",
    "not (name pr)",
    'name[givenName eq "barbara"]',
    "name[not (givenName pr)]",
    'name.givenName sw "a"',
    'phoneNumbers.value eq "555-555-8377"',
    'addresses[type eq "work" and postalCode pr]',
    'addresses.country eq "us"',
    'addresses[country eq "FR" and type eq "work"]',
    'meta.created gt "2000-01-01T00:00:00Z"',
    'meta.created lt "2000-01-01T00:00:00Z"',
    'meta.lastModified ge "2000-01-01T00:00:00+02:00"',
    'meta.resourceType eq "User"',
    'meta.resourceType eq "user"',
    "meta.version pr",
    f'schemas eq "{ENTERPRISE}"',
    f'schemas eq "{ENTERPRISE.upper()}"',
    f'{_EMP} eq "701984"',
    f"{_EMP} pr",
    f"not ({_EMP} pr)",
    f'{ENTERPRISE}:manager.value eq "26118915-6090-4610-87E4-49D8CA9F808D"',
    f"{ENTERPRISE}:manager pr",
    f'{ENTERPRISE}:costCenter co "3"',
    f'{ENTERPRISE}:department eq "r&d"',
    'x509Certificates.value eq "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"',
    'nosuch eq "x"',
    "nosuch pr",
    'not (nosuch eq "x")',
    'nosuch ne "x"',
    'name.nosuch eq "x"',
    'emails[nosuch eq "x"]',
    'userName eq "bjensen" or userName eq "jsmith"',
    'userName sw "j" and not (title pr)',
    '(userName sw "a" or userName sw "b") and active eq true',
    'not (userName eq "bjensen" or active eq false)',
    'not (not (title co "a"))',
    "title pr and not (emails pr) or active eq false",
)

#: Filters the differential search runs over Users and Groups together.
DIFFERENTIAL_ROOT_FILTERS: tuple[str, ...] = (
    'displayName eq "ADMINS"',
    'displayName co "%"',
    'members.value eq "u-1"',
    'members[type eq "User"]',
    "members pr",
    'meta.resourceType eq "Group"',
    "userName pr",
    "not (userName pr)",
    'externalId eq "g1"',
    'displayName sw "t"',
)

#: Sorts the differential search runs: ``(sortBy, sortOrder)``.
DIFFERENTIAL_SORTS: tuple[tuple[str | None, str], ...] = (
    (None, "ascending"),
    ("userName", "ascending"),
    ("userName", "descending"),
    ("title", "ascending"),
    ("title", "descending"),
    ("externalId", "ascending"),
    ("emails", "ascending"),
    ("emails.type", "descending"),
    ("name.familyName", "ascending"),
    ("active", "ascending"),
    ("meta.created", "descending"),
    (_EMP, "ascending"),
)
