"""Every RFC example payload (tests/data/rfc) decodes and encodes back to equal JSON.

"Equal" is JSON equality after dropping ``null`` and ``[]`` values, which RFC
7643 §2.5 defines as "unassigned" (the §3.5.1 PUT example sends ``"roles": []``;
the codec never writes an unassigned attribute).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scimcore.codecs.v2 import Context, decode, encode
from scimcore.models import (
    BulkRequest,
    BulkResponse,
    EnterpriseUser,
    Error,
    Group,
    ListResponse,
    PatchOp,
    ResourceTypeResource,
    SchemaResource,
    SearchRequest,
    ServiceProviderConfigResource,
    User,
)
from scimcore.schema import published_schemas

DATA = Path(__file__).parent.parent / "data" / "rfc"

#: (file, model, context): the RFC section is the file name's prefix.
EXAMPLES: list[tuple[str, Any, Context]] = [
    ("rfc7643-8.1-minimal-user.json", User, Context.RESPONSE),
    ("rfc7643-8.2-full-user.json", User, Context.RESPONSE),
    ("rfc7643-8.3-enterprise-user.json", User, Context.RESPONSE),
    ("rfc7643-8.4-group.json", Group, Context.RESPONSE),
    ("rfc7643-8.5-service-provider-config.json", ServiceProviderConfigResource, Context.RESPONSE),
    ("rfc7644-3.3-create-request.json", User, Context.CREATION),
    ("rfc7644-3.3-create-response.json", User, Context.RESPONSE),
    ("rfc7644-3.4.1-get-response.json", User, Context.RESPONSE),
    ("rfc7644-3.4.2-list-response.json", ListResponse[User], Context.RESPONSE),
    ("rfc7644-3.4.3-search-request.json", SearchRequest, Context.RESPONSE),
    ("rfc7644-3.4.3-search-response.json", ListResponse[User], Context.RESPONSE),
    ("rfc7644-3.5.1-replace-request.json", User, Context.RESPONSE),
    ("rfc7644-3.5.1-replace-response.json", User, Context.RESPONSE),
    ("rfc7644-3.5.2.1-add-member.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.1-add-no-path.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.2-remove-member.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.2-remove-all-members.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.2-remove-emails-filter.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.2-remove-two-members.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.2-replace-members-remove-add.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.3-replace-members.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.3-replace-work-address.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.3-replace-street-address.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.5.2.3-replace-no-path.json", PatchOp, Context.RESPONSE),
    ("rfc7644-3.7-bulk-request.json", BulkRequest, Context.RESPONSE),
    ("rfc7644-3.7-bulk-response.json", BulkResponse, Context.RESPONSE),
    ("rfc7644-3.7-bulk-response-error.json", BulkResponse, Context.RESPONSE),
    ("rfc7644-3.7.1-bulk-circular-request.json", BulkRequest, Context.RESPONSE),
    ("rfc7644-3.7.2-bulk-id-request.json", BulkRequest, Context.RESPONSE),
    ("rfc7644-3.7.4-payload-too-large.json", Error, Context.RESPONSE),
    ("rfc7644-3.9-attributes-response.json", User, Context.RESPONSE),
    ("rfc7644-3.12-error-not-found.json", Error, Context.RESPONSE),
    ("rfc7644-3.12-error-mutability.json", Error, Context.RESPONSE),
]


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


def assigned(value: Any) -> Any:
    """``value`` without its unassigned (``null``, ``[]``) members, recursively."""
    if isinstance(value, dict):
        return {k: assigned(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [assigned(v) for v in value]
    return value


def test_every_file_is_in_the_table() -> None:
    listed = {name for name, _, _ in EXAMPLES} | {"rfc7643-8.6-resource-types.json"}
    assert {p.name for p in DATA.glob("*.json")} == listed


@pytest.mark.parametrize(("name", "model", "context"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_round_trip(name: str, model: Any, context: Context) -> None:
    doc = load(name)
    decoded = decode(doc, model, context=context)
    if context is Context.RESPONSE:
        assert assigned(encode(decoded, full=True)) == assigned(doc)
    else:
        # a request decoded in its context: nothing read-only to drop here
        assert encode(decoded) == doc


def test_resource_types_8_6() -> None:
    docs = load("rfc7643-8.6-resource-types.json")
    for doc in docs:
        assert encode(decode(doc, ResourceTypeResource)) == doc
    user_type = decode(docs[0], ResourceTypeResource)
    assert user_type.schema_extensions[0].required is True


@pytest.mark.parametrize("doc", published_schemas(), ids=lambda d: str(d["name"]))
def test_schema_representations_8_7(doc: dict[str, Any]) -> None:
    """RFC 7643 §8.7.1 and §8.7.2, as published, decode as SchemaResource and back."""
    decoded = decode(doc, SchemaResource)
    assert assigned(encode(decoded)) == assigned(doc)


def test_full_user_typed_access() -> None:
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


def test_list_response_items_are_typed() -> None:
    page = decode(load("rfc7644-3.4.3-search-response.json"), ListResponse[User])
    assert [u.user_name for u in page.resources] == ["jsmith", "jsmith2"]
    assert page.items_per_page == 10


def test_untyped_list_response_keeps_json() -> None:
    doc = load("rfc7644-3.4.2-list-response.json")
    page = decode(doc, ListResponse)
    assert page.resources == doc["Resources"]


def test_error_message_to_exception() -> None:
    error = decode(load("rfc7644-3.12-error-mutability.json"), Error)
    exc = error.to_exception()
    assert (exc.status, exc.scim_type, exc.detail) == (
        400,
        "mutability",
        "Attribute 'id' is readOnly",
    )
