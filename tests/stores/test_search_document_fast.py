"""search_document's planned implementation against the generic one it replaced.

``reference_search_document`` is the original implementation, kept verbatim as the
oracle: for any document, the planned one must give the same search document, key
order and value types included (the stores serialise it as JSON), or the same error.
"""

from __future__ import annotations

import datetime
import json
import random
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.codecs.v2 import encode
from scimcore.models import Group, User
from scimcore.schema import (
    USER_RESOURCE_TYPE,
    Attribute,
    ResourceType,
    Schema,
    SchemaExtension,
    SchemaRegistry,
    core_schemas,
)
from scimcore.storage._query import registry_of
from scimcore.storage._values import comparable
from scimcore.stores.sql import search_document
from scimcore.strategies import resources

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
REGISTRY = core_schemas()


def _resource_type(name: str) -> ResourceType:
    found = REGISTRY.resource_type(name)
    assert found is not None
    return found


USER = _resource_type("User")
GROUP = _resource_type("Group")


# ------------------------------------------------------------------ the reference


def _simple(value: Any, attribute: Attribute) -> Any:
    if isinstance(value, Mapping | list):
        return None
    return comparable(value, attribute)


def _complex(value: Any, attribute: Attribute) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    out: dict[str, Any] = {}
    for key, sub_value in value.items():
        sub = attribute.sub_attribute(key)
        if sub is None or sub_value is None:
            continue
        converted = _value(sub_value, sub)
        if converted is not None:
            out[sub.name.casefold()] = converted
    return out


def _one(value: Any, attribute: Attribute) -> Any:
    return _complex(value, attribute) if attribute.is_complex else _simple(value, attribute)


def _value(value: Any, attribute: Attribute) -> Any:
    if attribute.multi_valued:
        items = value if isinstance(value, list) else [value]
        converted = [_one(item, attribute) for item in items if item is not None]
        return [item for item in converted if item is not None]
    return _one(value, attribute)


def _attributes(
    data: Mapping[str, Any], lookup: Iterable[Any], out: dict[str, Any]
) -> dict[str, Any]:
    finders = tuple(lookup)
    for key, value in data.items():
        if value is None:
            continue
        for find in finders:
            attribute = find(key)
            if attribute is not None:
                converted = _value(value, attribute)
                if converted is not None:
                    out[attribute.name.casefold()] = converted
                break
    return out


def reference_search_document(
    doc: Mapping[str, Any], resource_type: ResourceType, registry: SchemaRegistry
) -> dict[str, Any]:
    base = registry.schema(resource_type.schema)
    if base is None:
        raise ValueError(f"unknown schema {resource_type.schema!r}")
    common = registry.common_attributes
    common_by_name = {a.name.casefold(): a for a in common}
    extensions = {urn.casefold(): urn for urn in resource_type.extension_urns}
    out: dict[str, Any] = {}
    top: dict[str, Any] = {}
    for key, value in doc.items():
        urn = extensions.get(key.casefold())
        if urn is not None:
            schema = registry.schema(urn)
            if schema is not None and isinstance(value, Mapping):
                out[urn.casefold()] = _attributes(value, (schema.attribute,), {})
        else:
            top[key] = value
    return _attributes(top, (base.attribute, lambda k: common_by_name.get(k.casefold())), out)


# ------------------------------------------------------------------ helpers


def outcome(
    function: Any, doc: Mapping[str, Any], resource_type: ResourceType, registry: SchemaRegistry
) -> str:
    """What a call gives, exactly: the repr keeps key order and value types; or the error."""
    try:
        return repr(function(doc, resource_type, registry))
    except Exception as exc:  # the same error either way
        return f"raised {type(exc).__name__}: {exc}"


def assert_same(doc: Mapping[str, Any], resource_type: ResourceType = USER,
                registry: SchemaRegistry = REGISTRY) -> None:  # fmt: skip
    expected = outcome(reference_search_document, doc, resource_type, registry)
    assert outcome(search_document, doc, resource_type, registry) == expected
    # Twice: the second call runs on the cached plan.
    assert outcome(search_document, doc, resource_type, registry) == expected


