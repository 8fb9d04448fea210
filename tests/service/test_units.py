"""The service's pure parts: route table, query parameters, ETags, bearer tokens, the surface."""

from __future__ import annotations

import pytest

import scimcore.service
from scimcore.errors import InvalidSyntax, InvalidValue, InvalidVersion, NotFound, Unauthorized
from scimcore.schema import GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE
from scimcore.service import BearerTokens, ListParams, Request, Response, route
from scimcore.service._params import parse_query, projection
from scimcore.storage import etag, tag_matches

ENDPOINTS = {"users": USER_RESOURCE_TYPE, "groups": GROUP_RESOURCE_TYPE}


def test_public_surface_is_pinned() -> None:
    assert scimcore.service.__all__ == [
        "BULK_REQUEST_SCHEMA",
        "BULK_RESPONSE_SCHEMA",
        "LIST_RESPONSE_SCHEMA",
        "SCIM_MEDIA_TYPE",
        "SEARCH_REQUEST_SCHEMA",
        "Action",
        "BearerTokens",
        "Context",
        "Hooks",
        "ListParams",
        "Request",
        "Response",
        "Route",
        "ScimService",
        "ScimV1Service",
        "StoreCall",
        "Tenants",
        "UnsupportedMediaType",
        "route",
        "tenant_from_path",
    ]


@pytest.mark.parametrize(
    ("path", "kind", "type_name", "resource_id"),
    [
        ("", "root", None, None),
        ("/", "root", None, None),
        ("/.search", "search", None, None),
        ("/Users", "collection", "User", None),
        ("/users/", "collection", "User", None),
        ("/Users/.search", "search", "User", None),
        ("/Groups/abc", "resource", "Group", "abc"),
        ("/v2/Groups/abc", "resource", "Group", "abc"),
        ("/Me", "me", None, None),
        ("/Bulk", "bulk", None, None),
        ("/ServiceProviderConfig", "service_provider_config", None, None),
        ("/ServiceProviderConfigs", "service_provider_config", None, None),
        ("/ResourceTypes", "resource_types", None, None),
        ("/ResourceTypes/User", "resource_type", None, "User"),
        ("/Schemas", "schemas", None, None),
        ("/Schemas/urn:x:y", "schema", None, "urn:x:y"),
    ],
)
def test_routes(path: str, kind: str, type_name: str | None, resource_id: str | None) -> None:
    found = route(path, ENDPOINTS)
    assert found.kind == kind
    assert (found.resource_type.name if found.resource_type else None) == type_name
    assert found.id == resource_id


@pytest.mark.parametrize("path", ["/Nope", "/Users/a/b", "/Schemas/a/b", "/Me/x", "/Bulk/1"])
def test_unknown_paths_are_404(path: str) -> None:
    with pytest.raises(NotFound):
        route(path, ENDPOINTS)


def test_other_versions_are_invalid_vers() -> None:
    with pytest.raises(InvalidVersion):
        route("/v1/Users", ENDPOINTS)


def test_query_parsing_decodes_plus_and_folds_names() -> None:
    assert parse_query("FILTER=a+eq+%22b%22&attributes=x&attributes=y") == {
        "filter": 'a eq "b"',
        "attributes": "x,y",
    }


def test_T053_T054_clamping() -> None:
    params = ListParams.from_query({"startindex": "0", "count": "-5"})
    assert (params.start_index, params.count) == (1, 0)
    params = ListParams.from_query({"startindex": "-3"})
    assert (params.start_index, params.count) == (1, None)


@pytest.mark.parametrize("value", ["abc", "1.5", "", "1e3", "٣"])
def test_T058_non_integer_counts_are_invalid_value(value: str) -> None:
    with pytest.raises(InvalidValue):
        ListParams.from_query({"count": value})
    with pytest.raises(InvalidValue):
        ListParams.from_query({"startindex": value})


def test_T052_bad_sort_order_is_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        ListParams.from_query({"sortorder": "sideways"})


def test_T064_attributes_and_excluded_attributes_together_are_invalid_value() -> None:
    with pytest.raises(InvalidValue):
        projection({"attributes": "userName", "excludedattributes": "emails"})


def test_search_request_body() -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "attributes": ["displayName", "userName"],
        "filter": 'displayName sw "smith"',
        "startIndex": 1,
        "count": 10,
    }
    params = ListParams.from_body(body)
    assert params == ListParams(
        filter='displayName sw "smith"',
        start_index=1,
        count=10,
        attributes=("displayName", "userName"),
    )
    with pytest.raises(InvalidSyntax):
        ListParams.from_body({"filter": "x pr"})
    with pytest.raises(InvalidValue):
        ListParams.from_body({**body, "count": True})
    with pytest.raises(InvalidValue):
        ListParams.from_body({**body, "attributes": "userName"} | {"attributes": 5})


def test_etags_are_weak_and_compared_weakly() -> None:
    assert etag("7") == 'W/"7"'
    assert tag_matches('"7"', 'W/"7"')
    assert tag_matches('W/"1", W/"7"', 'W/"7"')
    assert not tag_matches('W/"8"', 'W/"7"')
    assert tag_matches("*", 'W/"7"')
    assert not tag_matches("*", None)


def test_bearer_tokens_compare_every_token() -> None:
    tokens = BearerTokens(["one", "two"])
    tokens.check(Request("GET", "/", headers={"Authorization": "bearer two"}))
    for header in ("Bearer three", "Basic b25lOg==", "Bearer", "Bearer  ", "one"):
        with pytest.raises(Unauthorized):
            tokens.check(Request("GET", "/", headers={"Authorization": header}))
    with pytest.raises(ValueError, match="at least one"):
        BearerTokens([""])


def test_request_headers_are_case_insensitive_and_repeated_ones_joined() -> None:
    request = Request("get", "/", headers=[("If-Match", '"1"'), ("if-match", '"2"')])
    assert request.method == "GET"
    assert request.header("IF-MATCH") == '"1", "2"'
    assert Response(204).json() is None


def test_the_service_modules_import_one_way() -> None:
    """No import circle inside scimcore.service, not even under TYPE_CHECKING: the
    pipeline (``_service``) imports its parts, and no part imports the pipeline."""
    import ast
    from graphlib import TopologicalSorter
    from pathlib import Path

    package = Path(scimcore.service.__file__).parent
    imports: dict[str, set[str]] = {}
    for path in package.glob("_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports[path.stem] = {
            node.module.rpartition(".")[2]
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and node.module is not None
            and node.module.startswith("scimcore.service._")
        }
    assert "_service" not in imports["_bulk"] | imports["_hooks"] | imports["_resources"]
    order = list(TopologicalSorter(imports).static_order())  # CycleError on a circle
    assert order.index("_resources") < order.index("_bulk") < order.index("_service")
