"""The public names of scimcore.models and scimcore.codecs.v2, pinned."""

from __future__ import annotations

import scimcore.codecs.v2
import scimcore.models


def test_models_all() -> None:
    assert sorted(scimcore.models.__all__) == sorted(
        [
            "BULK_REQUEST_SCHEMA", "BULK_RESPONSE_SCHEMA", "COMMON_SCHEMA", "LIST_RESPONSE_SCHEMA",
            "PATCH_OP_SCHEMA", "SEARCH_REQUEST_SCHEMA", "Address", "BulkOperation", "BulkRequest",
            "BulkResponse", "BulkResponseOperation", "Complex", "Email", "EnterpriseUser",
            "Entitlement", "Error", "Extension", "Group", "GroupMember", "GroupMembership", "Im",
            "ListResponse", "Manager", "Message", "Meta", "Name", "PatchOp", "PatchOperation",
            "PhoneNumber", "Photo", "Resource", "ResourceTypeResource", "Role", "SchemaResource",
            "ScimModel", "SearchRequest", "ServiceProviderConfigResource", "User",
            "X509Certificate", "as_list", "check_model", "make_model", "schema_from_class",
            "scim_attribute", "scim_extension", "scim_resource",
        ]
    )  # fmt: skip
    for name in scimcore.models.__all__:
        assert hasattr(scimcore.models, name)


def test_codec_all() -> None:
    assert sorted(scimcore.codecs.v2.__all__) == [
        "Context",
        "ScimConverter",
        "converter_for",
        "decode",
        "decode_value",
        "encode",
        "encode_value",
        "format_datetime",
        "make_converter",
        "parse_datetime",
    ]