# ------------------------------------------------------------------ hand-written cases

FULL_USER: dict[str, Any] = {  # RFC 7643 §8.2 and §8.3
    "schemas": [USER_SCHEMA, ENTERPRISE],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "701984",
    "userName": "bjensen@example.com",
    "name": {
        "formatted": "Ms. Barbara J Jensen, III",
        "familyName": "Jensen",
        "givenName": "Barbara",
        "middleName": "Jane",
        "honorificPrefix": "Ms.",
        "honorificSuffix": "III",
    },
    "displayName": "Babs Jensen",
    "nickName": "Babs",
    "profileUrl": "https://login.example.com/bjensen",
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    "addresses": [
        {
            "type": "work",
            "streetAddress": "100 Universal City Plaza",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "USA",
            "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
            "primary": True,
        }
    ],
    "phoneNumbers": [{"value": "555-555-5555", "type": "work"}],
    "ims": [{"value": "someaimhandle", "type": "aim"}],
    "photos": [
        {"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}
    ],
    "userType": "Employee",
    "title": "Tour Guide",
    "preferredLanguage": "en-US",
    "locale": "en-US",
    "timezone": "America/Los_Angeles",
    "active": True,
    "password": "t1meMa$heen",
    "groups": [
        {
            "value": "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "$ref": "https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a",
            "display": "Tour Guides",
        }
    ],
    "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
    ENTERPRISE: {
        "employeeNumber": "701984",
        "costCenter": "4130",
        "organization": "Universal Studios",
        "division": "Theme Park",
        "department": "Tour Operations",
        "manager": {
            "value": "26118915-6090-4610-87e4-49d8ca9f808d",
            "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
            "displayName": "John Smith",
        },
    },
    "meta": {
        "resourceType": "User",
        "created": "2010-01-23T04:56:22Z",
        "lastModified": "2011-05-13T04:42:34Z",
        "version": 'W/"3694e05e9dff591"',
        "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
    },
}

FULL_USER_SEARCH = {
    ENTERPRISE.casefold(): {
        "employeenumber": "701984",
        "costcenter": "4130",
        "organization": "universal studios",
        "division": "theme park",
        "department": "tour operations",
        "manager": {
            "value": "26118915-6090-4610-87e4-49d8ca9f808d",
            "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d",
            "displayname": "john smith",
        },
    },
    "schemas": [USER_SCHEMA.casefold(), ENTERPRISE.casefold()],  # caseExact: false
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalid": "701984",
    "username": "bjensen@example.com",
    "name": {
        "formatted": "ms. barbara j jensen, iii",
        "familyname": "jensen",
        "givenname": "barbara",
        "middlename": "jane",
        "honorificprefix": "ms.",
        "honorificsuffix": "iii",
    },
    "displayname": "babs jensen",
    "nickname": "babs",
    "profileurl": "https://login.example.com/bjensen",
    "emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home"},
    ],
    "addresses": [
        {
            "type": "work",
            "streetaddress": "100 universal city plaza",
            "locality": "hollywood",
            "region": "ca",
            "postalcode": "91608",
            "country": "usa",
            "formatted": "100 universal city plaza\nhollywood, ca 91608 usa",
            "primary": True,
        }
    ],
    "phonenumbers": [{"value": "555-555-5555", "type": "work"}],
    "ims": [{"value": "someaimhandle", "type": "aim"}],
    "photos": [
        {"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}
    ],
    "usertype": "employee",
    "title": "tour guide",
    "preferredlanguage": "en-us",
    "locale": "en-us",
    "timezone": "america/los_angeles",
    "active": True,
    "password": "t1mema$heen",
    "groups": [
        {
            "value": "e9e30dba-f08f-4109-8486-d5c6a331660a",
            "$ref": "https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a",
            "display": "tour guides",
        }
    ],
    "x509certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAw"}],
    "meta": {
        "resourcetype": "User",
        "created": "2010-01-23T04:56:22.000000Z",
        "lastmodified": "2011-05-13T04:42:34.000000Z",
        "version": 'W/"3694e05e9dff591"',
        "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646",
    },
}

