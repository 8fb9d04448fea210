"""The public surface that outside checks rely on (DESIGN.md "Public surface")."""

from __future__ import annotations

import importlib

import pytest

import scimcore

DESIGN_NAMES = [
    "__version__",
    "ScimError",
    "InvalidFilter",
    "InvalidPath",
    "InvalidValue",
    "InvalidSyntax",
    "Mutability",
    "NoTarget",
    "Uniqueness",
    "TooMany",
    "NotFound",
    "PreconditionFailed",
    "User",
    "Group",
    "EnterpriseUser",
    "Schema",
    "Attribute",
    "ResourceType",
    "ServiceProviderConfig",
    "PatchOp",
    "ListResponse",
    "SearchRequest",
    "BulkRequest",
    "parse_filter",
    "parse_path",
    "compile_filter",
    "apply_patch",
    "Policy",
    "codecs",
    "stores",
    "ScimService",
    "asgi",
    "wsgi",
    "strategies",
    "testing",
]


def test_design_names_are_public() -> None:
    for name in DESIGN_NAMES:
        assert name in scimcore.__all__, name
        assert getattr(scimcore, name) is not None


def test_all_is_sorted_and_resolves() -> None:
    names = [n for n in scimcore.__all__ if n != "__version__"]
    assert names == sorted(names, key=lambda n: (n[0].islower(), n))
    for name in scimcore.__all__:
        getattr(scimcore, name)


def test_nested_design_names() -> None:
    assert callable(scimcore.codecs.v2.decode)
    assert callable(scimcore.codecs.v2.encode)
    assert callable(scimcore.codecs.v1.decode)
    assert callable(scimcore.codecs.v1.encode)
    for store in ("MemoryStore", "SQLiteStore", "PostgresStore"):
        assert hasattr(scimcore.stores, store)
    assert callable(scimcore.asgi.create_app)
    assert callable(scimcore.wsgi.create_app)
    for strategy in ("filters", "paths", "resources", "patch_requests"):
        assert callable(getattr(scimcore.strategies, strategy))
    assert hasattr(scimcore.testing, "StoreContract")
    for preset in ("strict", "entra", "okta", "interop"):
        assert isinstance(getattr(scimcore.Policy, preset)(), scimcore.Policy)


def test_unknown_attribute() -> None:
    with pytest.raises(AttributeError, match=r"^module 'scimcore' has no attribute 'nosuch'$"):
        scimcore.nosuch  # noqa: B018


def test_the_core_imports_no_web_framework_or_optional_dependency() -> None:
    """DESIGN rule 1 and 2: importing the core loads attrs, cattrs and lark only."""
    import subprocess
    import sys

    code = (
        "import sys, scimcore; "
        "bad = [m for m in ('uvicorn', 'psycopg', 'hypothesis', 'pytest', 'starlette', "
        "'flask', 'django', 'pydantic') if m in sys.modules]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert importlib.import_module("scimcore.schema")
