"""Typed models: attrs classes for SCIM resources and messages.

Resources (:class:`User`, :class:`Group`, the discovery resources and any you
make) are attrs classes named after their schema's attributes; messages
(:class:`ListResponse`, :class:`PatchOp`…) likewise. The codec
(:mod:`scimcore.codecs.v2`) reads and writes them.

>>> user = User(user_name="bjensen", emails=[Email(value="bjensen@example.com")])
>>> user[EnterpriseUser] = EnterpriseUser(manager=Manager(value="26118915"))
>>> user.schemas
['urn:ietf:params:scim:schemas:core:2.0:User',
 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']
"""

from scimcore.models._base import (
    COMMON_SCHEMA,
    Complex,
    Extension,
    Meta,
    Resource,
    ScimModel,
    as_list,
    check_model,
)
from scimcore.models._core import (
    Address,
    Email,
    EnterpriseUser,
    Entitlement,
    Group,
    GroupMember,
    GroupMembership,
    Im,
    Manager,
    Name,
    PhoneNumber,
    Photo,
    Role,
    User,
    X509Certificate,
)
from scimcore.models._discovery import (
    ResourceTypeResource,
    SchemaResource,
    ServiceProviderConfigResource,
)
from scimcore.models._dynamic import (
    make_model,
    schema_from_class,
    scim_attribute,
    scim_extension,
    scim_resource,
)
from scimcore.models._messages import (
    BULK_REQUEST_SCHEMA,
    BULK_RESPONSE_SCHEMA,
    LIST_RESPONSE_SCHEMA,
    PATCH_OP_SCHEMA,
    SEARCH_REQUEST_SCHEMA,
    BulkOperation,
    BulkRequest,
    BulkResponse,
    BulkResponseOperation,
    Error,
    ListResponse,
    Message,
    PatchOp,
    PatchOperation,
    SearchRequest,
)

__all__ = [
    "BULK_REQUEST_SCHEMA",
    "BULK_RESPONSE_SCHEMA",
    "COMMON_SCHEMA",
    "LIST_RESPONSE_SCHEMA",
    "PATCH_OP_SCHEMA",
    "SEARCH_REQUEST_SCHEMA",
    "Address",
    "BulkOperation",
    "BulkRequest",
    "BulkResponse",
    "BulkResponseOperation",
    "Complex",
    "Email",
    "EnterpriseUser",
    "Entitlement",
    "Error",
    "Extension",
    "Group",
    "GroupMember",
    "GroupMembership",
    "Im",
    "ListResponse",
    "Manager",
    "Message",
    "Meta",
    "Name",
    "PatchOp",
    "PatchOperation",
    "PhoneNumber",
    "Photo",
    "Resource",
    "ResourceTypeResource",
    "Role",
    "SchemaResource",
    "ScimModel",
    "SearchRequest",
    "ServiceProviderConfigResource",
    "User",
    "X509Certificate",
    "as_list",
    "check_model",
    "make_model",
    "schema_from_class",
    "scim_attribute",
    "scim_extension",
    "scim_resource",
]
