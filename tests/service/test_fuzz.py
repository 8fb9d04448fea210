"""Hypothesis throws garbage at the service: bodies, paths, query strings, headers. Never a 500.

Every route, SCIM 2.0 (``/scim/v2``) and 1.1 (``/scim/v1``), Bulk included. Every
answer must be a well-formed HTTP response: a status below 500 and, for every
failure, an error body whose status matches (RFC 7644 §3.12; 1.1's ``Errors``),
and a request that fails changes nothing in the store. The requests go through
the WSGI adapter, so its decoding is fuzzed too.
"""

from __future__ import annotations

import json
from io import BytesIO
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.errors import ERROR_LOCATION_SCHEMA
from scimcore.models import Group, GroupMember, User
from scimcore.service import Request, ScimService, ScimV1Service
from scimcore.storage import Query
from scimcore.stores import MemoryStore
from scimcore.wsgi import create_app

pytestmark = pytest.mark.slow  # thousands of generated requests

TOKEN = "fuzz"
URN_V1 = "urn:scim:schemas:core:1.0"
STORE = MemoryStore()
SERVICE = ScimService(STORE, tokens=[TOKEN], max_payload_size=20_000, max_operations=5)
USER_ID = str(STORE.create(User(user_name="fuzzy")).id)
_GROUP = Group(display_name="fuzzers")
_GROUP.members.append(GroupMember(value=USER_ID))
GROUP_ID = str(STORE.create(_GROUP).id)
V2_APP = create_app(SERVICE, prefix="/scim/v2")
V1_APP = create_app(ScimV1Service(SERVICE), prefix="/scim/v1")


def APP(environ: dict[str, Any], start_response: Any) -> Any:
    """Both versions, as ``scimcore serve`` mounts them."""
    v1 = environ["PATH_INFO"].startswith("/scim/v1")
    return (V1_APP if v1 else V2_APP)(environ, start_response)


def snapshot() -> list[tuple[str, str]]:
    """Every resource's id and version: what a failed request must leave as it was."""
    page = STORE.search(Query(models=(User, Group)))
    return sorted((r.id, r.meta.version) for r in page.resources)


SEGMENTS = [
    "Users",
    "Groups",
    "Me",
    "Bulk",
    ".search",
    "Schemas",
    "ResourceTypes",
    "ServiceProviderConfig",
    "v2",
    "v3",
    "User",
    USER_ID,
    GROUP_ID,
    "urn:ietf:params:scim:schemas:core:2.0:User",
]
URNS = [
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:api:messages:2.0:PatchOp",
    "urn:ietf:params:scim:api:messages:2.0:SearchRequest",
    "urn:ietf:params:scim:api:messages:2.0:BulkRequest",
]
NAMES = [
    "userName",
    "displayName",
    "name",
    "emails",
    "members",
    "active",
    "groups",
    "id",
    "meta",
    "password",
    "Operations",
    "op",
    "path",
    "value",
    "filter",
    "count",
    "startIndex",
    "sortBy",
    "attributes",
    "excludedAttributes",
    "cursor",
    "method",
    "bulkId",
    "data",
    "failOnErrors",
    "type",
    "primary",
    URNS[2],
]
FILTERS = [
    'userName eq "fuzzy"',
    'emails[type eq "work" and value co "@"]',
    "groups.value pr",
    "not (active eq true)",
    'meta.lastModified gt "2011-05-13T04:42:34Z"',
    "members[value eq",
    'userName regex "x"',
]

