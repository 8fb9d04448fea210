"""A SCIM client on the same core: typed CRUD, paging that never misses, retries, bulk.

:class:`Client` (blocking) and :class:`AsyncClient` (asyncio) are two thin
front ends on httpx (the ``client`` extra) over one sans-I/O core,
:class:`ClientCore`, whose operations are step generators (see its module
docstring). Resources are the same typed models the server side uses, read
and written by the same codecs; a SCIM error the server answers is raised as
the matching :class:`scimcore.ScimError` subclass, with ``.request`` and
``.response``.

The exception tree::

    scimcore.ScimError            the server answered with an error (NotFound, Uniqueness, ...),
                                  or a feature the server does not offer (NotImplementedByServer)
    TransportError                no answer (connection refused, dropped, timed out), after retries
    PagingError                   iter_resources could not read a complete list

>>> from scimcore.client import Client, attr
>>> str(attr("userName").eq('b"jensen'))
'userName eq "b\\\\"jensen"'

See ``docs/client.md`` for the behaviour of paging and retries, stated precisely.
"""

from scimcore.client._bulk import dependency_order
from scimcore.client._core import (
    ClientCore,
    Discovery,
    HttpRequest,
    HttpResponse,
    RequestLog,
    Retry,
    Sleep,
    Step,
    TransportError,
    retry_after,
)
from scimcore.client._http import AsyncClient, AsyncResources, Client, Resources
from scimcore.client._paging import Pager, PagingError
from scimcore.filter import all_of, any_of, attr, not_
from scimcore.patch import PlanPolicy, plan_patch

__all__ = [
    "AsyncClient",
    "AsyncResources",
    "Client",
    "ClientCore",
    "Discovery",
    "HttpRequest",
    "HttpResponse",
    "Pager",
    "PagingError",
    "PlanPolicy",
    "RequestLog",
    "Resources",
    "Retry",
    "Sleep",
    "Step",
    "TransportError",
    "all_of",
    "any_of",
    "attr",
    "dependency_order",
    "not_",
    "plan_patch",
    "retry_after",
]
