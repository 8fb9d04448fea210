"""scimcore: a SCIM 2.0 and SCIM 1.1 protocol library.

The public surface is curated here; everything in a ``_private`` module may
change. The sub-modules that need an optional dependency (``asgi``, ``wsgi``,
``client`` needs httpx, ``strategies`` needs Hypothesis, ``testing`` needs
pytest) load on first use.

>>> import scimcore
>>> user = scimcore.codecs.v2.decode({"userName": "bjensen", "active": True}, scimcore.User)
>>> scimcore.compile_filter('userName eq "BJENSEN"', scimcore.User)(user)
True
>>> scimcore.InvalidFilter().to_dict()["scimType"]
'invalidFilter'
"""

import importlib
from typing import TYPE_CHECKING, Any

from scimcore import codecs, stores
from scimcore._version import __version__
from scimcore.errors import (
    BadRequest,
    Conflict,
    ExpiredCursor,
    Forbidden,
    InternalServerError,
    InvalidCount,
    InvalidCursor,
    InvalidFilter,
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    InvalidVersion,
    MethodNotAllowed,
    Mutability,
    NoTarget,
    NotFound,
    NotImplementedByServer,
    PayloadTooLarge,
    PreconditionFailed,
    ScimError,
    Sensitive,
    ServiceUnavailable,
    TooMany,
    TooManyRequests,
    Unauthorized,
    Uniqueness,
    UnsupportedMediaType,
)
from scimcore.filter import Filter, PatchPath, compile_filter, parse_filter, parse_path
from scimcore.models import (
    BulkRequest,
    BulkResponse,
    EnterpriseUser,
    Error,
    Group,
    ListResponse,
    PatchOp,
    PatchOperation,
    SearchRequest,
    User,
)
from scimcore.patch import PatchResult, PlanPolicy, apply_patch, patch_result, plan_patch
from scimcore.policy import Policy
from scimcore.schema import (
    Attribute,
    ResourceType,
    Schema,
    SchemaRegistry,
    ServiceProviderConfig,
    core_schemas,
)
from scimcore.service import Request, Response, ScimService

if TYPE_CHECKING:
    from scimcore import asgi, client, strategies, testing, wsgi

_LAZY = ("asgi", "wsgi", "strategies", "testing", "client")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"scimcore.{name}")
    raise AttributeError(f"module 'scimcore' has no attribute {name!r}")


__all__ = [
    "Attribute",
    "BadRequest",
    "BulkRequest",
    "BulkResponse",
    "Conflict",
    "EnterpriseUser",
    "Error",
    "ExpiredCursor",
    "Filter",
    "Forbidden",
    "Group",
    "InternalServerError",
    "InvalidCount",
    "InvalidCursor",
    "InvalidFilter",
    "InvalidPath",
    "InvalidSyntax",
    "InvalidValue",
    "InvalidVersion",
    "ListResponse",
    "MethodNotAllowed",
    "Mutability",
    "NoTarget",
    "NotFound",
    "NotImplementedByServer",
    "PatchOp",
    "PatchOperation",
    "PatchPath",
    "PatchResult",
    "PayloadTooLarge",
    "PlanPolicy",
    "Policy",
    "PreconditionFailed",
    "Request",
    "ResourceType",
    "Response",
    "Schema",
    "SchemaRegistry",
    "ScimError",
    "ScimService",
    "SearchRequest",
    "Sensitive",
    "ServiceProviderConfig",
    "ServiceUnavailable",
    "TooMany",
    "TooManyRequests",
    "Unauthorized",
    "Uniqueness",
    "UnsupportedMediaType",
    "User",
    "__version__",
    "apply_patch",
    "asgi",
    "client",
    "codecs",
    "compile_filter",
    "core_schemas",
    "parse_filter",
    "parse_path",
    "patch_result",
    "plan_patch",
    "stores",
    "strategies",
    "testing",
    "wsgi",
]