text = st.text(max_size=30)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text
names = st.sampled_from(NAMES) | text
json_values = st.recursive(
    scalars | st.sampled_from(URNS + FILTERS + SEGMENTS),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=5),
    max_leaves=20,
)
documents = st.fixed_dictionaries(
    {}, optional={"schemas": st.lists(st.sampled_from(URNS) | text, max_size=3)}
).flatmap(
    lambda head: st.dictionaries(names, json_values, max_size=6).map(lambda rest: {**head, **rest})
)
bodies = (
    st.binary(max_size=200)
    | documents.map(lambda d: json.dumps(d).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.just(b"{" * 5000)
    | st.just(b'{"userName": "' + b"x" * 30_000 + b'"}')
)
paths = st.tuples(
    st.sampled_from(["/scim/v2/", "/scim/v1/"]),
    st.lists(st.sampled_from(SEGMENTS) | text, max_size=4),
).map(lambda pair: pair[0] + "/".join(quote(p, safe=":") for p in pair[1]))
query_values = text | st.sampled_from(FILTERS) | st.integers().map(str)
queries = text.map(quote) | st.dictionaries(
    st.sampled_from(
        [
            "filter",
            "count",
            "startIndex",
            "sortBy",
            "sortOrder",
            "attributes",
            "excludedAttributes",
            "cursor",
        ]
    )
    | text,
    query_values,
    max_size=4,
).map(urlencode)
header_values = text.map(lambda t: t.encode("latin-1", "replace").decode("latin-1"))
headers = st.dictionaries(
    st.sampled_from(["If-Match", "If-None-Match", "Content-Type", "Accept", "Authorization"]),
    header_values | st.sampled_from(['W/"1"', "*", "application/scim+json", "text/plain"]),
    max_size=4,
)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"])


def call(method: str, path: str, query: str, sent: dict[str, str], body: bytes) -> tuple[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode("utf-8", "surrogatepass").decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
        "wsgi.input": BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in sent.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    environ.setdefault("HTTP_AUTHORIZATION", f"Bearer {TOKEN}")
    seen: list[str] = []
    chunks = APP(environ, lambda status, _headers: seen.append(status))
    return seen[0], b"".join(chunks)


def check(status_line: str, body: bytes) -> None:
    status = int(status_line.split()[0])
    assert status < 500 or status == 501, (status_line, body)
    if status >= 400:
        error = json.loads(body)
        if "Errors" in error:  # SCIM 1.1
            assert error["Errors"][0]["code"] == str(status)
        else:
            assert error["schemas"][0] == "urn:ietf:params:scim:api:messages:2.0:Error"
            assert error["schemas"][1:] in ([], [ERROR_LOCATION_SCHEMA])
            assert error["status"] == str(status)
    elif body:
        json.loads(body)


def check_call(method: str, path: str, query: str, sent: dict[str, str], body: bytes) -> None:
    """:func:`call`, then :func:`check`; a failure must leave the store as it was."""
    before = snapshot()
    status_line, answer = call(method, path, query, sent, body)
    check(status_line, answer)
    if int(status_line.split()[0]) >= 400:
        assert snapshot() == before, (method, path, status_line, answer)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(methods, paths, queries, headers, bodies)
def test_garbage_requests_never_give_a_500(
    method: str, path: str, query: str, sent: dict[str, str], body: bytes
) -> None:
    check_call(method, path, query, sent, body)


PATCH_PATHS = [
    "title",
    "name.givenName",
    "emails",
    'emails[type eq "work"].value',
    'members[value eq "x"]',
    "members",
    "active",
    "groups",
    "id",
    "meta.created",
    URNS[2] + ":manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "emails[type eq",
]
operations = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "Replace", "move"]) | text},
    optional={"path": st.sampled_from(PATCH_PATHS) | text, "value": json_values},
)
patches = st.fixed_dictionaries(
    {"schemas": st.just([URNS[3]]), "Operations": st.lists(operations, max_size=4)}
)
users = st.fixed_dictionaries(
    {"schemas": st.just([URNS[0]]), "userName": text},
    optional=dict.fromkeys(["name", "emails", "active", "groups", URNS[2], "id"], json_values),
)
groups = st.fixed_dictionaries(
    {"schemas": st.just([URNS[1]]), "displayName": text},
    optional={"members": st.lists(st.fixed_dictionaries({"value": text | st.just(USER_ID)}))},
)
searches = st.fixed_dictionaries(
    {"schemas": st.just([URNS[4]])},
    optional={
        "filter": st.sampled_from(FILTERS) | text,
        "count": json_values,
        "startIndex": json_values,
        "sortBy": st.sampled_from(NAMES) | text,
        "attributes": json_values,
        "cursor": json_values,
    },
)
bulk_operations = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["POST", "PUT", "PATCH", "DELETE", "GET"]),
        "path": st.sampled_from(["/Users", "/Groups", f"/Users/{USER_ID}", "/Users/bulkId:a"])
        | text,
    },
    optional={
        "bulkId": st.sampled_from(["a", "b"]) | text,
        "data": users | groups | patches | documents,
        "version": text,
    },
)
bulks = st.fixed_dictionaries(
    {"schemas": st.just([URNS[5]]), "Operations": st.lists(bulk_operations, max_size=5)},
    optional={"failOnErrors": json_values},
)
targets = st.one_of(
    users.map(lambda d: ("POST", "/scim/v2/Users", d)),
    users.map(lambda d: ("PUT", f"/scim/v2/Users/{USER_ID}", d)),
    groups.map(lambda d: ("POST", "/scim/v2/Groups", d)),
    groups.map(lambda d: ("PUT", f"/scim/v2/Groups/{GROUP_ID}", d)),
    patches.map(lambda d: ("PATCH", f"/scim/v2/Users/{USER_ID}", d)),
    patches.map(lambda d: ("PATCH", f"/scim/v2/Groups/{GROUP_ID}", d)),
    searches.map(lambda d: ("POST", "/scim/v2/.search", d)),
    searches.map(lambda d: ("POST", "/scim/v2/Users/.search", d)),
    bulks.map(lambda d: ("POST", "/scim/v2/Bulk", d)),
    # SCIM 1.1: the same bodies under the 1.1 schema URN, and 1.1's PATCH (a partial resource).
    users.map(lambda d: ("POST", "/scim/v1/Users", {**d, "schemas": [URN_V1]})),
    users.map(lambda d: ("PUT", f"/scim/v1/Users/{USER_ID}", {**d, "schemas": [URN_V1]})),
    users.map(lambda d: ("PATCH", f"/scim/v1/Users/{USER_ID}", {**d, "schemas": [URN_V1]})),
    groups.map(lambda d: ("POST", "/scim/v1/Groups", {**d, "schemas": [URN_V1]})),
    groups.map(lambda d: ("PATCH", f"/scim/v1/Groups/{GROUP_ID}", {**d, "schemas": [URN_V1]})),
    bulks.map(lambda d: ("POST", "/scim/v1/Bulk", d)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(targets)
def test_near_valid_requests_never_give_a_500(target: tuple[str, str, Any]) -> None:
    method, path, document = target
    body = json.dumps(document).encode()
    check_call(method, path, "", {"Content-Type": "application/scim+json"}, body)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FILTERS) | text, queries)
def test_garbage_filters_and_parameters_never_give_a_500(filter_text: str, query: str) -> None:
    for path in ("/Users", "/Groups", "/"):
        request = Request(
            "GET",
            path,
            query=f"{query}&filter={quote(filter_text)}",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        response = SERVICE.handle(request)
        check(f"{response.status} x", response.body)
