"""Bad input is a SCIM 4xx, never a 500 (issue 21 item 6; RFC 7644 §3.12), for every store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scimcore.service import Request, ScimService, ScimV1Service
from scimcore.stores import MemoryStore, SQLiteStore

JSON = {"Content-Type": "application/scim+json"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
USER_V1 = "urn:scim:schemas:core:1.0"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ScimService]:
    store: Any
    if request.param == "memory":
        store = MemoryStore()
    elif request.param == "sqlite":
        store = SQLiteStore(tmp_path / "x.db")
    else:  # every repro of issue 21 item 6 on PostgreSQL too
        import secrets

        from scimcore.stores import PostgresStore

        dsn = request.getfixturevalue("postgres_dsn")
        store = PostgresStore(dsn, schema=f"scim_test_{secrets.token_hex(6)}")
    service = ScimService(store)
    created = service.handle(
        Request(
            "POST",
            "/Users",
            headers=JSON,
            body=json.dumps({"schemas": [USER], "userName": "a"}).encode(),
        )
    )
    assert created.status == 201
    yield service
    if request.param == "postgres":
        store.drop()
    store.close()


def _get(service: ScimService, query: str) -> tuple[int, Any]:
    response = service.handle(Request("GET", "/Users", query=query))
    return response.status, response.json()


@pytest.mark.parametrize(
    "query",
    [
        "startIndex=9223372036854775809",
        "startIndex=" + "9" * 5000,
        "startIndex=99999999999999999999&count=99999999999999999999",
        "count=" + "9" * 5000 + "&startIndex=2",
    ],
)
def test_paging_integers_past_everything_give_an_empty_page(
    service: ScimService, query: str
) -> None:
    status, document = _get(service, query)
    assert status == 200
    assert (document["totalResults"], document["Resources"]) == (1, [])
    assert document["startIndex"] == 2**62 or "startIndex=2" in query


def test_a_huge_count_is_the_largest_page(service: ScimService) -> None:
    status, document = _get(service, "count=" + "9" * 5000)
    assert status == 200
    assert [u["userName"] for u in document["Resources"]] == ["a"]


def test_a_huge_negative_count_is_zero(service: ScimService) -> None:
    status, document = _get(service, "count=-" + "9" * 5000)
    assert (status, document["Resources"], document["totalResults"]) == (200, [], 1)


@pytest.mark.parametrize("query", ["filter=", "filter=%20%20"])
def test_an_empty_filter_is_invalid(service: ScimService, query: str) -> None:
    # RFC 7644 §3.4.2.2: the filter parameter MUST contain at least one valid expression.
    status, document = _get(service, query)
    assert (status, document["scimType"]) == (400, "invalidFilter")
    v1 = ScimV1Service(service).handle(Request("GET", "/Users", query=query))
    assert v1.status == 400


def _raw(document: dict[str, Any]) -> str:
    """The JSON text of ``document`` with each ``LONE`` written as the escape of a lone surrogate."""
    return json.dumps(document).replace("LONE", "\\ud800")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/Users", _raw({"schemas": [USER], "userName": "LONE"})),
        ("/Users", _raw({"schemas": [USER], "userName": "x", "LONE": 1})),
        ("/Users/.search", _raw({"schemas": [SEARCH], "filter": "userName eq LONE"})),
        (
            "/Bulk",
            _raw(
                {
                    "schemas": [BULK],
                    "Operations": [
                        {
                            "method": "POST",
                            "path": "/Users",
                            "bulkId": "LONE",
                            "data": {"schemas": [USER], "userName": "b"},
                        }
                    ],
                }
            ),
        ),
    ],
)
def test_a_lone_surrogate_in_a_body_is_invalid_syntax(
    service: ScimService, path: str, body: str
) -> None:
    response = service.handle(Request("POST", path, headers=JSON, body=body.encode()))
    assert response.status == 400
    assert response.json()["scimType"] == "invalidSyntax"
    assert response.json()["detail"] == (
        "The request body holds a lone UTF-16 surrogate (\\ud800), which is not Unicode text."
    )
    # Nothing was stored, and the list still answers.
    assert _get(service, "")[1]["totalResults"] == 1


def test_a_lone_surrogate_in_a_1_1_body_is_refused(service: ScimService) -> None:
    v1 = ScimV1Service(service)
    body = _raw({"schemas": [USER_V1], "userName": "LONE"})
    for method, path in (("POST", "/Users"), ("PUT", "/Users/x")):
        response = v1.handle(Request(method, path, headers=JSON, body=body.encode()))
        assert response.status == 400, response.json()


def test_a_surrogate_pair_is_one_character(service: ScimService) -> None:
    body = json.dumps({"schemas": [USER], "userName": "\U0001f600"})
    response = service.handle(Request("POST", "/Users", headers=JSON, body=body.encode()))
    assert (response.status, response.json()["userName"]) == (201, "\U0001f600")


def test_a_deeply_nested_bulk_operation_is_refused_in_one_line(
    service: ScimService, caplog: pytest.LogCaptureFixture
) -> None:
    deep = '{"a":' * 500 + "1" + "}" * 500
    operation: dict[str, Any] = {"method": "POST", "path": "/Users", "bulkId": "q"}
    operation["data"] = {"schemas": [USER], "userName": "b", "x": "DEEP"}
    body = json.dumps({"schemas": [BULK], "Operations": [operation]}).replace('"DEEP"', deep)
    response = service.handle(Request("POST", "/Bulk", headers=JSON, body=body.encode()))
    assert (response.status, response.json()["scimType"]) == (400, "invalidSyntax")
    assert response.json()["detail"] == "The request body nests deeper than 64 objects and arrays."
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.postgres
def test_a_nul_in_an_id_is_404_on_postgresql(postgres_dsn: str) -> None:
    import secrets

    from scimcore.stores import PostgresStore

    store = PostgresStore(postgres_dsn, schema=f"scim_test_{secrets.token_hex(6)}")
    try:
        service, v1 = ScimService(store), ScimV1Service(ScimService(store))
        user = json.dumps({"schemas": [USER], "userName": "x"}).encode()
        patch = b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []}'
        for method, body in (("GET", b""), ("PUT", user), ("PATCH", patch), ("DELETE", b"")):
            for each in (service, v1):
                response = each.handle(Request(method, "/Users/a\x00b", headers=JSON, body=body))
                assert response.status == 404, (method, response.json())
    finally:
        store.drop()
        store.close()
