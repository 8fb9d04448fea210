"""scimcore: a SCIM 2.0 and SCIM 1.1 protocol library.

The public surface is curated here; everything in a ``_private`` module may
change. See https://scimcore.readthedocs.io for the guide.

>>> import scimcore
>>> scimcore.InvalidFilter().to_dict()["scimType"]
'invalidFilter'
"""

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
    TooMany,
    Unauthorized,
    Uniqueness,
)
from scimcore.policy import Policy
from scimcore.schema import (
    Attribute,
    ResourceType,
    Schema,
    SchemaRegistry,
    ServiceProviderConfig,
    core_schemas,
)

__all__ = [
    "Attribute",
    "BadRequest",
    "Conflict",
    "ExpiredCursor",
    "Forbidden",
    "InternalServerError",
    "InvalidCount",
    "InvalidCursor",
    "InvalidFilter",
    "InvalidPath",
    "InvalidSyntax",
    "InvalidValue",
    "InvalidVersion",
    "MethodNotAllowed",
    "Mutability",
    "NoTarget",
    "NotFound",
    "NotImplementedByServer",
    "PayloadTooLarge",
    "Policy",
    "PreconditionFailed",
    "ResourceType",
    "Schema",
    "SchemaRegistry",
    "ScimError",
    "Sensitive",
    "ServiceProviderConfig",
    "TooMany",
    "Unauthorized",
    "Uniqueness",
    "__version__",
    "core_schemas",
]
