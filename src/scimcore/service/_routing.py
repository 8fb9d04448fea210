"""The route table: which paths exist and which methods each allows (RFC 7644 §3.2, Table 2).

Theory of operation: a path relative to the service root is split into
segments and classified into a :class:`Route` of one *kind*. The methods each
kind allows are data (:data:`ALLOWED`), so that a wrong method is a 405 with an
``Allow`` header built from the same table. Endpoint names are matched
case-insensitively. An optional version segment (``/v2/Users``, RFC 7644 §3.13)
is accepted when it names SCIM 2.0 and refused with ``invalidVers`` otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from scimcore.errors import InvalidVersion, NotFound
from scimcore.schema import ResourceType

__all__ = ["ALLOWED", "Route", "route"]

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
