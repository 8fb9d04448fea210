"""Tenants: one endpoint, a service per tenant, chosen for each request.

:class:`Tenants` stands where a :class:`~scimcore.ScimService` would (the
ASGI and WSGI adapters take either): for each request it asks its
``resolve`` function which tenant's service serves it, and hands that
service the request as the tenant sees it (its path and base URL). A tenant
is a whole service: its own store (so its own resources), its own tokens and
its own :class:`~scimcore.Policy`; a token of one tenant is checked by that
tenant's service only, so it never reaches another tenant's data. A request
that names no tenant, or one that does not exist, is 404.

:func:`tenant_from_path` is the resolver for per-tenant path prefixes
(``/{tenant}/Users``); a host may resolve tenants any other way (the ``Host``
header, a claim of the caller's token) with a function of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import attrs

from scimcore.errors import NotFound, ScimError
from scimcore.service._http import Request, Response, json_response

__all__ = ["Served", "Tenants", "tenant_from_path"]


class Served(Protocol):
    """What :class:`Tenants` needs of a tenant's service: a ``ScimService`` or ``ScimV1Service``."""

    max_payload_size: int

    def handle(self, request: Request) -> Response: ...  # pragma: no cover

    async def handle_async(
        self,
        request: Request,
        *,
        sync_to_thread: bool | None = None,
        disconnected: Callable[[], Awaitable[object]] | None = None,
    ) -> Response: ...  # pragma: no cover

    def refuse_unauthenticated(self, request: Request) -> Response | None: ...  # pragma: no cover


#: A resolver: the tenant's service and the request as it sees it, or ``None`` (404).
Resolver = Callable[[Request], "tuple[Served, Request] | None"]


def tenant_from_path(services: Callable[[str], Served | None], *, suffix: str = "") -> Resolver:
    """A resolver for ``/{tenant}{suffix}/…`` paths: the first segment names the tenant.

    ``services(name)`` is the tenant's service, or ``None`` when there is no
    such tenant. The service sees the path after ``/{tenant}{suffix}``, and a
    base URL that ends with it.

    >>> from scimcore.stores import MemoryStore
    >>> from scimcore.service import ScimService
    >>> acme = ScimService(MemoryStore())
    >>> resolve = tenant_from_path({"acme": acme}.get, suffix="/scim/v2")
    >>> service, seen = resolve(Request("GET", "/acme/scim/v2/Users", base_url="https://x/t"))
    >>> service is acme, seen.path, seen.base_url
    (True, '/Users', 'https://x/t/acme/scim/v2')
    >>> resolve(Request("GET", "/other/scim/v2/Users")) is None
    True
    """

    def resolve(request: Request) -> tuple[Served, Request] | None:
        name, slash, rest = request.path.lstrip("/").partition("/")
        mount = f"/{name}{suffix}"
        rest = slash + rest
        if suffix:
            if not (rest == suffix or rest.startswith(suffix + "/")):
                return None
            rest = rest[len(suffix) :]
        service = services(name) if name else None
        if service is None:
            return None
        base = request.base_url.rstrip("/") + mount if request.base_url else request.base_url
        return service, attrs.evolve(request, path=rest, base_url=base)

    return resolve


class Tenants:
    """Serves each request with its tenant's service (see the module docstring).

    >>> from scimcore.stores import MemoryStore
    >>> from scimcore.service import ScimService
    >>> services = {name: ScimService(MemoryStore(), tokens=[name + "-token"])
    ...             for name in ("acme", "globex")}
    >>> tenants = Tenants(tenant_from_path(services.get))
    >>> def get(path, token):
    ...     headers = {"Authorization": f"Bearer {token}"}
    ...     return tenants.handle(Request("GET", path, headers=headers)).status
    >>> get("/acme/Users", "acme-token"), get("/globex/Users", "acme-token"), get("/x/Users", "")
    (200, 401, 404)
    """

    def __init__(self, resolve: Resolver, *, max_payload_size: int = 1_048_576) -> None:
        self.resolve = resolve
        #: The body size the adapters read at most; each tenant's service checks its own.
        self.max_payload_size = max_payload_size

    def _error(self, error: ScimError, request: Request) -> Response:
        return json_response(error.status, error.to_dict())

    def _no_tenant(self, request: Request) -> Response:
        return self._error(NotFound(f"There is no endpoint at {request.path!r}."), request)

    def handle(self, request: Request) -> Response:
        """Serve one request with a sync store; never raises."""
        found = self.resolve(request)
        if found is None:
            return self._no_tenant(request)
        service, seen = found
        return service.handle(seen)

    async def handle_async(self, request: Request, **options: Any) -> Response:
        """Serve one request from async code (the options of ``ScimService.handle_async``)."""
        found = self.resolve(request)
        if found is None:
            return self._no_tenant(request)
        service, seen = found
        return await service.handle_async(seen, **options)

    def refuse_unauthenticated(self, request: Request) -> Response | None:
        """The tenant's 401 for a request without its good token, judged on the head alone."""
        found = self.resolve(request)
        if found is None:
            return self._no_tenant(request)
        service, seen = found
        return service.refuse_unauthenticated(seen)
