"""The SCIM 1.1 front as a sans-I/O service: routing details, drivers and adapters."""

from __future__ import annotations

import asyncio
import json
from io import BytesIO
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.service import Request, Response, ScimService, ScimV1Service
from scimcore.stores import MemoryStore

CORE = "urn:scim:schemas:core:1.0"


@pytest.fixture
def pair() -> tuple[ScimService, ScimV1Service]:
    service = ScimService(MemoryStore())
    return service, ScimV1Service(service)


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


def create(front: ScimService, path: str, document: dict[str, Any]) -> dict[str, Any]:
    response = front.handle(Request("POST", path, body=body(document)))
    assert response.status == 201, response.body
    created: dict[str, Any] = response.json()
    return created


def errors(response: Response, status: int) -> str:
    assert response.status == status, response.body
    assert response.header("content-type") == "application/json"
    (error,) = response.json()["Errors"]
    assert error["code"] == str(status)
    description: str = error["description"]
    return description


def test_version_segments(pair: tuple[ScimService, ScimV1Service]) -> None:
    _, v1 = pair
    assert v1.handle(Request("GET", "/v1/Users")).status == 200
    assert errors(v1.handle(Request("GET", "/v2/Users")), 400).startswith("[invalidVers] ")
    assert errors(v1.handle(Request("GET", "/Users.xml")), 501)
    assert errors(v1.handle(Request("GET", "/")), 404)
    assert errors(v1.handle(Request("GET", "/Users/a/b")), 404)
    assert errors(v1.handle(Request("POST", "/Schemas")), 405)


def test_a_patch_that_changes_nothing_answers_the_resource(
    pair: tuple[ScimService, ScimV1Service],
) -> None:
    service, v1 = pair
    user = create(v1, "/Users", {"schemas": [CORE], "userName": "bjensen"})
    before = service.handle(Request("GET", f"/Users/{user['id']}")).header("etag")
    for document in ({"schemas": [CORE]}, {"id": user["id"], "meta": {"version": "x"}}):
        response = v1.handle(Request("PATCH", f"/Users/{user['id']}", body=body(document)))
        assert response.status == 200
        assert response.json()["userName"] == "bjensen"
    assert service.handle(Request("GET", f"/Users/{user['id']}")).header("etag") == before
    assert errors(v1.handle(Request("PATCH", "/Users/nope", body=b"{}")), 404)
    assert errors(v1.handle(Request("PATCH", f"/Users/{user['id']}", body=b"[]")), 400)
    assert errors(v1.handle(Request("POST", "/Users", body=b"{not json")), 400)


def test_if_match_is_honoured_over_1_1(pair: tuple[ScimService, ScimV1Service]) -> None:
    _, v1 = pair
    created = v1.handle(Request("POST", "/Users", body=body({"userName": "bjensen"})))
    user_id, tag = created.json()["id"], created.header("etag")
    assert tag is not None
    stale = v1.handle(
        Request(
            "PATCH",
            f"/Users/{user_id}",
            headers={"If-Match": 'W/"stale"'},
            body=body({"nickName": "x"}),
        )
    )
    errors(stale, 412)
    fresh = v1.handle(
        Request(
            "PATCH", f"/Users/{user_id}", headers={"If-Match": tag}, body=body({"nickName": "x"})
        )
    )
    assert fresh.status == 200
    assert fresh.header("etag") != tag
    assert v1.handle(Request("GET", f"/Users/{user_id}", headers={"If-None-Match": fresh.header("etag") or ""})).status == 304  # fmt: skip


def test_a_filter_on_user_groups_and_on_group_members(
    pair: tuple[ScimService, ScimV1Service],
) -> None:
    _, v1 = pair
    user = create(v1, "/Users", {"userName": "bjensen"})
    group = create(
        v1, "/Groups", {"displayName": "Tour Guides", "members": [{"value": user["id"]}]}
    )
    found = v1.handle(Request("GET", "/Users", query=f'filter=groups.value+eq+"{group["id"]}"'))
    assert [r["id"] for r in found.json()["Resources"]] == [user["id"]]
    groups = v1.handle(Request("GET", "/Groups", query=f'filter=members.value+eq+"{user["id"]}"'))
    assert groups.json()["Resources"] == [
        {
            "schemas": [CORE],
            "id": group["id"],
            "displayName": "Tour Guides",
            "members": [{"value": user["id"]}],
            "meta": groups.json()["Resources"][0]["meta"],
        }
    ]
    replaced = v1.handle(
        Request(
            "PUT",
            f"/Groups/{group['id']}",
            body=body({"schemas": [CORE], "displayName": "Guides", "members": []}),
        )
    )
    assert replaced.status == 200
    assert "members" not in replaced.json()


