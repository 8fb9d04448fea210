"""Paths to routes and back: the route table (RFC 7644 §3.2, Table 2) and resource URLs.

Theory of operation: a path relative to the service root is split into
segments and classified into a :class:`Route` of one *kind*. The methods each
kind allows are data (:data:`ALLOWED`), so that a wrong method is a 405 with an
``Allow`` header built from the same table. Endpoint names are matched
case-insensitively. An optional version segment (``/v2/Users``, RFC 7644 §3.13)
is accepted when it names SCIM 2.0 and refused with ``invalidVers`` otherwise.

:class:`Endpoints` holds the resource types a service serves: it routes a path
among them, and goes the other way, from a resource to its URL (``Location``,
``meta.location``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs

from scimcore.errors import InvalidVersion, NotFound
from scimcore.schema import ResourceType
from scimcore.service._http import Request

__all__ = ["ALLOWED", "Endpoints", "Route", "route"]

# kind -> the HTTP methods it allows, in the order the Allow header lists them.
ALLOWED: Mapping[str, tuple[str, ...]] = {
    "root": ("GET",),  # GET / : a query across every resource type (§3.4.2.1)
    "search": ("POST",),  # POST /.search and POST /{Endpoint}/.search (§3.4.3)
    "collection": ("GET", "POST"),  # /{Endpoint}
    "resource": ("GET", "PUT", "PATCH", "DELETE"),  # /{Endpoint}/{id}
    "me": ("GET", "POST", "PUT", "PATCH", "DELETE"),  # /Me (§3.11)
    "service_provider_config": ("GET",),  # §4
    "resource_types": ("GET",),
    "resource_type": ("GET",),
    "schemas": ("GET",),
    "schema": ("GET",),
    "bulk": ("POST",),  # §3.7
}

_DISCOVERY = {
    "serviceproviderconfig": "service_provider_config",
    # SCIM 1.1 spelled it in the plural; clients still send it.
    "serviceproviderconfigs": "service_provider_config",
    "resourcetypes": "resource_types",
    "schemas": "schemas",
}
_VERSION = re.compile(r"v\d+", re.IGNORECASE)


@attrs.frozen
class Route:
    """A classified path: its kind, resource type and id, when it has them.

    >>> from scimcore.schema import USER_RESOURCE_TYPE
    >>> r = route("/Users/2819c223", {"users": USER_RESOURCE_TYPE})
    >>> r.kind, r.resource_type.name, r.id, r.allowed
    ('resource', 'User', '2819c223', ('GET', 'PUT', 'PATCH', 'DELETE'))
    """

    kind: str
    resource_type: ResourceType | None = None
    id: str | None = None

    @property
    def allowed(self) -> tuple[str, ...]:
        """The methods this route allows."""
        return ALLOWED[self.kind]


def route(path: str, endpoints: Mapping[str, ResourceType]) -> Route:
    """Classify ``path``; ``endpoints`` maps folded endpoint names (``users``) to types.

    Raises :class:`~scimcore.NotFound` for a path that names nothing and
    :class:`~scimcore.InvalidVersion` for a version segment other than ``v2``.

    >>> route("/v2/ServiceProviderConfig", {}).kind
    'service_provider_config'
    >>> route("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", {}).id
    'urn:ietf:params:scim:schemas:core:2.0:User'
    >>> route("/v3/Users", {})
    Traceback (most recent call last):
    ...
    scimcore.errors.InvalidVersion: SCIM version 'v3' is not supported; this service speaks v2.
    """
    if "\x00" in path:  # no endpoint, id or name holds U+0000: every store refuses it
        raise NotFound(f"There is no resource at {path!r}.")
    segments = [s for s in path.split("/") if s]
    if segments and _VERSION.fullmatch(segments[0]) and segments[0].casefold() not in endpoints:
        if segments[0].lower() != "v2":
            raise InvalidVersion(
                f"SCIM version {segments[0]!r} is not supported; this service speaks v2."
            )
        segments = segments[1:]
    if not segments:
        return Route("root")
    head = segments[0].casefold()
    if len(segments) == 1:
        if head == ".search":
            return Route("search")
        if head == "bulk":
            return Route("bulk")
        if head == "me":
            return Route("me")
        if head in _DISCOVERY:
            return Route(_DISCOVERY[head])
    if head in ("resourcetypes", "schemas") and len(segments) == 2:
        return Route(head[:-1].replace("resourcetype", "resource_type"), id=segments[1])
    resource_type = endpoints.get(head)
    if resource_type is not None:
        if len(segments) == 1:
            return Route("collection", resource_type)
        if len(segments) == 2:
            if segments[1] == ".search":
                return Route("search", resource_type)
            return Route("resource", resource_type, segments[1])
    raise NotFound(f"There is no endpoint at {path!r}.")


#: The characters quote() never escapes: an id made of them only (a UUID) is its own URL.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*\Z").match


def _segment(resource_id: str) -> str:
    """An id as one URL path segment, percent-encoded where it needs to be."""
    return resource_id if _UNRESERVED(resource_id) else quote(resource_id, safe="")


class Endpoints:
    """The resource types a service serves, by endpoint, and the URLs of their resources.

    ``base_url``, when given, is the service root clients see; otherwise each
    request's own ``base_url`` is.

    >>> from scimcore.models import Group, User
    >>> endpoints = Endpoints((User, Group), base_url="https://example.com/scim/v2/")
    >>> found = endpoints.route("/Groups/a b")
    >>> endpoints.model(found.resource_type).__name__, found.id
    ('Group', 'a b')
    >>> endpoints.url(endpoints.base(Request("GET", "/")), Group, "a b")
    'https://example.com/scim/v2/Groups/a%20b'
    """

    def __init__(self, models: Sequence[type[Any]], *, base_url: str | None = None) -> None:
        self.models: tuple[type[Any], ...] = tuple(models)
        self.base_url = base_url
        #: Folded endpoint name (``users``) → resource type.
        self.by_endpoint: dict[str, ResourceType] = {}
        self._model_of: dict[str, type[Any]] = {}
        for model in self.models:
            resource_type: ResourceType = model.__scim_resource_type__
            self.by_endpoint[resource_type.endpoint.strip("/").casefold()] = resource_type
            self._model_of[resource_type.name] = model

    def route(self, path: str) -> Route:
        """:func:`route` among these endpoints."""
        return route(path, self.by_endpoint)

    def model(self, resource_type: ResourceType | None) -> type[Any]:
        """The model served for a routed resource type."""
        assert resource_type is not None
        return self._model_of[resource_type.name]

    def model_named(self, name: str, attribute: str) -> type[Any] | None:
        """The model of the resource type ``name``, if it is served and has ``attribute``."""
        model = self._model_of.get(name)
        if model is None:
            return None
        return model if attribute in attrs.fields_dict(model) else None

    def model_of_document(
        self, document: Mapping[str, Any], models: Sequence[type[Any]]
    ) -> type[Any]:
        """The model of a stored document among ``models`` (by ``meta.resourceType``)."""
        if len(models) == 1:
            return models[0]
        name = document.get("meta", {}).get("resourceType")
        return self._model_of.get(name, models[0]) if isinstance(name, str) else models[0]

    def base(self, request: Request) -> str:
        """The service root as the client of ``request`` sees it, without a final ``/``."""
        return (self.base_url or request.base_url).rstrip("/")

    def url(self, base: str, model: type[Any], resource_id: str | None) -> str:
        """The URL of a resource under the service root ``base``."""
        endpoint = model.__scim_resource_type__.endpoint
        return f"{base}{endpoint}/{_segment(resource_id or '')}"
