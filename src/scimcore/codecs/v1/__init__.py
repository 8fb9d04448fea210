"""The SCIM 1.1 codec: 1.1 JSON to the same typed models as SCIM 2.0, and back.

SCIM 1.1 and 2.0 share the models, the schema model, the filter evaluator, the
PATCH engine and the stores; only the wire differs. :func:`decode` and
:func:`encode` have the shape of :mod:`scimcore.codecs.v2`'s; the 1.1 filter
dialect (:func:`decode_filter`, :func:`encode_filter`), the 1.1 PATCH
(:func:`decode_patch`), the ``Errors`` envelope and the 1.1 discovery
documents are translated onto their 2.0 counterparts.

>>> from scimcore.models import User
>>> user = decode({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "bjensen",
...                "roles": ["Tech Lead"]}, User)
>>> user.roles[0].value
'Tech Lead'
>>> encode(user)
{'schemas': ['urn:scim:schemas:core:1.0'], 'userName': 'bjensen', 'roles': [{'value': 'Tech Lead'}]}
"""

from scimcore.codecs.v1._api import decode, decode_error, encode, encode_error
from scimcore.codecs.v1._bulk import bulk_request_to_v2, bulk_response_to_v1, bulk_response_to_v2
from scimcore.codecs.v1._discovery import (
    decode_schema,
    decode_service_provider_config,
    encode_schema,
    encode_service_provider_config,
)
from scimcore.codecs.v1._filter import NotExpressibleIn11, decode_filter, encode_filter
from scimcore.codecs.v1._patch import decode_patch, encode_patch
from scimcore.codecs.v1._query import encode_query
from scimcore.codecs.v1._translate import (
    CORE_SCHEMA,
    DROPPED,
    ENTERPRISE_SCHEMA,
    RENAMES,
    URN_ALIASES,
    name_to_v1,
    name_to_v2,
    resource_to_v1,
    resource_to_v2,
    urn_to_v1,
    urn_to_v2,
)

__all__ = [
    "CORE_SCHEMA",
    "DROPPED",
    "ENTERPRISE_SCHEMA",
    "RENAMES",
    "URN_ALIASES",
    "NotExpressibleIn11",
    "bulk_request_to_v2",
    "bulk_response_to_v1",
    "bulk_response_to_v2",
    "decode",
    "decode_error",
    "decode_filter",
    "decode_patch",
    "decode_schema",
    "decode_service_provider_config",
    "encode",
    "encode_error",
    "encode_filter",
    "encode_patch",
    "encode_query",
    "encode_schema",
    "encode_service_provider_config",
    "name_to_v1",
    "name_to_v2",
    "resource_to_v1",
    "resource_to_v2",
    "urn_to_v1",
    "urn_to_v2",
]


def __dir__() -> list[str]:
    return __all__
