"""Discovery: ``/ServiceProviderConfig``, ``/ResourceTypes``, ``/Schemas`` (RFC 7644 §4).

Theory of operation: the three documents describe the service's own
configuration, which never changes once it is made, so each is built once, on
first request, and kept without its ``meta`` (whose ``location`` depends on
the URL the client used). Discovery endpoints take no ``filter`` (403,
RFC 7644 §4); paging and sorting are ignored. ``/ServiceProviderConfig`` is
readable without authentication: its ``authenticationSchemes`` are how a
client learns to authenticate (the pipeline in :mod:`._service` lets it through).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from scimcore.errors import Forbidden, NotFound
from scimcore.schema import (
    AuthenticationScheme,
    BulkSupport,
    FilterSupport,
    Pagination,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Supported,
)
from scimcore.service._hooks import Context, Hooks
from scimcore.service._http import Request, Response, json_response
from scimcore.service._params import Paging, parse_query
from scimcore.service._responses import list_document
from scimcore.service._routing import Endpoints, Route
from scimcore.service._store_calls import Gen

__all__ = ["Discovery"]

_SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"


@attrs.frozen(kw_only=True)
class Discovery:
    """The discovery documents of a service, and the routes that serve them.

    ``bearer_tokens`` says whether the service announces bearer-token
    authentication; the limits are those :class:`~scimcore.ScimService` was made with.
    """

    endpoints: Endpoints
    hooks: Hooks
    bearer_tokens: bool
    paging: Paging
    max_operations: int
    max_payload_size: int
    documentation_uri: str | None
    #: The store's ``served_schema`` (a store over a host's table keeps some attributes only):
    #: each schema as the store keeps it, or ``None`` to serve the schemas whole.
    served_schema: Callable[[Schema], Schema] | None = None
    #: The documents built so far, without their ``meta``.
    _built: dict[str, dict[str, Any]] = attrs.field(init=False, factory=dict)

    # ------------------------------------------------------------------ the documents

    def service_provider_config(self) -> ServiceProviderConfig:
        """What this service supports (RFC 7643 §5, RFC 9865 §2)."""
        paging = self.paging
        schemes: tuple[AuthenticationScheme, ...] = ()
        if self.bearer_tokens:
            schemes = (
                AuthenticationScheme(
                    type="oauthbearertoken",
                    name="OAuth Bearer Token",
                    description="Authentication with a bearer token (RFC 6750).",
                    spec_uri="https://www.rfc-editor.org/rfc/rfc6750",
                    primary=True,
                ),
            )
        return ServiceProviderConfig(
            patch=Supported(True),
            bulk=BulkSupport(True, self.max_operations, self.max_payload_size),
            filter=FilterSupport(True, paging.max_results),
            change_password=Supported(True),
            sort=Supported(True),
            etag=Supported(True),
            authentication_schemes=schemes,
            documentation_uri=self.documentation_uri,
            pagination=Pagination(
                cursor=paging.cursor,
                index=True,
                default_pagination_method="index",
                default_page_size=paging.default_page_size,
                max_page_size=paging.max_results,
            ),
        )

    def schemas(self) -> tuple[Schema, ...]:
        """Every schema the served resource types use, base schemas first."""
        models = self.endpoints.models
        found: dict[str, Schema] = {}
        for model in models:
            found.setdefault(model.__scim_schema__.id, model.__scim_schema__)
        for model in models:
            for extension in model.__scim_extensions__.values():
                schema = extension.__scim_schema__
                found.setdefault(schema.id, schema)
        if self.served_schema is not None:
            return tuple(self.served_schema(schema) for schema in found.values())
        return tuple(found.values())

    def _meta(self, request: Request, kind: str, path: str) -> dict[str, str]:
        return {"resourceType": kind, "location": f"{self.endpoints.base(request)}{path}"}

    def _cached(self, key: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A discovery document without its ``meta``, built once (they never change)."""
        document = self._built.get(key)
        if document is None:
            document = self._built[key] = build()
        return document

    def _resource_type_document(self, request: Request, resource_type: ResourceType) -> Any:
        name = resource_type.id or resource_type.name
        document = self._cached(f"rt:{resource_type.name}", resource_type.to_dict)
        meta = self._meta(request, "ResourceType", f"/ResourceTypes/{name}")
        return {**document, "meta": meta}

    def _schema_document(self, request: Request, schema: Schema) -> Any:
        document = self._cached(
            f"schema:{schema.id}", lambda: {"schemas": [_SCHEMA_SCHEMA], **schema.to_dict()}
        )
        return {**document, "meta": self._meta(request, "Schema", f"/Schemas/{schema.id}")}

    # ------------------------------------------------------------------ the routes

    def _no_filter(self, ctx: Context) -> None:
        self.hooks.authorize(ctx, "discovery", None, None)
        if "filter" in parse_query(ctx.request.query):
            raise Forbidden("Discovery endpoints cannot be filtered (RFC 7644 §4).")

    def route_service_provider_config(self, ctx: Context, found: Route) -> Gen[Response]:
        """``GET /ServiceProviderConfig``."""
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        document = self._cached("spc", lambda: self.service_provider_config().to_dict())
        meta = self._meta(ctx.request, "ServiceProviderConfig", "/ServiceProviderConfig")
        return json_response(200, {**document, "meta": meta})

    def route_resource_types(self, ctx: Context, found: Route) -> Gen[Response]:
        """``GET /ResourceTypes``."""
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        documents = [
            self._resource_type_document(ctx.request, m.__scim_resource_type__)
            for m in self.endpoints.models
        ]
        return json_response(200, list_document(documents, len(documents), 1))

    def route_resource_type(self, ctx: Context, found: Route) -> Gen[Response]:
        """``GET /ResourceTypes/{name}``."""
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        for model in self.endpoints.models:
            resource_type: ResourceType = model.__scim_resource_type__
            if found.id in (resource_type.id, resource_type.name):
                return json_response(200, self._resource_type_document(ctx.request, resource_type))
        raise NotFound(f"There is no resource type {found.id!r}.")

    def route_schemas(self, ctx: Context, found: Route) -> Gen[Response]:
        """``GET /Schemas``."""
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        documents = [self._schema_document(ctx.request, s) for s in self.schemas()]
        return json_response(200, list_document(documents, len(documents), 1))

    def route_schema(self, ctx: Context, found: Route) -> Gen[Response]:
        """``GET /Schemas/{urn}``."""
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        assert found.id is not None
        for schema in self.schemas():
            if schema.id.casefold() == found.id.casefold():
                return json_response(200, self._schema_document(ctx.request, schema))
        raise NotFound(f"There is no schema {found.id!r}.")
