"""Wire formats: :mod:`scimcore.codecs.v2` (SCIM 2.0) and :mod:`scimcore.codecs.v1` (SCIM 1.1)
turn JSON into the same typed models and back.

>>> from scimcore.codecs import v2
>>> from scimcore.models import Group
>>> v2.decode({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
...            "displayName": "Tour Guides"}, Group).display_name
'Tour Guides'
"""

from scimcore.codecs import v1, v2

__all__ = ["v1", "v2"]
