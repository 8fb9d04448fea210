"""SCIM 1.1 in front of a SCIM 2.0 service: ``ScimV1Service(service).handle(request)``.

Theory of operation
-------------------

SCIM 1.1 is served by *translation*, so that both versions share everything
but the wire: the same store, models, filter evaluator, PATCH engine, hooks,
tokens and policy. A 1.1 request is rewritten into the 2.0 request that means
the same thing and run through the 2.0 service's own pipeline (its generator,
:meth:`ScimService._respond`, so store calls are still driven by
:meth:`~ScimService.handle` or :meth:`~ScimService.handle_async`) and so through
the same parts (:mod:`._resources`, :mod:`._lists`, :mod:`._bulk`…); its 2.0
response is then rewritten into 1.1.

Request side:

- the path: an optional ``/v1`` segment and a ``.json`` suffix are dropped;
  ``X-HTTP-Method-Override`` on a POST names the method (Protocol 1.1 §3.2);
- bodies of POST and PUT: :func:`scimcore.codecs.v1.resource_to_v2`;
- PATCH bodies (partial resources): the current resource is read, then
  :func:`scimcore.codecs.v1.decode_patch` gives the 2.0 ``PatchOp``;
- query: ``filter`` in the 1.1 dialect (:func:`~scimcore.codecs.v1.decode_filter`,
  written back as canonical 2.0 text), ``sortBy`` and ``attributes`` names
  mapped, ``sortOrder``/``startIndex`` kept, a ``count`` below 1 dropped (1.1
  does not define it; the page size is then the server's), parameters 1.1
  does not have (``excludedAttributes``, ``cursor``) ignored as 1.1 says.

Response side: resources and list responses through
:func:`~scimcore.codecs.v1.resource_to_v1`, errors in the ``Errors``
envelope, a successful DELETE as ``200 OK`` (1.1) rather than ``204``,
``Content-Type: application/json``. Discovery is answered from the service's
own configuration and schemas: ``/ServiceProviderConfigs`` and
``/Schemas[/Users]``. ``/Bulk`` takes the 1.1 request and answers with 1.1
per-operation ``status`` objects (:func:`~scimcore.codecs.v1.bulk_request_to_v2`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from scimcore._log import log_unexpected
from scimcore.codecs import v2
from scimcore.codecs.v1 import (
    CORE_SCHEMA,
    bulk_request_to_v2,
    bulk_response_to_v1,
    decode_filter,
    decode_patch,
    encode_error,
    encode_schema,
    encode_service_provider_config,
    name_to_v2,
    resource_to_v1,
    resource_to_v2,
    urn_to_v1,
)
from scimcore.errors import (
    InternalServerError,
    InvalidVersion,
    MethodNotAllowed,
    NotFound,
    NotImplementedByServer,
    PayloadTooLarge,
    ScimError,
)
from scimcore.schema import ResourceType, Schema
from scimcore.service._http import Request, Response, dumps, json_body
from scimcore.service._params import parse_query
from scimcore.service._service import ScimService
from scimcore.service._store_calls import Gen, Get

__all__ = ["V1_MEDIA_TYPE", "ScimV1Service"]

V1_MEDIA_TYPE = "application/json"

log = logging.getLogger("scimcore.service")

_DROPPED_HEADERS = frozenset({"content-type", "content-length"})


class ScimV1Service(ScimService):
    """A SCIM 1.1 service provider over a SCIM 2.0 :class:`ScimService`.

    It shares the 2.0 service's store, resource types, policy, tokens and
    hooks (its configuration is read when it is made), so a user created over
    1.1 is the user read over 2.0. Mount it beside the 2.0 service, under
    ``/scim/v1``, with :func:`scimcore.asgi.create_app` or
    :func:`scimcore.wsgi.create_app`.

    >>> from scimcore.stores import MemoryStore
    >>> service = ScimService(MemoryStore())
    >>> v1 = ScimV1Service(service)
    >>> created = v1.handle(Request("POST", "/Users", body=b'{"schemas": '
    ...     b'["urn:scim:schemas:core:1.0"], "userName": "bjensen"}'))
    >>> created.status, created.json()["schemas"]
    (201, ['urn:scim:schemas:core:1.0'])
    >>> user_id = created.json()["id"]
    >>> service.handle(Request("GET", f"/Users/{user_id}")).json()["userName"]
    'bjensen'
    >>> v1.handle(Request("GET", "/Users/nope")).json()
    {'Errors': [{'description': "User 'nope' not found.", 'code': '404'}]}
    """

    def __init__(self, service: ScimService, *, base_url: str | None = None) -> None:
        # The same configuration and the same store object: the store is the only state.
        self.__dict__.update(vars(service))
        self.v2 = service
        self.base_url = base_url

    def _base(self, request: Request) -> str:
        """The 1.1 service root as the client of ``request`` sees it."""
        return (self.base_url or request.base_url).rstrip("/")

    def _relocate(self, request: Request, text: str) -> str:
        """A URL the 2.0 service built from its own ``base_url``, moved under the 1.1 base."""
        v2_base = (self.v2.base_url or "").rstrip("/")
        if v2_base and text.startswith(v2_base + "/"):
            return self._base(request) + text[len(v2_base) :]
        return text

    # ------------------------------------------------------------------ the pipeline

    def _respond(self, request: Request) -> Gen[Response]:
        try:
            return (yield from self._dispatch_v1(request))
        except ScimError as error:
            self._failed(request, error)
            return self._error(error, request)
        except Exception:
            log_unexpected(log, "serving %s %s", request.method, request.path)
            self._failed(request, InternalServerError())
            return self._error(InternalServerError(), request)

    def _error(
        self, error: ScimError, request: Request, headers: Iterable[tuple[str, str]] = ()
    ) -> Response:
        """The 1.1 ``Errors`` response for an error."""
        extra = self._error_headers(error, request, headers)
        if isinstance(error, _NotAllowed):
            extra.append(("Allow", ", ".join(error.allowed)))
        return Response(
            error.status, (("Content-Type", V1_MEDIA_TYPE), *extra), dumps(encode_error(error))
        )

    def _dispatch_v1(self, request: Request) -> Gen[Response]:
        method = request.method
        override = request.header("x-http-method-override")
        if method == "POST" and override and override.strip().upper() in ("PUT", "PATCH", "DELETE"):
            method = override.strip().upper()
        if len(request.body) > self.max_payload_size:
            raise PayloadTooLarge(
                f"The size of the request exceeds the maxPayloadSize ({self.max_payload_size})."
            )
        segments = [s for s in request.path.split("/") if s]
        refused: ScimError | None = None
        if "\x00" in request.path:  # as in 2.0 (_routing.route): U+0000 names nothing
            refused = NotFound(f"There is no resource at {request.path!r}.")
        if segments and segments[0].casefold() not in self._endpoints.by_endpoint:
            first = segments[0].casefold()
            if first == "v1":
                segments = segments[1:]
            elif first[:1] == "v" and first[1:].isdigit():
                refused = InvalidVersion(
                    f"This is the SCIM 1.1 endpoint; {segments[0]!r} is not v1."
                )
        if segments:
            last = segments[-1]
            if last.casefold().endswith(".json"):
                segments[-1] = last[: -len(".json")]
            elif last.casefold().endswith(".xml"):
                refused = NotImplementedByServer("This service provider speaks JSON only.")
        head = segments[0].casefold() if segments else ""
        if not self._is_public(request):
            # As in 2.0: authentication comes before any other answer, and before the body
            # or the store is read (the 2.0 pipeline checks the credentials again).
            self._authenticate(request)
        if refused is not None:
            raise refused
        if head in ("serviceproviderconfigs", "serviceproviderconfig") and len(segments) == 1:
            self._allow(method, ("GET",), request)
            return (yield from self._config(request))
        if head == "schemas" and len(segments) <= 2:
            self._allow(method, ("GET",), request)
            return (yield from self._schemas(request, segments[1] if len(segments) == 2 else None))
        if head == "bulk" and len(segments) == 1:
            self._allow(method, ("POST",), request)
            return (yield from self._bulk(request))
        resource_type = self._endpoints.by_endpoint.get(head)
        if resource_type is None or len(segments) > 2:
            raise NotFound(f"There is no endpoint at {request.path!r}.")
        model = self._endpoints.model(resource_type)
        if len(segments) == 1:
            self._allow(method, ("GET", "POST"), request)
        else:
            self._allow(method, ("GET", "PUT", "PATCH", "DELETE"), request)
        return (yield from self._resource(request, method, model, segments))

    def _is_public(self, request: Request) -> bool:
        """A GET of ``/ServiceProviderConfigs`` (or ``/v1/…``, ``….json``) needs no credentials."""
        segments = [s.casefold() for s in request.path.split("/") if s]
        if segments[:1] == ["v1"]:
            segments = segments[1:]
        return (
            request.method == "GET"
            and bool(segments)
            and segments[0].removesuffix(".json")
            in ("serviceproviderconfigs", "serviceproviderconfig")
        )

    def _allow(self, method: str, allowed: tuple[str, ...], request: Request) -> None:
        if method not in allowed:
            raise _NotAllowed(f"{method} is not allowed on {request.path!r}.", allowed)

    def _inner(self, request: Request, method: str, path: str, query: str, body: bytes) -> Request:
        headers = {k: v for k, v in request.headers.items() if k not in ("x-http-method-override",)}
        if body:
            headers["content-type"] = "application/scim+json"
        return Request(
            method,
            path,
            query=query,
            headers=headers,
            body=body,
            base_url=request.base_url,
            principal=request.principal,
        )

    # ------------------------------------------------------------------ resources

    def _query(self, query: str, model: type[Any]) -> str:
        params = parse_query(query)
        out: dict[str, str] = {}
        text = params.get("filter")
        if text is not None:  # an empty one is refused by the 2.0 service, as in 2.0
            out["filter"] = (
                str(decode_filter(text, model, policy=self.policy)) if text.strip() else ""
            )
        if params.get("sortby"):
            out["sortBy"] = name_to_v2(params["sortby"], model)
        for name in ("sortOrder", "startIndex"):
            if name.casefold() in params:
                out[name] = params[name.casefold()]
        count = params.get("count")
        if count is not None:
            text = count.strip()
            digits = text.lstrip("+-")
            below_one = digits.isdigit() and (text.startswith("-") or not digits.strip("0"))
            if not below_one:  # SCIM 1.1: a count below 1 is ignored
                out["count"] = count
        if params.get("attributes"):
            names = [n.strip() for n in params["attributes"].split(",") if n.strip()]
            out["attributes"] = ",".join(name_to_v2(n, model) for n in names)
        return urlencode(out)

    def _resource(
        self, request: Request, method: str, model: type[Any], segments: list[str]
    ) -> Gen[Response]:
        path = "/" + "/".join(segments)
        query = self._query(request.query, model)
        body = b""
        if method in ("POST", "PUT"):
            body = dumps(resource_to_v2(json_body(request), model))
        elif method == "PATCH":
            data = json_body(request)
            current = yield Get(model, segments[1])
            patch = decode_patch(data, model, current=current, policy=self.policy)
            if patch.operations:
                body = dumps(v2.encode(patch))
            else:
                method = "GET"
        inner = self._inner(request, method, path, query, body)
        response = yield from self.v2._respond(inner)
        return self._translate(request, response, model, deleted=method == "DELETE")

    def _translate(
        self, request: Request, response: Response, model: type[Any], *, deleted: bool
    ) -> Response:
        headers = tuple(
            (k, self._relocate(request, v) if k.lower() == "location" else v)
            for k, v in response.headers
            if k.lower() not in _DROPPED_HEADERS
        )
        if response.status >= 400:
            document = response.json() if response.body else {"status": str(response.status)}
            return Response(
                response.status,
                (("Content-Type", V1_MEDIA_TYPE), *headers),
                dumps(encode_error(document)),
            )
        if deleted and response.status == 204:
            return Response(200, headers)
        if not response.body:
            return Response(response.status, headers)
        document = response.json()
        if isinstance(document, dict) and "Resources" in document:
            document = self._list_v1(document, model)
            for item in document["Resources"]:
                self._relocate_meta(request, item)
        elif isinstance(document, dict):
            document = resource_to_v1(document, model)
            self._relocate_meta(request, document)
        return Response(
            response.status, (("Content-Type", V1_MEDIA_TYPE), *headers), dumps(document)
        )

    def _relocate_meta(self, request: Request, document: Any) -> None:
        meta = document.get("meta") if isinstance(document, dict) else None
        if isinstance(meta, dict) and isinstance(meta.get("location"), str):
            meta["location"] = self._relocate(request, meta["location"])

    @staticmethod
    def _list_v1(document: dict[str, Any], model: type[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"schemas": [CORE_SCHEMA]}
        for name in ("totalResults", "itemsPerPage", "startIndex"):
            if name in document:
                out[name] = document[name]
        out["Resources"] = [resource_to_v1(r, model) for r in document["Resources"]]
        return out

    def _bulk(self, request: Request) -> Gen[Response]:
        data = bulk_request_to_v2(json_body(request), self.models, policy=self.policy)
        inner = self._inner(request, "POST", "/Bulk", "", dumps(data))
        response = yield from self.v2._respond(inner)
        if response.status != 200:
            return self._translate(request, response, self.models[0], deleted=False)
        document = bulk_response_to_v1(response.json())
        for operation in document["Operations"]:
            if isinstance(operation.get("location"), str):
                operation["location"] = self._relocate(request, operation["location"])
        return Response(200, (("Content-Type", V1_MEDIA_TYPE),), dumps(document))

    # ------------------------------------------------------------------ discovery

    def _config(self, request: Request) -> Gen[Response]:
        inner = self._inner(request, "GET", "/ServiceProviderConfig", "", b"")
        response = yield from self.v2._respond(inner)
        if response.status != 200:
            return self._translate(request, response, self.models[0], deleted=False)
        document = encode_service_provider_config(self.service_provider_config())
        document["meta"] = {"location": f"{self._base(request)}/ServiceProviderConfigs"}
        return Response(200, (("Content-Type", V1_MEDIA_TYPE),), dumps(document))

    def _schema_documents(self, request: Request) -> list[dict[str, Any]]:
        schemas: dict[str, Schema] = {s.id: s for s in self.schemas()}
        documents = []
        for model in self.models:
            resource_type: ResourceType = model.__scim_resource_type__
            document = encode_schema(resource_type, schemas)
            document["meta"] = {
                "location": f"{self._base(request)}/Schemas{resource_type.endpoint}"
            }
            documents.append(document)
        return documents

    def _schemas(self, request: Request, name: str | None) -> Gen[Response]:
        inner = self._inner(request, "GET", "/Schemas", "", b"")
        response = yield from self.v2._respond(inner)
        if response.status != 200:
            return self._translate(request, response, self.models[0], deleted=False)
        documents = self._schema_documents(request)
        if name is None:
            listed = {
                "schemas": [CORE_SCHEMA],
                "totalResults": len(documents),
                "itemsPerPage": len(documents),
                "startIndex": 1,
                "Resources": documents,
            }
            return Response(200, (("Content-Type", V1_MEDIA_TYPE),), dumps(listed))
        wanted = name.casefold()
        for model, document in zip(self.models, documents, strict=True):
            resource_type = model.__scim_resource_type__
            names = {
                resource_type.name,
                resource_type.endpoint.strip("/"),
                resource_type.schema,
                urn_to_v1(resource_type.schema) + ":" + resource_type.name,
                str(document["id"]),
            }
            if wanted in {n.casefold() for n in names}:
                return Response(200, (("Content-Type", V1_MEDIA_TYPE),), dumps(document))
        raise NotFound(f"There is no schema {name!r}.")


class _NotAllowed(MethodNotAllowed):
    """405 with the methods the path allows (for the ``Allow`` header)."""

    def __init__(self, detail: str, allowed: tuple[str, ...]) -> None:
        super().__init__(detail)
        self.allowed = allowed
