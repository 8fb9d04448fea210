"""The SCIM service provider, with no I/O: ``ScimService(store).handle(request) -> response``.

A host framework (or :mod:`scimcore.asgi`, :mod:`scimcore.wsgi`) turns what its
server received into a :class:`Request`, calls :meth:`ScimService.handle` (or
:meth:`ScimService.handle_async`) and writes the :class:`Response` back.
Everything in ``__all__`` is public; the ``_modules`` are not (their layout
is in the docstring of :mod:`scimcore.service._service`). :class:`StoreCall` is
the base class of the typed store calls a handler yields.

>>> from scimcore.stores import MemoryStore
>>> service = ScimService(MemoryStore())
>>> service.handle(Request("GET", "/ServiceProviderConfig")).json()["patch"]
{'supported': True}
"""

from scimcore.service._bulk import BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA
from scimcore.service._hooks import Action, BearerTokens, Context, Hooks
from scimcore.service._http import SCIM_MEDIA_TYPE, Request, Response
from scimcore.service._params import SEARCH_REQUEST_SCHEMA, ListParams
from scimcore.service._responses import LIST_RESPONSE_SCHEMA
from scimcore.service._routing import Route, route
from scimcore.service._service import ScimService, UnsupportedMediaType
from scimcore.service._store_calls import StoreCall
from scimcore.service._tenants import Tenants, tenant_from_path
from scimcore.service._v1 import ScimV1Service

__all__ = [
    "BULK_REQUEST_SCHEMA",
    "BULK_RESPONSE_SCHEMA",
    "LIST_RESPONSE_SCHEMA",
    "SCIM_MEDIA_TYPE",
    "SEARCH_REQUEST_SCHEMA",
    "Action",
    "BearerTokens",
    "Context",
    "Hooks",
    "ListParams",
    "Request",
    "Response",
    "Route",
    "ScimService",
    "ScimV1Service",
    "StoreCall",
    "Tenants",
    "UnsupportedMediaType",
    "route",
    "tenant_from_path",
]


def __dir__() -> list[str]:
    return __all__
