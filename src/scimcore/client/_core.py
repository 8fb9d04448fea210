"""The sans-I/O client: every operation is a generator of steps.

Theory of operation. An operation (``create``, ``get``, a page of a search...)
is a generator that *yields* what it needs done and *receives* the result, as
the service's store calls do (:mod:`scimcore._drive`). A step is an
:class:`HttpRequest` (the front end sends it and sends back an
:class:`HttpResponse`, or throws a :class:`TransportError` in) or a
:class:`Sleep` (the front end waits). Discovery, retries and back-off, ETags,
error decoding and paging live here once; :class:`~scimcore.client.Client`
(httpx, blocking) and :class:`~scimcore.client.AsyncClient` (httpx, asyncio)
only move bytes.

>>> core = ClientCore("https://example.com/scim/v2", token="t0k", discover=False)
>>> steps = core.get(User, "2819c223")
>>> request = next(steps)
>>> request.method, request.url, request.headers["authorization"]
('GET', 'https://example.com/scim/v2/Users/2819c223', 'Bearer t0k')
>>> body = b'{"id": "2819c223", "userName": "bjensen"}'
>>> try:
...     steps.send(HttpResponse(200, {"content-type": "application/scim+json"}, body))
... except StopIteration as done:
...     done.value.user_name
'bjensen'
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import attrs

from scimcore import codecs
from scimcore._json import compact
from scimcore.errors import (
    InvalidValue,
    NotImplementedByServer,
    ScimError,
    error_for,
)
from scimcore.filter import Filter
from scimcore.models import (
    BulkRequest,
    BulkResponse,
    Group,
    ListResponse,
    PatchOp,
    SearchRequest,
    User,
)
from scimcore.models._base import Resource
from scimcore.policy import Policy
from scimcore.schema import ResourceType, Schema, ServiceProviderConfig
from scimcore.storage import etag

__all__ = [
    "ClientCore",
    "Discovery",
    "HttpRequest",
    "HttpResponse",
    "RequestLog",
    "Retry",
    "Sleep",
    "Step",
    "TransportError",
]

R = TypeVar("R", bound=Resource)
T = TypeVar("T")

MEDIA_TYPE = "application/scim+json"
SEARCH_SUFFIX = "/.search"
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@attrs.frozen
class HttpRequest:
    """One HTTP request, as the core wants it sent: ``url`` is absolute, ``body`` is bytes."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    idempotent: bool = False


@attrs.frozen
class HttpResponse:
    """One HTTP response, as a front end received it (header names in lower case)."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    elapsed: float = 0.0


@attrs.frozen
class Sleep:
    """A step: wait ``seconds`` before the next one (back-off, ``Retry-After``)."""

    seconds: float


Step = HttpRequest | Sleep


class TransportError(Exception):
    """The request got no response: the front end's connection error or timeout.

    ``sent`` is false when the request is known not to have reached the server
    (the connection was refused): such a request is retried whatever its method.
    """

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent
        self.request: HttpRequest | None = None


@attrs.frozen
class RequestLog:
    """What the request log hook receives after each attempt."""

    request: HttpRequest
    response: HttpResponse | None
    error: Exception | None
    attempt: int


@attrs.frozen
class Retry:
    """When to try a request again.

    - A ``429`` or ``503`` answer is retried (any method: the server did not act on
      it), after its ``Retry-After`` (seconds or an HTTP date) when it gives one,
      capped at ``max_wait``; without one, after the back-off below.
    - A connection error is retried for idempotent requests only (``GET``,
      ``PUT``, ``DELETE``, a ``POST`` to ``/.search``), and for any request that
      never reached the server (connection refused).
    - The back-off before attempt ``n`` (1 for the first retry) is a random
      time in ``[0, min(max_backoff, backoff * 2 ** (n - 1))]`` ("full jitter").
    - ``attempts`` counts every try, the first included; the last failure is raised.

    >>> Retry().attempts, Retry(attempts=1).attempts
    (4, 1)
    """

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_wait: float = 120.0
    statuses: frozenset[int] = frozenset({429, 503})

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The jittered back-off before retry number ``attempt`` (1-based)."""
        return rng.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    >>> retry_after("3"), retry_after(None), retry_after("soon")
    (3.0, None, None)
    >>> retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0)
    10.0
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@attrs.define
class Discovery:
    """What discovery found: the configuration, the resource types and the schemas.

    ``models`` maps a resource type's name to its model: the given ones for the
    types whose schema they carry (``User``, ``Group``), models made with
    :func:`~scimcore.models.make_model` for the others.
    """

    config: ServiceProviderConfig
    resource_types: dict[str, ResourceType] = attrs.field(factory=dict)
    schemas: dict[str, Schema] = attrs.field(factory=dict)
    models: dict[str, type[Any]] = attrs.field(factory=dict)


