"""Lists and searches over real HTTP (RFC 7644 §3.4.2, §3.4.3; RFC 9865 cursors).

Every test works in its own "tribe" of users (a unique ``title``), so tests
on the shared module server never see each other's users.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def tribe(http: Any, names: list[str], **extra: Any) -> str:
    """Create one user per name (userName ``<name>-<tag>``) with title ``<tag>``; return the tag."""
    tag = uuid.uuid4().hex[:8]
    for name in names:
        body = {"schemas": [USER], "userName": f"{name}-{tag}", "title": tag, **extra}
        assert http.post("/Users", body).status == 201
    return tag


def q(text: str) -> str:
    return quote(text, safe="")


def names(reply: Any) -> list[str]:
    return [r["userName"].rsplit("-", 1)[0] for r in reply.json["Resources"]]


def test_E12_filter_with_zero_hits_is_an_empty_list_response(http: Any) -> None:
    reply = http.get("/Users?filter=" + q('userName eq "nobody-at-all"'))
    assert reply.status == 200
    assert reply.json == {
        "schemas": [LIST],
        "totalResults": 0,
        "itemsPerPage": 0,
        "startIndex": 1,
        "Resources": [],
    }


def test_O1_okta_existence_check_is_case_insensitive(http: Any) -> None:
    tag = tribe(http, ["Test.User"])
    reply = http.get(
        "/Users?filter=" + q(f'userName eq "test.user-{tag}"') + "&startIndex=1&count=100"
    )
    assert reply.json["totalResults"] == 1
    assert reply.json["Resources"][0]["userName"] == f"Test.User-{tag}"


def test_T047_T048_T049_sort_case_insensitively_both_ways(http: Any) -> None:
    tag = tribe(http, ["carol", "alice", "Bob"])
    flt = q(f'title eq "{tag}"')
    reply = http.get(f"/Users?filter={flt}&sortBy=userName")
    assert names(reply) == ["alice", "Bob", "carol"]
    reply = http.get(f"/Users?filter={flt}&sortBy=userName&sortOrder=descending")
    assert names(reply) == ["carol", "Bob", "alice"]


def test_T052_unknown_sort_order_is_invalid_value(http: Any) -> None:
    reply = http.get("/Users?sortBy=userName&sortOrder=sideways")
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidValue"


def test_T054_T055_T056_paging(http: Any) -> None:
    tag = tribe(http, ["a", "b", "c", "d", "e"])
    flt = "filter=" + q(f'title eq "{tag}"') + "&sortBy=userName"
    reply = http.get(f"/Users?{flt}&count=2")
    assert reply.json["totalResults"] == 5
    assert reply.json["itemsPerPage"] == 2
    assert reply.json["startIndex"] == 1
    assert names(reply) == ["a", "b"]
    reply = http.get(f"/Users?{flt}&startIndex=5&count=2")
    assert names(reply) == ["e"]
    assert reply.json["startIndex"] == 5
    assert reply.json["itemsPerPage"] == 1
    reply = http.get(f"/Users?{flt}&count=0")
    assert reply.json["totalResults"] == 5
    assert reply.json["Resources"] == []
    assert reply.json["itemsPerPage"] == 0
    reply = http.get(f"/Users?{flt}&count=-1")
    assert reply.json["itemsPerPage"] == 0
    reply = http.get(f"/Users?{flt}&startIndex=100")
    assert reply.status == 200
    assert reply.json["Resources"] == []
    assert reply.json["totalResults"] == 5
    reply = http.get(f"/Users?{flt}&startIndex=-3&count=1")
    assert names(reply) == ["a"]
    assert reply.json["startIndex"] == 1


def test_T058_non_integer_count_is_invalid_value(http: Any) -> None:
    reply = http.get("/Users?count=abc")
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidValue"


def test_T059_T060_T061_T062_projection(http: Any) -> None:
    tag = tribe(
        http,
        ["p"],
        name={"givenName": "Barbara", "familyName": "Jensen"},
        emails=[{"value": "b@example.com", "type": "work"}],
        password="secret",
    )
    flt = q(f'title eq "{tag}"')
    only = http.get(f"/Users?filter={flt}&attributes=userName").json["Resources"][0]
    assert set(only) == {"schemas", "id", "userName"}
    sub = http.get(f"/Users?filter={flt}&attributes=name.givenName,emails.value").json
    resource = sub["Resources"][0]
    assert resource["name"] == {"givenName": "Barbara"}
    assert resource["emails"] == [{"value": "b@example.com"}]
    excluded = http.get(f"/Users?filter={flt}&excludedAttributes=emails,meta,id").json
    resource = excluded["Resources"][0]
    assert "emails" not in resource
    assert "meta" not in resource
    assert "id" in resource  # returned: always
    never = http.get(f"/Users?filter={flt}&attributes=password").json["Resources"][0]
    assert "password" not in never
    upper = f"attributes={q('URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME')}"
    assert set(http.get(f"/Users?filter={flt}&{upper}").json["Resources"][0]) == {
        "schemas",
        "id",
        "userName",
    }


def test_T064_attributes_and_excluded_attributes_together(http: Any) -> None:
    reply = http.get("/Users?attributes=userName&excludedAttributes=emails")
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidValue"


def test_T066_create_and_get_with_attributes(http: Any) -> None:
    body = {"schemas": [USER], "userName": f"proj-{uuid.uuid4().hex[:8]}", "title": "x"}
    reply = http.post("/Users?attributes=userName", body)
    assert reply.status == 201
    assert set(reply.json) == {"schemas", "id", "userName"}
    reply = http.get(f"/Users/{reply.json['id']}?excludedAttributes=title")
    assert "title" not in reply.json
    assert "userName" in reply.json


def test_T067_search_equals_the_get_equivalent(http: Any) -> None:
    tag = tribe(http, ["bjensen", "bob", "alice"])
    flt = f'userName sw "b" and title eq "{tag}"'
    body = {
        "schemas": [SEARCH],
        "filter": flt,
        "attributes": ["userName"],
        "startIndex": 1,
        "count": 10,
        "sortBy": "userName",
    }
    searched = http.post("/Users/.search", body)
    assert searched.status == 200
    got = http.get(
        f"/Users?filter={q(flt)}&attributes=userName&startIndex=1&count=10&sortBy=userName"
    )
    assert searched.json == got.json
    assert names(searched) == ["bjensen", "bob"]


def test_T068_search_without_the_search_request_schema_is_400(http: Any) -> None:
    reply = http.post("/Users/.search", {"filter": "userName pr"})
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidSyntax"


def test_T069_root_search_filters_on_resource_type(http: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    assert http.post("/Groups", {"schemas": [GROUP], "displayName": f"g-{tag}"}).status == 201
    tribe(http, ["u"])
    body = {
        "schemas": [SEARCH],
        "filter": f'meta.resourceType eq "Group" and displayName eq "g-{tag}"',
    }
    reply = http.post("/.search", body)
    assert reply.status == 200
    assert [r["displayName"] for r in reply.json["Resources"]] == [f"g-{tag}"]
    reply = http.get("/?filter=" + q(f'displayName eq "g-{tag}"'))
    assert reply.json["totalResults"] == 1


def test_T070_unknown_parameters_are_ignored(http: Any) -> None:
    assert http.get("/Users?foo=bar&count=1").status == 200


def test_invalid_filters_are_400_invalid_filter(http: Any) -> None:
    for text in ('userName eq "x', 'userName regex "x"', "(", 'emails[type eq "work"'):
        reply = http.get(f"/Users?filter={q(text)}")
        assert reply.status == 400, text
        assert reply.json["scimType"] == "invalidFilter"


def test_E16_mixed_case_attribute_names_in_filters(http: Any) -> None:
    tag = tribe(http, ["CaseUser"], active=True)
    reply = http.get("/Users?filter=" + q(f'(ActiVe eq true) and TITLE eq "{tag}"'))
    assert reply.json["totalResults"] == 1


@pytest.mark.parametrize("how", ["get", "search"])
def test_rfc9865_cursor_pagination_walks_every_page(http: Any, how: str) -> None:
    tag = tribe(http, ["c1", "c2", "c3", "c4", "c5"])
    flt = f'title eq "{tag}"'
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        if how == "get":
            reply = http.get(f"/Users?filter={q(flt)}&sortBy=userName&count=2&cursor={q(cursor)}")
        else:
            body = {
                "schemas": [SEARCH],
                "filter": flt,
                "sortBy": "userName",
                "count": 2,
                "cursor": cursor,
            }
            reply = http.post("/Users/.search", body)
        assert reply.status == 200, reply
        document = reply.json
        assert "startIndex" not in document
        assert document["totalResults"] == 5
        if pages == 0:
            assert "previousCursor" not in document
        seen += names(reply)
        pages += 1
        if "nextCursor" not in document:
            break
        cursor = document["nextCursor"]
    assert seen == ["c1", "c2", "c3", "c4", "c5"]
    assert pages == 3


def test_rfc9865_a_tampered_cursor_is_invalid_cursor(http: Any) -> None:
    reply = http.get("/Users?count=1&cursor=not-a-real-cursor")
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidCursor"


def test_rfc9865_count_above_max_page_size_is_invalid_count(http: Any) -> None:
    reply = http.get("/Users?count=5000&cursor=")
    assert reply.status == 400
    assert reply.json["scimType"] == "invalidCount"


@pytest.mark.parametrize("text", ["meta.location pr", 'META.Location sw "http"'])
def test_a_filter_on_meta_location_is_refused(http: Any, text: str) -> None:
    # Stores do not keep meta.location (the service makes it): it would match nothing.
    reply = http.get("/Users?filter=" + q(text))
    assert (reply.status, reply.json["scimType"]) == (400, "invalidFilter")
    assert reply.json["detail"].endswith(
        "meta.location cannot be filtered on; filter on id instead."
    )
