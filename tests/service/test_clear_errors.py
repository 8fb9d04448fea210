"""Errors that say what is wrong and where (issue 19 item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from scimcore.errors import ERROR_LOCATION_SCHEMA, ERROR_SCHEMA
from scimcore.policy import Policy
from scimcore.service import Request, ScimService, ScimV1Service
from scimcore.stores import MemoryStore

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def send(service: Any, method: str, path: str, body: Any = None, query: str = "") -> Any:
    data = b"" if body is None else json.dumps(body).encode()
    return service.handle(Request(method, path, query=query, body=data))


def test_a_wrong_type_names_the_attribute() -> None:
    service = ScimService(MemoryStore())
    reply = send(
        service, "POST", "/Users", {"schemas": [USER], "userName": "a", "emails": [{"value": 5}]}
    )
    assert reply.status == 400
    assert reply.json() == {
        "schemas": [ERROR_SCHEMA, ERROR_LOCATION_SCHEMA],
        "scimType": "invalidValue",
        "detail": "Expected a string, got a number. (at emails[0].value)",
        "status": "400",
        ERROR_LOCATION_SCHEMA: {"location": "$.emails[0].value"},
    }


def test_a_wrong_type_names_the_attribute_in_scim_1_1() -> None:
    v1 = ScimV1Service(ScimService(MemoryStore()))
    body = {"schemas": ["urn:scim:schemas:core:1.0"], "userName": "a", "emails": [{"value": 5}]}
    reply = send(v1, "POST", "/Users", body)
    assert reply.status == 400
    assert reply.json() == {
        "Errors": [
            {
                "description": "[invalidValue] Expected a string, got a number. (at emails[0].value)",
                "code": "400",
            }
        ]
    }


def test_an_error_about_no_value_has_no_location() -> None:
    reply = send(ScimService(MemoryStore()), "GET", "/Users/nope")
    assert reply.json()["schemas"] == [ERROR_SCHEMA]
    assert ERROR_LOCATION_SCHEMA not in reply.json()


@pytest.mark.parametrize("query", ["filter=", "filter=%20%20", "filter"])
def test_an_empty_filter_is_invalid(query: str) -> None:
    reply = send(ScimService(MemoryStore()), "GET", "/Users", query=query)
    assert (reply.status, reply.json()["scimType"]) == (400, "invalidFilter")


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_user_name_is_invalid_value(name: str) -> None:
    service = ScimService(MemoryStore())
    made = send(service, "POST", "/Users", {"schemas": [USER], "userName": "bjensen"})
    user_id = made.json()["id"]
    patch = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "userName", "value": name}],
    }
    for method, path, body in (
        ("POST", "/Users", {"schemas": [USER], "userName": name}),
        ("PUT", f"/Users/{user_id}", {"schemas": [USER], "userName": name}),
        ("PATCH", f"/Users/{user_id}", patch),
    ):
        reply = send(service, method, path, body)
        assert reply.status == 400, (method, reply.json())
        assert reply.json()["scimType"] == "invalidValue"
        assert reply.json()["detail"].startswith("The required attribute 'userName' is empty.")
    assert send(service, "GET", f"/Users/{user_id}").json()["userName"] == "bjensen"


def test_unknown_members_are_refused_under_strict() -> None:
    service = ScimService(MemoryStore(), policy=Policy.strict())
    user = send(service, "POST", "/Users", {"schemas": [USER], "userName": "u"}).json()["id"]
    refused = send(
        service,
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "g", "members": [{"value": user}, {"value": "ghost"}]},
    )
    assert refused.status == 400
    assert refused.json()["scimType"] == "invalidValue"
    assert refused.json()[ERROR_LOCATION_SCHEMA] == {"location": "$.members[1].value"}
    assert refused.json()["detail"] == (
        "The member 'ghost' is not the id of a User or Group. (at members[1].value)"
    )
    group = send(
        service,
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "g", "members": [{"value": user}]},
    ).json()["id"]
    nested = send(service, "POST", "/Groups", {"schemas": [GROUP], "displayName": "n"}).json()["id"]

    def add(*members: dict[str, str]) -> dict[str, Any]:
        return {
            "schemas": [PATCH],
            "Operations": [{"op": "add", "path": "members", "value": list(members)}],
        }

    assert send(service, "PATCH", f"/Groups/{group}", add({"value": "ghost"})).status == 400
    # A group is a member too; a member's type says where to look.
    add_nested = add({"value": nested, "type": "Group"})
    assert send(service, "PATCH", f"/Groups/{group}", add_nested).status == 200
    other = send(service, "POST", "/Groups", {"schemas": [GROUP], "displayName": "o"}).json()["id"]
    typed = {
        "schemas": [GROUP],
        "displayName": "g",
        "members": [{"value": user}, {"value": nested}, {"value": other, "type": "User"}],
    }
    assert send(service, "PUT", f"/Groups/{group}", typed).json()["detail"] == (
        f"The member {other!r} is not the id of a User. (at members[2].value)"
    )
    members = send(service, "GET", f"/Groups/{group}").json()["members"]
    assert sorted(m["value"] for m in members) == sorted([user, nested])


def test_unknown_members_are_kept_under_interop() -> None:
    service = ScimService(MemoryStore())
    made = send(
        service,
        "POST",
        "/Groups",
        {"schemas": [GROUP], "displayName": "g", "members": [{"value": "later"}]},
    )
    assert made.status == 201
    assert made.json()["members"] == [{"value": "later"}]


def test_a_closed_pipe_is_no_traceback() -> None:
    # stdout is a pipe whose reader has gone (`scimcore schemas | head`), before the first write.
    script = (
        "import os, sys\n"
        "r, w = os.pipe(); os.close(r); os.dup2(w, 1)\n"
        "from scimcore.cli import main\n"
        "sys.exit(main(['schemas']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, timeout=60, check=False
    )
    assert (done.returncode, done.stderr) == (1, b"")