# Assumed when discovery is off or the server has none: everything is tried, and
# the server's answer says what it refuses.
_EVERYTHING = ServiceProviderConfig.from_dict(
    {
        "patch": {"supported": True},
        "bulk": {"supported": True, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": 0},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "changePassword": {"supported": True},
    }
)


def _text(value: Any) -> str | None:
    return None if value is None else ",".join(value) if not isinstance(value, str) else value


class ClientCore:
    """The sans-I/O client: builds requests, reads responses, decides retries.

    ``base_url`` is the service's root (``https://host/scim/v2``); ``version`` is
    2 or 1 (SCIM 1.1: the 1.1 codec on the wire, the same models in Python).
    ``models`` are the resource classes the client knows (``User`` and
    ``Group`` by default); :meth:`model` finds one by resource type name.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        version: int = 2,
        headers: Mapping[str, str] | None = None,
        retry: Retry | None = None,
        discover: bool = True,
        models: Iterable[type[Any]] = (User, Group),
        policy: Policy | None = None,
        on_request: Callable[[RequestLog], None] | None = None,
        seed: int | None = None,
    ) -> None:
        if version not in (1, 2):
            raise ValueError("version is 1 or 2")
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.retry = retry if retry is not None else Retry()
        self.policy = policy if policy is not None else Policy.interop()
        self.on_request = on_request
        self.models: dict[str, type[Any]] = {m.__scim_resource_type__.name: m for m in models}
        self._discover = discover
        self._discovery: Discovery | None = None
        self._rng = random.Random(seed)
        base = {"accept": f"{MEDIA_TYPE}, application/json"}
        if token is not None:
            base["authorization"] = f"Bearer {token}"
        base.update({k.lower(): v for k, v in (headers or {}).items()})
        self.headers = base

    # ------------------------------------------------------------------ wire helpers

    def _url(self, path: str, params: Mapping[str, str] | None = None) -> str:
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params, quote_via=quote, safe="")
        return url

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> HttpRequest:
        sent = dict(self.headers)
        data = None
        if body is not None:
            data = compact(body).encode()
            sent["content-type"] = MEDIA_TYPE
        if headers:
            sent.update(headers)
        if idempotent is None:
            idempotent = method in _IDEMPOTENT
        return HttpRequest(method, self._url(path, params), sent, data, idempotent)

    def _encode(self, resource: Any) -> dict[str, Any]:
        if self.version == 1:
            return codecs.v1.encode(resource)
        return codecs.v2.encode(resource)

    def _decode(self, data: bytes | Mapping[str, Any], model: type[T]) -> T:
        try:
            if self.version == 1:
                return codecs.v1.decode(data, model, policy=self.policy)
            return codecs.v2.decode(data, model, policy=self.policy)
        except ScimError as error:
            error.detail = f"The server's answer is not a valid {_name(model)}: {error.detail}"
            raise

    def decode_resource(self, document: Mapping[str, Any], model: type[T]) -> T:
        """One resource's wire document (as a list holds it) as ``model``."""
        return self._decode(document, model)

    def error(self, request: HttpRequest, response: HttpResponse) -> ScimError:
        """The :class:`~scimcore.errors.ScimError` for an error response, with the request.

        The SCIM Error message gives ``scimType`` and ``detail``; a body that is
        not one (an HTML page from a proxy) gives the class for the status and
        the start of the body.
        """
        scim_type: str | None = None
        detail: str | None = None
        try:
            document = json.loads(response.body)
        except ValueError:
            document = None
        if isinstance(document, dict) and self.version == 1 and "Errors" in document:
            try:
                message = codecs.v1.decode_error(document)
                scim_type, detail = message.scim_type, message.detail
            except (ScimError, ValueError, TypeError):
                pass
        elif isinstance(document, dict):  # read leniently: the schemas may be missing
            fields = {str(k).lower(): v for k, v in document.items()}
            if isinstance(fields.get("scimtype"), str):
                scim_type = fields["scimtype"]
            if isinstance(fields.get("detail"), str):
                detail = fields["detail"]
        if detail is None:
            text = response.body[:200].decode("utf-8", "replace").strip()
            detail = f"HTTP {response.status}" + (f": {text}" if text else "")
        error = error_for(response.status, scim_type, detail)
        error.request = request
        error.response = response
        return error

    # ------------------------------------------------------------------ sending

    def send(self, request: HttpRequest) -> Generator[Step, Any, HttpResponse]:
        """Send ``request`` with the retry policy; the final response, whatever its status.

        A :class:`TransportError` that is not retried propagates with its ``request``.
        """
        attempt = 0
        while True:
            attempt += 1
            response: HttpResponse | None = None
            try:
                response = yield request
            except TransportError as error:
                error.request = request
                self._log(request, None, error, attempt)
                if attempt >= self.retry.attempts or not (request.idempotent or not error.sent):
                    raise
                yield Sleep(self.retry.delay(attempt, self._rng))
                continue
            self._log(request, response, None, attempt)
            if response.status not in self.retry.statuses or attempt >= self.retry.attempts:
                return response
            wait = retry_after(response.headers.get("retry-after"))
            if wait is None:
                wait = self.retry.delay(attempt, self._rng)
            yield Sleep(min(wait, self.retry.max_wait))

    def _log(
        self,
        request: HttpRequest,
        response: HttpResponse | None,
        error: Exception | None,
        attempt: int,
    ) -> None:
        if self.on_request is not None:
            self.on_request(RequestLog(request, response, error, attempt))

    def call(
        self, request: HttpRequest, ok: Sequence[int] = (200,)
    ) -> Generator[Step, Any, HttpResponse]:
        """:meth:`send`, raising the matching ``ScimError`` for a status not in ``ok``."""
        response = yield from self.send(request)
        if response.status not in ok:
            raise self.error(request, response)
        return response

    # ------------------------------------------------------------------ discovery

    def discovery(self) -> Generator[Step, Any, Discovery]:
        """Read (once) ``/ServiceProviderConfig``, ``/ResourceTypes`` and ``/Schemas``.

        A server without discovery (404, or discovery turned off) is assumed to
        support everything; its answers then say what it refuses.
        """
        if self._discovery is not None:
            return self._discovery
        found = Discovery(_EVERYTHING)
        if self._discover:
            found = yield from self._read_discovery()
        self._discovery = found
        return found

    def _read_discovery(self) -> Generator[Step, Any, Discovery]:
        # SCIM 1.1 names the endpoint in the plural.
        path = "/ServiceProviderConfigs" if self.version == 1 else "/ServiceProviderConfig"
        request = self._request("GET", path)
        response = yield from self.send(request)
        if response.status == 404:
            return Discovery(_EVERYTHING)
        if response.status != 200:
            raise self.error(request, response)
        document = json.loads(response.body)
        if self.version == 1:
            config = codecs.v1.decode_service_provider_config(document)
        else:
            config = ServiceProviderConfig.from_dict(document)
        found = Discovery(config)
        if self.version == 1:
            return found
        types = yield from self._list_documents("/ResourceTypes")
        schemas = yield from self._list_documents("/Schemas")
        for item in schemas:
            try:
                schema = Schema.from_dict(item)
            except (ScimError, ValueError, TypeError, KeyError):
                continue
            found.schemas[schema.id] = schema
        for item in types:
            try:
                resource_type = ResourceType.from_dict(item)
            except (ScimError, ValueError, TypeError, KeyError):
                continue
            found.resource_types[resource_type.name] = resource_type
            found.models[resource_type.name] = self._model_for(resource_type, found)
        self.models.update(found.models)
        return found

    def _list_documents(self, path: str) -> Generator[Step, Any, list[Any]]:
        response = yield from self.send(self._request("GET", path))
        if response.status != 200:
            return []
        try:
            data = json.loads(response.body)
        except ValueError:
            return []
        if isinstance(data, list):
            return data
        if isinstance(data, dict):
            for key, value in data.items():
                if key.lower() == "resources" and isinstance(value, list):
                    return value
        return []

    def _model_for(self, resource_type: ResourceType, found: Discovery) -> type[Any]:
        for model in self.models.values():
            if model.__scim_schema__.id.casefold() == resource_type.schema.casefold():
                return model
        from scimcore.models import make_model
        from scimcore.schema import SchemaRegistry

        schema = found.schemas.get(resource_type.schema)
        if schema is None:
            schema = Schema(resource_type.schema, resource_type.name)
        urns = [u for u in resource_type.extension_urns if u in found.schemas]
        registry = SchemaRegistry([schema, *(found.schemas[u] for u in urns)], [resource_type])
        usable = attrs.evolve(
            resource_type,
            schema_extensions=[e for e in resource_type.schema_extensions if e.schema in urns],
        )
        return make_model(schema, resource_type=usable, registry=registry)

    def model(self, name: str) -> type[Any]:
        """The model of the resource type called ``name`` (after discovery, the server's too).

        >>> ClientCore("https://example.com/scim/v2").model("User").__name__
        'User'
        """
        model = self.models.get(name)
        if model is None:
            raise KeyError(f"no resource type {name!r}; known: {sorted(self.models)}")
        return model

    def _require(self, feature: str, supported: bool) -> None:
        if not supported:
            raise NotImplementedByServer(
                f"The server does not support {feature} (its ServiceProviderConfig says so)."
            )

    def _endpoint(self, model: type[Any]) -> str:
        found = self._discovery
        if found is not None:
            for resource_type in found.resource_types.values():
                if resource_type.schema.casefold() == model.__scim_schema__.id.casefold():
                    return "/" + resource_type.endpoint.strip("/")
        endpoint: str = model.__scim_resource_type__.endpoint
        return "/" + endpoint.strip("/")

    def _location(self, model: type[Any], id: str) -> str:
        if not id:
            raise InvalidValue("A resource id is required.")
        return f"{self._endpoint(model)}/{quote(id, safe='')}"

    def _projection(
        self,
        model: type[Any],
        attributes: Iterable[str] | None,
        excluded_attributes: Iterable[str] | None,
    ) -> dict[str, str]:
        if self.version == 1:
            return codecs.v1.encode_query(
                model, attributes=attributes, excluded_attributes=excluded_attributes
            )
        params = {}
        if attributes is not None:
            params["attributes"] = ",".join(attributes)
        if excluded_attributes is not None:
            params["excludedAttributes"] = ",".join(excluded_attributes)
        return params

    @staticmethod
    def _if_match(resource: Any, if_match: bool | str) -> dict[str, str]:
        if if_match is False:
            return {}
        if if_match is True:
            meta = getattr(resource, "meta", None)
            version = getattr(meta, "version", None)
            if version is None:
                raise InvalidValue("if_match=True needs the resource's meta.version.")
            return {"if-match": etag(version) or ""}
        return {"if-match": etag(if_match) or ""}

    # ------------------------------------------------------------------ CRUD

    def create(
        self,
        resource: R,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
    ) -> Generator[Step, Any, R]:
        """``POST`` the resource to its endpoint; the created resource."""
        yield from self.discovery()
        model = type(resource)
        request = self._request(
            "POST",
            self._endpoint(model),
            params=self._projection(model, attributes, excluded_attributes),
            body=self._encode(resource),
        )
        response = yield from self.call(request, (201, 200))
        return self._decode(response.body, model)

    def get(
        self,
        model: type[R],
        id: str,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        cached: R | None = None,
    ) -> Generator[Step, Any, R]:
        """``GET`` one resource. With ``cached`` (an earlier copy that has a
        ``meta.version``), ``If-None-Match`` is sent and a ``304`` gives ``cached`` back.
        """
        yield from self.discovery()
        headers = {}
        version = getattr(getattr(cached, "meta", None), "version", None)
        if version is not None:
            headers["if-none-match"] = etag(version) or ""
        request = self._request(
            "GET",
            self._location(model, id),
            params=self._projection(model, attributes, excluded_attributes),
            headers=headers,
        )
        response = yield from self.call(request, (200, 304))
        if response.status == 304 and cached is not None:
            return cached
        return self._decode(response.body, model)

    def replace(
        self,
        resource: R,
        *,
        if_match: bool | str = False,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
    ) -> Generator[Step, Any, R]:
        """``PUT`` the resource (it needs its ``id``).

        ``if_match=True`` sends its ``meta.version`` as ``If-Match``; a string is sent as it is.
        """
        found = yield from self.discovery()
        model = type(resource)
        headers = self._if_match(resource, if_match)
        if headers:
            self._require("ETags", found.config.etag.supported)
        request = self._request(
            "PUT",
            self._location(model, resource.id or ""),
            params=self._projection(model, attributes, excluded_attributes),
            body=self._encode(resource),
            headers=headers,
        )
        response = yield from self.call(request)
        return self._decode(response.body, model)

    def patch(
        self,
        model: type[R],
        id: str,
        patch: PatchOp | Mapping[str, Any],
        *,
        if_match: str | None = None,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
    ) -> Generator[Step, Any, R | None]:
        """``PATCH`` one resource; the resource the server returns, or ``None`` for a ``204``."""
        found = yield from self.discovery()
        self._require("PATCH", found.config.patch.supported)
        headers = {}
        if if_match is not None:
            self._require("ETags", found.config.etag.supported)
            headers = self._if_match(None, if_match)
        if isinstance(patch, PatchOp):
            body = codecs.v2.encode(patch)
        else:
            body = dict(patch)
        if self.version == 1:
            body = codecs.v1.encode_patch(body, model)
        request = self._request(
            "PATCH",
            self._location(model, id),
            params=self._projection(model, attributes, excluded_attributes),
            body=body,
            headers=headers,
        )
        response = yield from self.call(request, (200, 204))
        if response.status == 204 or not response.body:
            return None
        return self._decode(response.body, model)

    def delete(
        self, model: type[Any], id: str, *, if_match: str | None = None
    ) -> Generator[Step, Any, None]:
        """``DELETE`` one resource."""
        found = yield from self.discovery()
        headers = {}
        if if_match is not None:
            self._require("ETags", found.config.etag.supported)
            headers = self._if_match(None, if_match)
        request = self._request("DELETE", self._location(model, id), headers=headers)
        yield from self.call(request, (204, 200))

    # ------------------------------------------------------------------ search

    def search_request(
        self,
        model: type[Any] | None,
        *,
        filter: Filter | str | None = None,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        start_index: int | None = None,
        count: int | None = None,
        cursor: str | None = None,
        post: bool = False,
    ) -> HttpRequest:
        """The request for one page of a search (``GET`` with a query, or ``POST /.search``).

        ``model=None`` searches from the root (every resource type).

        >>> core = ClientCore("https://example.com/scim/v2")
        >>> core.search_request(User, filter='userName eq "a b"', count=10).url
        'https://example.com/scim/v2/Users?filter=userName%20eq%20%22a%20b%22&count=10'
        """
        path = "" if model is None else self._endpoint(model)
        text = None if filter is None else str(filter)
        if post and self.version == 2:
            body = SearchRequest(
                attributes=list(attributes or ()),
                excluded_attributes=list(excluded_attributes or ()),
                filter=text,
                sort_by=sort_by,
                sort_order=sort_order,
                start_index=start_index,
                count=count,
                cursor=cursor,
            )
            return self._request(
                "POST", path + SEARCH_SUFFIX, body=codecs.v2.encode(body), idempotent=True
            )
        if self.version == 1:
            params = codecs.v1.encode_query(
                model or User,
                filter=filter,
                sort_by=sort_by,
                sort_order=sort_order,
                start_index=start_index,
                count=count,
                attributes=attributes,
                excluded_attributes=excluded_attributes,
            )
        else:
            params = {}
            if text is not None:
                params["filter"] = text
            if sort_by is not None:
                params["sortBy"] = sort_by
            if sort_order is not None:
                params["sortOrder"] = sort_order
            if start_index is not None:
                params["startIndex"] = str(start_index)
            if count is not None:
                params["count"] = str(count)
            if cursor is not None:
                params["cursor"] = cursor
            params.update(self._projection(model or User, attributes, excluded_attributes))
        return self._request("GET", path, params=params)

    def search(
        self,
        model: type[R],
        *,
        filter: Filter | str | None = None,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        start_index: int | None = None,
        count: int | None = None,
        cursor: str | None = None,
        post: bool = False,
        raw: bool = False,
    ) -> Generator[Step, Any, ListResponse[R]]:
        """One page of a search: a typed :class:`~scimcore.models.ListResponse`
        (with ``raw=True``, its resources are left as wire documents).

        Features the server does not offer fail here, before any request: a
        filter without ``filter.supported``, ``sort_by`` without
        ``sort.supported``. ``count`` above the server's ``filter.maxResults``
        is lowered to it.
        """
        found = yield from self.discovery()
        config = found.config
        if filter is not None:
            self._require("filtering", config.filter.supported)
        if sort_by is not None:
            self._require("sorting", config.sort.supported)
        if count is not None and config.filter.max_results > 0:
            count = min(count, config.filter.max_results)
        if cursor is not None and config.pagination is not None:
            self._require("cursor paging", config.pagination.cursor)
        request = self.search_request(
            model,
            filter=filter,
            attributes=attributes,
            excluded_attributes=excluded_attributes,
            sort_by=sort_by,
            sort_order=sort_order,
            start_index=start_index,
            count=count,
            cursor=cursor,
            post=post,
        )
        response = yield from self.call(request)
        if raw:
            return self._decode(response.body, ListResponse)
        return self._decode(response.body, ListResponse[model])  # type: ignore[valid-type]

    # ------------------------------------------------------------------ bulk

    def bulk_batch(self, request: BulkRequest) -> Generator[Step, Any, BulkResponse]:
        """Send one ``BulkRequest`` as it is; its ``BulkResponse``."""
        if self.version == 1:
            raise NotImplementedByServer("The client sends Bulk requests in SCIM 2.0 only.")
        http = self._request("POST", "/Bulk", body=codecs.v2.encode(request))
        response = yield from self.call(http)
        return self._decode(response.body, BulkResponse)


def _name(model: Any) -> str:
    return getattr(model, "__name__", None) or str(model)
