"""The schema model: one source of truth for every attribute characteristic.

:class:`Attribute`, :class:`Schema`, :class:`ResourceType` and
:class:`ServiceProviderConfig` model RFC 7643 §2, §5, §6 and §7;
:func:`core_schemas` gives the RFC's core schemas with their errata fixed; a
:class:`SchemaRegistry` resolves attribute paths case-insensitively.

>>> from scimcore.schema import core_schemas
>>> password = core_schemas().resolve("password", resource_type="User").target
>>> password.mutability.value, password.returned.value
('writeOnly', 'never')
"""

from scimcore.schema._core import (
    COMMON_ATTRIBUTES,
    ENTERPRISE_USER_SCHEMA,
    ERRATA,
    GROUP_RESOURCE_TYPE,
    GROUP_SCHEMA,
    RESOURCE_TYPE_SCHEMA_URN,
    SCHEMA_SCHEMA,
    SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
    USER_RESOURCE_TYPE,
    USER_SCHEMA,
    Erratum,
    core_schemas,
    published_schemas,
)
from scimcore.schema._discovery import (
    AuthenticationScheme,
    BulkSupport,
    FilterSupport,
    Pagination,
    ResourceType,
    SchemaExtension,
    ServiceProviderConfig,
    Supported,
)
from scimcore.schema._model import (
    TEXT_TYPES,
    Attribute,
    AttributeType,
    MutabilityKind,
    ReturnedKind,
    Schema,
    UniquenessKind,
    python_name,
)
from scimcore.schema._registry import AttributeRef, SchemaRegistry

__all__ = [
    "COMMON_ATTRIBUTES",
    "ENTERPRISE_USER_SCHEMA",
    "ERRATA",
    "GROUP_RESOURCE_TYPE",
    "GROUP_SCHEMA",
    "RESOURCE_TYPE_SCHEMA_URN",
    "SCHEMA_SCHEMA",
    "SERVICE_PROVIDER_CONFIG_SCHEMA_URN",
    "TEXT_TYPES",
    "USER_RESOURCE_TYPE",
    "USER_SCHEMA",
    "Attribute",
    "AttributeRef",
    "AttributeType",
    "AuthenticationScheme",
    "BulkSupport",
    "Erratum",
    "FilterSupport",
    "MutabilityKind",
    "Pagination",
    "ResourceType",
    "ReturnedKind",
    "Schema",
    "SchemaExtension",
    "SchemaRegistry",
    "ServiceProviderConfig",
    "Supported",
    "UniquenessKind",
    "core_schemas",
    "published_schemas",
    "python_name",
]