def test_locations_follow_a_fixed_base_url() -> None:
    service = ScimService(MemoryStore(), base_url="https://example.com/scim/v2")
    v1 = ScimV1Service(service, base_url="https://example.com/scim/v1")
    created = v1.handle(Request("POST", "/Users", body=body({"userName": "bjensen"})))
    location = f"https://example.com/scim/v1/Users/{created.json()['id']}"
    assert created.header("location") == location
    assert created.json()["meta"]["location"] == location
    listed = v1.handle(Request("GET", "/Users")).json()["Resources"]
    assert [r["meta"]["location"] for r in listed] == [location]
    v2_location = service.handle(Request("GET", "/Users")).json()["Resources"][0]["meta"]
    assert v2_location["location"] == location.replace("/v1/", "/v2/")


def test_async_driver_and_tokens() -> None:
    service = ScimService(MemoryStore(), tokens=["s3cret"])
    v1 = ScimV1Service(service)
    unauthorized = asyncio.run(v1.handle_async(Request("GET", "/Users")))
    errors(unauthorized, 401)
    assert (unauthorized.header("www-authenticate") or "").startswith("Bearer")
    ok = asyncio.run(
        v1.handle_async(Request("GET", "/Users", headers={"Authorization": "Bearer s3cret"}))
    )
    assert ok.status == 200
    assert ok.json()["schemas"] == [CORE]


def test_the_wsgi_adapter_serves_1_1() -> None:
    from scimcore.wsgi import create_app

    service = ScimService(MemoryStore())
    app = create_app(ScimV1Service(service), prefix="/scim/v1")
    seen: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/scim/v1/ServiceProviderConfigs",
        "wsgi.input": BytesIO(),
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    document = json.loads(b"".join(app(environ, lambda status, headers: seen.append(status))))
    assert seen == ["200 OK"]
    assert document["schemas"] == [CORE]
    assert document["meta"]["location"] == "http://localhost/scim/v1/ServiceProviderConfigs"
    environ["PATH_INFO"] = "/elsewhere"
    missing = json.loads(b"".join(app(environ, lambda status, headers: seen.append(status))))
    assert seen[-1] == "404 Not Found"
    assert missing["Errors"][0]["code"] == "404"


def test_authentication_comes_before_the_body_and_the_store() -> None:
    v1 = ScimV1Service(ScimService(MemoryStore(), tokens=["s3cret"]))
    for method in ("PATCH", "PUT"):
        errors(v1.handle(Request(method, "/Users/nope", body=b"{not json")), 401)
    errors(v1.handle(Request("POST", "/Bulk", body=b"[]")), 401)
    errors(v1.handle(Request("GET", "/Nope")), 401)
    errors(v1.handle(Request("GET", "/v3/Users")), 401)
    assert v1.handle(Request("GET", "/ServiceProviderConfigs")).status == 200


def test_payload_too_large() -> None:
    v1 = ScimV1Service(ScimService(MemoryStore(), max_payload_size=100))
    errors(v1.handle(Request("POST", "/Users", body=b" " * 101)), 413)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(
            ["schemas", "userName", "members", "value", "operation", "meta", "attributes",
             "emails", "name", "givenName", "active", "displayName", "Operations", "method",
             "path", "data", "urn:scim:schemas:extension:enterprise:1.0", "manager", "managerId",
             "id", "x"]
        ),
        inner,
        max_size=4,
    ),
    max_leaves=10,
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["POST /Users", "PUT /Users/u", "PATCH /Users/u", "PATCH /Groups/g",
                     "POST /Bulk", "POST /Groups"]),
    _JSON,
    st.text(max_size=20),
)  # fmt: skip
def test_no_body_or_filter_makes_a_500(target: str, document: Any, text: str) -> None:
    service = ScimService(MemoryStore())
    v1 = ScimV1Service(service)
    group = create(v1, "/Groups", {"displayName": "g", "members": []})
    user = create(v1, "/Users", {"userName": "u"})
    method, path = target.split(" ")
    path = path.replace("/u", f"/{user['id']}").replace("/g", f"/{group['id']}")
    response = v1.handle(Request(method, path, body=json.dumps(document).encode()))
    assert response.status < 500, response.body
    if response.status >= 400:
        errors(response, response.status)
    listed = v1.handle(Request("GET", "/Users", query=urlencode({"filter": text, "sortBy": text})))
    assert listed.status in (200, 400), listed.body
