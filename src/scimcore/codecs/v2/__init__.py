"""The SCIM 2.0 codec (RFC 7643, RFC 7644): JSON to typed models and back.

>>> from scimcore.models import User
>>> user = decode({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
...                "userName": "bjensen", "NAME": {"givenName": "Barbara"}}, User)
>>> user.name.given_name
'Barbara'
>>> encode(user)
{'schemas': ['urn:ietf:params:scim:schemas:core:2.0:User'], 'userName': 'bjensen',
 'name': {'givenName': 'Barbara'}}
"""

from scimcore.codecs.v2._api import decode, decode_value, encode, encode_value
from scimcore.codecs.v2._codegen import Context
from scimcore.codecs.v2._converter import ScimConverter, converter_for, make_converter
from scimcore.codecs.v2._values import format_datetime, parse_datetime

__all__ = [
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