ODD_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    # Keys in any case, the search document's in case-folded form; the extension first.
    (
        {
            "USERNAME": "BJensen",
            "Name": {"GIVENNAME": "Barbara", "familyname": "JENSEN"},
            "urn:IETF:params:scim:schemas:extension:ENTERPRISE:2.0:user": {"Department": "OPS"},
            "Meta": {"LASTMODIFIED": "2011-05-13T04:42:34Z"},
        },
        {
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"department": "ops"},
            "username": "bjensen",
            "name": {"givenname": "barbara", "familyname": "jensen"},
            "meta": {"lastmodified": "2011-05-13T04:42:34.000000Z"},
        },
    ),
    # Nulls and unknown keys are left out, at every level; an empty object stays.
    (
        {
            "userName": None,
            "nosuch": "x",
            "displayName": "Babs",
            "name": {"givenName": None, "nosuch": 1},
            "emails": [None, {"value": None, "type": "WORK", "nosuch": True}],
            ENTERPRISE: None,
            "urn:example:unknown:2.0:Thing": {"a": 1},
        },
        {"displayname": "babs", "name": {}, "emails": [{"type": "work"}]},
    ),
    # A single value of a multi-valued attribute is a one-element list.
    (
        {"emails": {"value": "A@X.COM"}, "schemas": USER_SCHEMA, "photos": []},
        {"emails": [{"value": "a@x.com"}], "schemas": [USER_SCHEMA.casefold()], "photos": []},
    ),
    # dateTimes with an offset become fixed-width UTC text; a non-dateTime text stays.
    (
        {
            "meta": {
                "created": "2011-05-13T05:00:00+02:00",
                "lastModified": "2011-05-13T05:00:00.5-08:00",
            }
        },
        {
            "meta": {
                "created": "2011-05-13T03:00:00.000000Z",
                "lastmodified": "2011-05-13T13:00:00.500000Z",
            }
        },
    ),
    (
        {"meta": {"created": "2011-05-13", "lastModified": "yesterday"}},
        {"meta": {"created": "2011-05-13", "lastmodified": "yesterday"}},
    ),
    # A non-object complex value, and an object or list for a simple one, are dropped.
    (
        {"name": "Barbara", "userName": {"x": 1}, "title": ["a"], "emails": ["a@x.com", {}]},
        {"emails": [{}]},
    ),
    # Unicode strings are folded (NFC, then case fold); caseExact ones are kept.
    (
        {"displayName": "STRAßE", "externalId": "ABC", "nickName": "Cafe\u0301"},
        {"displayname": "strasse", "externalid": "ABC", "nickname": "caf\u00e9"},
    ),
    # A non-JSON value goes through the generic rules: a datetime object is UTC text.
    (
        {
            "meta": {
                "created": datetime.datetime(
                    2011, 5, 13, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
                )
            },
            "active": 1,
        },
        {"meta": {"created": "2011-05-13T03:00:00.000000Z"}, "active": 1},
    ),
]


def test_full_user() -> None:
    assert json.dumps(search_document(FULL_USER, USER, REGISTRY)) == json.dumps(FULL_USER_SEARCH)
    assert_same(FULL_USER)


@pytest.mark.parametrize(("doc", "expected"), ODD_CASES)
def test_odd_documents(doc: dict[str, Any], expected: dict[str, Any]) -> None:
    assert repr(search_document(doc, USER, REGISTRY)) == repr(expected)
    assert_same(doc)


def test_typical_user() -> None:
    doc = {
        "schemas": [USER_SCHEMA],
        "id": "f9458a19-b177-4a57-befe-3ea29cc105f3",
        "userName": "user00007",
        "name": {"familyName": "Family7", "givenName": "Given7"},
        "displayName": "User 7",
        "title": "Title 7",
        "active": True,
        "emails": [{"value": "user7@example.com", "type": "work", "primary": True}],
        "meta": {
            "resourceType": "User",
            "created": "2026-11-29T01:49:26.102194Z",
            "lastModified": "2026-11-29T01:49:26.102194Z",
            "version": 'W/"8"',
        },
    }
    assert_same(doc)
    assert search_document(doc, USER, REGISTRY)["meta"]["lastmodified"] == (
        "2026-11-29T01:49:26.102194Z"
    )


def test_unknown_base_schema() -> None:
    orphan = ResourceType(name="Thing", endpoint="/Things", schema="urn:example:Thing")
    with pytest.raises(ValueError, match="unknown schema"):
        search_document({}, orphan, REGISTRY)


def test_unregistered_extension_is_left_out() -> None:
    odd = ResourceType(
        name="User",
        endpoint="/Users",
        schema=USER_SCHEMA,
        schema_extensions=[SchemaExtension(schema="urn:example:nosuch", required=False)],
    )
    doc = {"urn:example:NOSUCH": {"a": "B"}, "userName": "X"}
    assert search_document(doc, odd, REGISTRY) == {"username": "x"}
    assert_same(doc, odd)


def test_replaced_schema_gets_a_new_plan() -> None:
    registry = core_schemas()
    user = registry.resource_type("User")
    assert user is not None
    doc = {ENTERPRISE: {"department": "OPS", "badge": "AB"}, "userName": "BJ"}
    assert search_document(doc, user, registry)[ENTERPRISE.casefold()] == {"department": "ops"}
    registry.add_schema(Schema(id=ENTERPRISE, attributes=[Attribute("badge", case_exact=True)]))
    assert search_document(doc, user, registry)[ENTERPRISE.casefold()] == {"badge": "AB"}
    assert_same(doc, user, registry)
    # An equal but distinct resource type, and another registry, give the same.
    assert_same(doc, USER_RESOURCE_TYPE, registry)
    assert_same(doc, USER_RESOURCE_TYPE, REGISTRY)


# ------------------------------------------------------------------ the property


def _scramble_key(key: str, rnd: random.Random) -> str:
    choice = rnd.randrange(5)
    if choice == 0:
        return key
    if choice == 1:
        return key.upper()
    if choice == 2:
        return key.lower()
    if choice == 3:
        return key.swapcase()
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in key)


def _scramble(value: Any, rnd: random.Random) -> Any:
    """Scrambled key case, with the odd null, unknown key, unwrapped list or stray type."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out[_scramble_key(key, rnd)] = _scramble(item, rnd)
            if rnd.random() < 0.05:  # the same key again in another case
                out[_scramble_key(key, rnd)] = _scramble(item, rnd)
        if rnd.random() < 0.1:
            out["noSuch" + str(rnd.randrange(3))] = "x"
        if rnd.random() < 0.1 and out:
            out[rnd.choice(list(out))] = None
        return out
    if isinstance(value, list):
        items = [_scramble(item, rnd) for item in value]
        if len(items) == 1 and rnd.random() < 0.3:
            return items[0]
        if rnd.random() < 0.1:
            items.append(None)
        return items
    if rnd.random() < 0.03:
        return rnd.choice([{"value": value}, [value], "2011-05-13T05:00:00+05:30", 7, True])
    return value


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.tuples(st.just(User), resources(User)), st.tuples(st.just(Group), resources(Group))
    ),
    st.randoms(use_true_random=False),
)
def test_same_as_reference(model_and_resource: tuple[type, Any], rnd: random.Random) -> None:
    model, resource = model_and_resource
    resource_type = USER if model is User else GROUP
    doc = encode(resource, full=True)
    assert_same(doc, resource_type)
    assert_same(_scramble(doc, rnd), resource_type)
    assert_same(doc, resource_type, registry_of(model))
