"""The SCIM service provider: ``ScimService(store).handle(request) -> response``.

Theory of operation
-------------------

The service is sans-I/O in the h11 sense: it reads a :class:`Request` value and
returns a :class:`Response` value, and the only I/O it causes is the store's.
Even that is kept out of the protocol logic: every handler is a *generator*
that yields :class:`StoreCall` values (``get``, ``search``, ``replace``…) and
receives their results. Two small drivers run the same generators:

- :meth:`ScimService.handle` calls a sync :class:`~scimcore.storage.ResourceStore`
  directly;
- :meth:`ScimService.handle_async` awaits an
  :class:`~scimcore.storage.AsyncResourceStore`, or runs :meth:`handle` in a
  worker thread when the store is sync, so the event loop never blocks.

A store error is thrown back into the generator at the ``yield`` that asked for
it, so a handler reads like ordinary code (``user = yield from self._get(...)``).

Every request goes through :meth:`ScimService._respond`: size limit, routing
(:mod:`._routing`), authentication (bearer tokens, then
:meth:`Hooks.authenticate`), the 405 check, then one handler per route kind.
Any :class:`~scimcore.ScimError` becomes its RFC 7644 §3.12 Error response; any
other exception is a bug, logged with its traceback and answered with a 500
whose body shows nothing of it.

``User.groups`` is never stored: it is computed from the groups' ``members``
on every read (one search per page of users) and a filter on it is rewritten
into an ``id`` filter before it reaches the store. Deleting a user removes it
from every group that lists it.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
import typing
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

import attrs

from scimcore._json import compact
from scimcore.codecs.v2 import Context as DecodeContext
from scimcore.codecs.v2 import decode, encode
from scimcore.codecs.v2._projection import project_document
from scimcore.errors import (
    Forbidden,
    InternalServerError,
    InvalidCount,
    InvalidSyntax,
    MethodNotAllowed,
    Mutability,
    NotFound,
    NotImplementedByServer,
    PayloadTooLarge,
    PreconditionFailed,
    ScimError,
    Unauthorized,
    UnsupportedMediaType,
)
from scimcore.filter import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath
from scimcore.policy import Policy
from scimcore.schema import (
    AuthenticationScheme,
    BulkSupport,
    FilterSupport,
    MutabilityKind,
    Pagination,
    ResourceType,
    ReturnedKind,
    Schema,
    ServiceProviderConfig,
    Supported,
)
from scimcore.service._etag import etag, tag_matches
from scimcore.service._hooks import Action, BearerTokens, Context, Hooks
from scimcore.service._http import SCIM_MEDIA_TYPE, Request, Response
from scimcore.service._params import ListParams, parse_query, projection
from scimcore.service._routing import Route, route
from scimcore.storage import Query
from scimcore.storage import update as store_update
from scimcore.storage._memberships import Memberships, membership_searches

__all__ = [
    "LIST_RESPONSE_SCHEMA",
    "ScimService",
    "StoreCall",
    "UnsupportedMediaType",
]

LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"

log = logging.getLogger("scimcore.service")

T = TypeVar("T")


@attrs.frozen(slots=True)
class StoreCall:
    """One store operation a handler asks its driver to perform.

    ``method`` is a store method name (``create``, ``get``, ``replace``,
    ``delete``, ``search``) or ``update`` (:func:`scimcore.storage.update`).
    """

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = attrs.field(factory=dict)


Gen = Generator[StoreCall, Any, T]


def _call(method: str, *args: Any, **kwargs: Any) -> Gen[Any]:
    result = yield StoreCall(method, args, kwargs)
    return result


_JSON_TYPES = frozenset({"application/scim+json", "application/json", "text/json"})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in _JSON_TYPES or media.endswith("+json")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: The characters quote() never escapes: an id made of them only (a UUID) is its own URL.
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*\Z").match


def _segment(resource_id: str) -> str:
    """An id as one URL path segment, percent-encoded where it needs to be."""
    return resource_id if _UNRESERVED(resource_id) else quote(resource_id, safe="")


def _dumps(document: Any) -> bytes:
    return compact(document).encode("utf-8")


def _json_response(status: int, document: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, (("Content-Type", SCIM_MEDIA_TYPE), *headers), _dumps(document))


def _list_document(resources: Sequence[Any], total: int | None, start: int) -> dict[str, Any]:
    document: dict[str, Any] = {"schemas": [LIST_RESPONSE_SCHEMA]}
    if total is not None:
        document["totalResults"] = total
    document["itemsPerPage"] = len(resources)
    document["startIndex"] = start
    document["Resources"] = list(resources)
    return document


def _version(resource: Any) -> str | None:
    meta = getattr(resource, "meta", None)
    return etag(getattr(meta, "version", None))


class ScimService:
    """A SCIM 2.0 service provider over a store; :meth:`handle` serves one request.

    - ``store``: a :class:`~scimcore.storage.ResourceStore` or its async twin.
    - ``resource_types``: the resource models served (default ``User`` and
      ``Group``); a service may serve ``User`` only.
    - ``policy``: the identity-provider deviations accepted
      (:meth:`Policy.interop` by default), for bodies, filters and PATCH.
    - ``tokens``: bearer tokens; when given, every request but
      ``GET /ServiceProviderConfig`` must carry one of them.
    - ``hooks``: a :class:`Hooks` subclass instance (authentication,
      authorization, ``/Me``, lifecycle).
    - ``max_results``: the most resources one list response holds
      (``filter.maxResults``); ``default_page_size`` when no ``count`` is given.
    - ``max_operations`` and ``max_payload_size``: the Bulk limits (the size
      limit applies to every request body).

    A service is immutable in use: the discovery documents are built once, on
    first request; make a new service to change a setting.

    >>> from scimcore.stores import MemoryStore
    >>> service = ScimService(MemoryStore(), tokens=["s3cret"])
    >>> response = service.handle(Request(
    ...     "POST", "/Users", headers={"Authorization": "Bearer s3cret"},
    ...     body=b'{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], '
    ...     b'"userName": "bjensen"}',
    ...     base_url="https://example.com/scim/v2"))
    >>> response.status, response.json()["userName"]
    (201, 'bjensen')
    >>> response.header("Location") == response.json()["meta"]["location"]
    True
    """

    def __init__(
        self,
        store: Any,
        *,
        resource_types: Sequence[type[Any]] | None = None,
        policy: Policy | None = None,
        tokens: Iterable[str] = (),
        hooks: Hooks | None = None,
        max_results: int = 1000,
        default_page_size: int = 100,
        max_operations: int = 1000,
        max_payload_size: int = 1_048_576,
        cursor_pagination: bool = True,
        documentation_uri: str | None = None,
        base_url: str | None = None,
    ) -> None:
        if resource_types is None:
            from scimcore.models import Group, User

            resource_types = (User, Group)
        self.store = store
        self.policy = policy if policy is not None else Policy()
        self.hooks = hooks if hooks is not None else Hooks()
        tokens = tuple(tokens)
        self.tokens = BearerTokens(tokens) if tokens else None
        self.max_results = max(1, max_results)
        self.default_page_size = max(1, min(default_page_size, self.max_results))
        self.max_operations = max_operations
        self.max_payload_size = max_payload_size
        self.cursor_pagination = cursor_pagination
        self.documentation_uri = documentation_uri
        self.base_url = base_url
        self.models: tuple[type[Any], ...] = tuple(resource_types)
        self._by_endpoint: dict[str, ResourceType] = {}
        self._model_of: dict[str, type[Any]] = {}
        for model in self.models:
            rt: ResourceType = model.__scim_resource_type__
            self._by_endpoint[rt.endpoint.strip("/").casefold()] = rt
            self._model_of[rt.name] = model
        self.user_model = self._model_named("User", "groups")
        self.group_model = self._model_named("Group", "members")
        self._membership: type[Any] | None = None
        if self.user_model is not None and self.group_model is not None:
            hints = typing.get_type_hints(self.user_model)
            (self._membership,) = typing.get_args(hints["groups"])
        self._is_async = inspect.iscoroutinefunction(getattr(store, "get", None))
        # The fast read path: GET and lists serve the store's JSON, never building models.
        self._documents = callable(getattr(store, "get_document", None)) and callable(
            getattr(store, "search_documents", None)
        )
        self._native_memberships = callable(getattr(store, "memberships", None))
        self._discovery: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ drivers

    def handle(self, request: Request) -> Response:
        """Serve one request with a sync store; never raises.

        >>> from scimcore.stores import MemoryStore
        >>> ScimService(MemoryStore()).handle(Request("GET", "/Users/nope")).status
        404
        """
        if self._is_async:
            raise TypeError("this service has an async store: use handle_async()")
        handler = self._respond(request)
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                call = handler.send(value) if error is None else handler.throw(error)
            except StopIteration as stop:
                response: Response = stop.value
                return response
            try:
                value, error = self._run(call), None
            except Exception as exc:
                value, error = None, exc

    def _run(self, call: StoreCall) -> Any:
        if call.method == "update":
            return store_update(self.store, *call.args, **call.kwargs)
        return getattr(self.store, call.method)(*call.args, **call.kwargs)

    async def handle_async(
        self, request: Request, *, sync_to_thread: bool | None = None
    ) -> Response:
        """Serve one request from async code; never raises.

        With an async store the store calls are awaited. With a sync store,
        ``sync_to_thread`` decides where the request runs: ``True`` in a worker
        thread, so the event loop never blocks; ``False`` on the loop, which
        saves the thread hand-off (on two cores it costs more than a whole
        GET) at the price of blocking the loop while the request runs. The
        default, ``None``, runs on the loop when the store declares that its
        calls are short (``store.short_calls``, true for
        :class:`~scimcore.stores.MemoryStore` and
        :class:`~scimcore.stores.SQLiteStore`), and in a thread otherwise.
        """
        if not self._is_async:
            if sync_to_thread is None:
                sync_to_thread = not getattr(self.store, "short_calls", False)
            if not sync_to_thread:
                return self.handle(request)
            return await asyncio.to_thread(self.handle, request)
        handler = self._respond(request)
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                call = handler.send(value) if error is None else handler.throw(error)
            except StopIteration as stop:
                response: Response = stop.value
                return response
            try:
                value, error = await self._run_async(call), None
            except Exception as exc:
                value, error = None, exc

    async def _run_async(self, call: StoreCall) -> Any:
        if call.method == "update" and not hasattr(self.store, "update"):
            model, resource_id, change = call.args
            expected = call.kwargs.get("expected_version")
            current = await self.store.get(model, resource_id)
            version = getattr(getattr(current, "meta", None), "version", None)
            if expected is not None and not tag_matches(expected, etag(version)):
                raise PreconditionFailed()
            return await self.store.replace(change(current), expected_version=version)
        return await getattr(self.store, call.method)(*call.args, **call.kwargs)

    # ------------------------------------------------------------------ the pipeline

    def _respond(self, request: Request) -> Gen[Response]:
        try:
            return (yield from self._dispatch(request))
        except ScimError as error:
            return self._error(error, request)
        except Exception:
            log.exception("scimcore: unexpected error serving %s %s", request.method, request.path)
            return self._error(InternalServerError(), request)

    def _dispatch(self, request: Request) -> Gen[Response]:
        if len(request.body) > self.max_payload_size:
            raise PayloadTooLarge(
                f"The size of the request exceeds the maxPayloadSize ({self.max_payload_size})."
            )
        try:
            found: Route | None = route(request.path, self._by_endpoint)
            routing_error: ScimError | None = None
        except ScimError as error:
            found, routing_error = None, error
        public = (
            found is not None
            and found.kind == "service_provider_config"
            and request.method == "GET"
        )
        principal = request.principal if public else self._authenticate(request)
        if routing_error is not None:
            raise routing_error
        assert found is not None
        if request.method not in found.allowed:
            return self._error(
                MethodNotAllowed(f"{request.method} is not allowed on {request.path!r}."),
                request,
                (("Allow", ", ".join(found.allowed)),),
            )
        ctx = Context(request, principal, self)
        handler: Callable[[Context, Route], Gen[Response]] = getattr(self, f"_route_{found.kind}")
        return (yield from handler(ctx, found))

    def _authenticate(self, request: Request) -> object:
        if self.tokens is not None:
            self.tokens.check(request)
        return self.hooks.authenticate(request)

    def _authorize(
        self, ctx: Context, action: Action, model: type[Any] | None, resource_id: str | None
    ) -> None:
        self.hooks.authorize(ctx, action, model, resource_id)

    def _error(
        self, error: ScimError, request: Request, headers: Iterable[tuple[str, str]] = ()
    ) -> Response:
        return _json_response(
            error.status, error.to_dict(), self._error_headers(error, request, headers)
        )

    def _error_headers(
        self, error: ScimError, request: Request, headers: Iterable[tuple[str, str]]
    ) -> list[tuple[str, str]]:
        """The headers of an error response: a 401 carries its ``WWW-Authenticate`` challenge."""
        extra = list(headers)
        if isinstance(error, Unauthorized):
            challenge = (
                self.tokens.challenge(request) if self.tokens is not None else 'Bearer realm="SCIM"'
            )
            extra.append(("WWW-Authenticate", challenge))
        return extra

    # ------------------------------------------------------------------ helpers

    def _model_named(self, name: str, attribute: str) -> type[Any] | None:
        model = self._model_of.get(name)
        if model is None:
            return None
        fields = {f.name for f in attrs.fields(model)}
        return model if attribute in fields else None

    def _model(self, resource_type: ResourceType | None) -> type[Any]:
        assert resource_type is not None
        return self._model_of[resource_type.name]

    def _base(self, request: Request) -> str:
        return (self.base_url or request.base_url).rstrip("/")

    def _location(self, request: Request, model: type[Any], resource_id: str | None) -> str:
        endpoint = model.__scim_resource_type__.endpoint
        return f"{self._base(request)}{endpoint}/{_segment(resource_id or '')}"

    def _body(self, request: Request) -> dict[str, Any]:
        content_type = request.header("content-type")
        if content_type is not None and content_type.strip() and not _is_json(content_type):
            raise UnsupportedMediaType(
                f"The request body must be application/scim+json, not {content_type!r}."
            )
        try:
            text = request.body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidSyntax("The request body is not UTF-8 text.") from None
        if not text.strip():
            raise InvalidSyntax("The request has no body.")
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise InvalidSyntax(f"The request body is not valid JSON: {exc}.") from None
        if not isinstance(data, dict):
            raise InvalidSyntax("The request body must be a JSON object.")
        return data

    def _document(
        self,
        request: Request,
        resource: Any,
        attributes: Sequence[str] = (),
        excluded: Sequence[str] = (),
    ) -> dict[str, Any]:
        meta = getattr(resource, "meta", None)
        if meta is not None:
            meta.location = self._location(request, type(resource), resource.id)
        if attributes or excluded:
            return encode(
                resource,
                attributes=attributes or None,
                excluded_attributes=excluded or None,
            )
        return encode(resource)

    def _resource_response(
        self,
        status: int,
        ctx: Context,
        resource: Any,
        *,
        location: bool = False,
    ) -> Response:
        attributes, excluded = projection(parse_query(ctx.request.query))
        document = self._document(ctx.request, resource, attributes, excluded)
        headers: list[tuple[str, str]] = []
        tag = _version(resource)
        if tag is not None:
            headers.append(("ETag", tag))
        if location:
            headers.append(("Location", self._location(ctx.request, type(resource), resource.id)))
        return _json_response(status, document, headers)

    def _not_modified(self, request: Request, tag: str | None) -> Response | None:
        """The 304 for a GET whose ``If-None-Match`` names the current version, else ``None``."""
        if_none_match = request.header("if-none-match")
        if if_none_match is not None and tag_matches(if_none_match, tag):
            return Response(304, (("ETag", tag),) if tag else ())
        return None

    def _check_preconditions(self, request: Request, tag: str | None) -> None:
        """``If-Match`` (and, for a write, ``If-None-Match``) against the version ``tag``."""
        if_match = request.header("if-match")
        if if_match is not None and not tag_matches(if_match, tag):
            raise PreconditionFailed(
                f"The resource has changed: its version is {tag}, not {if_match}."
            )
        if_none_match = request.header("if-none-match")
        if (
            if_none_match is not None
            and request.method not in ("GET", "HEAD")
            and tag_matches(if_none_match, tag)
        ):
            raise PreconditionFailed("The resource exists in the version If-None-Match names.")

    # ------------------------------------------------------------------ routes

    def _route_collection(self, ctx: Context, found: Route) -> Gen[Response]:
        model = self._model(found.resource_type)
        if ctx.request.method == "POST":
            created = yield from self._create(ctx, model, self._body(ctx.request))
            return self._resource_response(201, ctx, created, location=True)
        params = ListParams.from_query(parse_query(ctx.request.query))
        return (yield from self._list(ctx, (model,), params))

    def _route_root(self, ctx: Context, found: Route) -> Gen[Response]:
        params = ListParams.from_query(parse_query(ctx.request.query))
        return (yield from self._list(ctx, self.models, params))

    def _route_search(self, ctx: Context, found: Route) -> Gen[Response]:
        params = ListParams.from_body(self._body(ctx.request))
        models = self.models if found.resource_type is None else (self._model(found.resource_type),)
        return (yield from self._list(ctx, models, params))

    def _route_resource(self, ctx: Context, found: Route) -> Gen[Response]:
        model = self._model(found.resource_type)
        assert found.id is not None
        return (yield from self._on_resource(ctx, model, found.id, location=False))

    def _route_me(self, ctx: Context, found: Route) -> Gen[Response]:
        target = self.hooks.me(ctx)
        if target is None or ctx.request.method == "POST":
            raise NotImplementedByServer("/Me is not supported by this service provider.")
        model, resource_id = target
        return (yield from self._on_resource(ctx, model, resource_id, location=True))

    def _on_resource(
        self, ctx: Context, model: type[Any], resource_id: str, *, location: bool
    ) -> Gen[Response]:
        request = ctx.request
        if request.method == "GET":
            self._authorize(ctx, "read", model, resource_id)
            if self._documents:
                return (yield from self._get_document(ctx, model, resource_id, location))
            resource = yield from _call("get", model, resource_id)
            tag = _version(resource)
            not_modified = self._not_modified(request, tag)
            if not_modified is not None:
                return not_modified
            self._check_preconditions(request, tag)
            yield from self._fill_groups(ctx, [resource])
            return self._resource_response(200, ctx, resource, location=location)
        if request.method == "DELETE":
            yield from self._delete(ctx, model, resource_id, request.header("if-match"))
            return Response(204)
        data = self._body(request)
        if request.method == "PUT":
            resource = yield from self._replace(
                ctx, model, resource_id, data, request.header("if-match")
            )
        else:
            resource = yield from self._patch(
                ctx, model, resource_id, data, request.header("if-match")
            )
        return self._resource_response(200, ctx, resource, location=location)

    def _get_document(
        self, ctx: Context, model: type[Any], resource_id: str, location: bool
    ) -> Gen[Response]:
        """GET by id from the store's JSON (:class:`~scimcore.storage.SupportsDocuments`)."""
        request = ctx.request
        doc = yield from _call("get_document", model, resource_id)
        tag = etag(doc.get("meta", {}).get("version"))
        not_modified = self._not_modified(request, tag)
        if not_modified is not None:
            return not_modified
        self._check_preconditions(request, tag)
        attributes, excluded = projection(parse_query(request.query))
        yield from self._fill_group_documents(ctx, model, [doc], attributes, excluded)
        document = self._shown(request, model, doc, attributes, excluded)
        headers: list[tuple[str, str]] = [("ETag", tag)] if tag is not None else []
        if location:
            headers.append(("Location", self._location(request, model, doc.get("id"))))
        return _json_response(200, document, headers)

    def _shown(
        self,
        request: Request,
        model: type[Any],
        doc: dict[str, Any],
        attributes: Sequence[str],
        excluded: Sequence[str],
    ) -> dict[str, Any]:
        """A stored document as the response shows it: located, ``returned``, projected."""
        meta = doc.get("meta")
        if isinstance(meta, dict):
            meta["location"] = self._location(request, model, doc.get("id"))
        return project_document(model, doc, attributes or None, excluded or None)

    # ------------------------------------------------------------------ operations

    def _create(self, ctx: Context, model: type[Any], data: dict[str, Any]) -> Gen[Any]:
        self._authorize(ctx, "create", model, None)
        resource = decode(data, model, context=DecodeContext.CREATION, policy=self.policy)
        resource = self.hooks.before_create(ctx, resource)
        resource.id = None
        self._strip_computed(resource)
        created = yield from _call("create", resource)
        # A resource created just now has an id no group can list yet.
        return created

    def _get_current(
        self, ctx: Context, model: type[Any], resource_id: str, if_match: str | None
    ) -> Gen[Any]:
        current = yield from _call("get", model, resource_id)
        tag = _version(current)
        if if_match is not None and not tag_matches(if_match, tag):
            raise PreconditionFailed(f"The resource has changed: its version is {tag}.")
        if_none_match = ctx.request.header("if-none-match")
        if if_none_match is not None and tag_matches(if_none_match, tag):
            raise PreconditionFailed("The resource exists in the version If-None-Match names.")
        return current

    def _replace(
        self,
        ctx: Context,
        model: type[Any],
        resource_id: str,
        data: dict[str, Any],
        if_match: str | None,
    ) -> Gen[Any]:
        self._authorize(ctx, "replace", model, resource_id)
        new = decode(data, model, context=DecodeContext.REPLACEMENT, policy=self.policy)
        for attempt in range(3):
            current = yield from self._get_current(ctx, model, resource_id, if_match)
            candidate = self._merge_replacement(model, current, new)
            candidate = self.hooks.before_replace(ctx, current, candidate)
            candidate.id = resource_id
            self._strip_computed(candidate)
            try:
                stored = yield from _call(
                    "replace", candidate, expected_version=current.meta.version
                )
            except PreconditionFailed:
                if if_match is not None or attempt == 2:
                    raise
                continue
            yield from self._fill_groups(ctx, [stored])
            return stored
        raise AssertionError("unreachable")  # pragma: no cover

    def _merge_replacement(self, model: type[Any], current: Any, new: Any) -> Any:
        """PUT rules where the codec cannot decide alone (RFC 7644 §3.5.1).

        An immutable attribute that has a value must be given unchanged
        (``mutability`` otherwise); a ``returned: never`` attribute the client
        left out (``password``: it could not have read it) keeps its value.
        """
        candidate = attrs.evolve(new)
        schema: Schema = model.__scim_schema__
        for attribute in schema.attributes:
            name = attribute.python_name
            old_value = getattr(current, name, None)
            value = getattr(candidate, name, None)
            empty = value is None or value == []
            if attribute.mutability is MutabilityKind.IMMUTABLE and old_value not in (None, []):
                if empty:
                    setattr(candidate, name, old_value)
                elif value != old_value:
                    raise Mutability(f"'{attribute.name}' is immutable and already has a value.")
            elif attribute.returned is ReturnedKind.NEVER and empty and old_value is not None:
                setattr(candidate, name, old_value)
        return candidate

    def _patch(
        self,
        ctx: Context,
        model: type[Any],
        resource_id: str,
        data: dict[str, Any],
        if_match: str | None,
    ) -> Gen[Any]:
        from scimcore.patch import patch_result

        self._authorize(ctx, "patch", model, resource_id)
        for attempt in range(3):
            current = yield from self._get_current(ctx, model, resource_id, if_match)
            result = patch_result(current, data, policy=self.policy)
            if not result.changed:
                yield from self._fill_groups(ctx, [current])
                return current
            change = self._patch_change(ctx, resource_id, data, current, result)
            try:
                # A store that supports update runs the change on the state it holds
                # (locked): concurrent PATCHes are serialised, never lost nor refused.
                stored = yield from _call(
                    "update", model, resource_id, change, expected_version=if_match
                )
            except PreconditionFailed:
                if if_match is not None or attempt == 2:
                    raise
                continue
            yield from self._fill_groups(ctx, [stored])
            return stored
        raise AssertionError("unreachable")  # pragma: no cover

    def _patch_change(
        self, ctx: Context, resource_id: str, data: dict[str, Any], read: Any, result: Any
    ) -> Callable[[Any], Any]:
        """The PATCH as a change of the stored resource (``result`` is its outcome on ``read``)."""
        from scimcore.patch import patch_result

        def change(stored: Any) -> Any:
            outcome = result if stored == read else patch_result(stored, data, policy=self.policy)
            candidate = self.hooks.before_patch(ctx, stored, outcome.resource)
            candidate.id = resource_id
            self._strip_computed(candidate)
            return candidate

        return change

    def _delete(
        self, ctx: Context, model: type[Any], resource_id: str, if_match: str | None
    ) -> Gen[None]:
        self._authorize(ctx, "delete", model, resource_id)
        current = yield from self._get_current(ctx, model, resource_id, if_match)
        self.hooks.before_delete(ctx, current)
        yield from _call("delete", model, resource_id, expected_version=if_match)
        if model is self.user_model and self.group_model is not None:
            yield from self._leave_groups(resource_id)

    def _leave_groups(self, user_id: str) -> Gen[None]:
        """Remove a deleted user from every group that lists it."""
        assert self.group_model is not None
        member = Compare(AttrPath(None, "members", "value"), "eq", user_id)
        page = yield from _call("search", Query(models=(self.group_model,), filter=member))

        def without(group: Any) -> Any:
            kept = [m for m in group.members if m.value != user_id]
            return attrs.evolve(group, members=kept)

        for group in page.resources:
            try:
                yield from _call("update", self.group_model, group.id, without)
            except NotFound:
                continue

    # ------------------------------------------------------------------ lists

    def _list(self, ctx: Context, models: Sequence[type[Any]], params: ListParams) -> Gen[Response]:
        from scimcore.filter import parse_filter

        self._authorize(ctx, "search", models[0] if len(models) == 1 else None, None)
        node = None if params.filter is None else parse_filter(params.filter, policy=self.policy)
        if node is not None and self.user_model in models and self._membership is not None:
            node = yield from self._rewrite_groups(node)
        count = self.default_page_size if params.count is None else params.count
        cursor = params.cursor if self.cursor_pagination else None
        if cursor is not None and count > self.max_results:
            raise InvalidCount(f"count must be between 0 and maxPageSize ({self.max_results}).")
        query = Query(
            models=tuple(models),
            filter=node,
            sort_by=params.sort_by,
            sort_order=params.sort_order,
            start_index=params.start_index,
            count=min(count, self.max_results),
            cursor=cursor,
            attributes=params.attributes,
            excluded_attributes=params.excluded_attributes,
            policy=self.policy,
        )
        if self._documents:
            page = yield from _call("search_documents", query)
            docs: list[dict[str, Any]] = list(page.resources)
            owners = [self._model_of_document(doc, models) for doc in docs]
            yield from self._fill_group_documents(
                ctx,
                self.user_model,
                [d for d, m in zip(docs, owners, strict=True) if m is self.user_model],
                params.attributes,
                params.excluded_attributes,
            )
            documents = [
                self._shown(ctx.request, m, d, params.attributes, params.excluded_attributes)
                for d, m in zip(docs, owners, strict=True)
            ]
        else:
            page = yield from _call("search", query)
            resources = list(page.resources)
            yield from self._fill_groups(
                ctx, resources, (params.attributes, params.excluded_attributes)
            )
            documents = [
                self._document(ctx.request, r, params.attributes, params.excluded_attributes)
                for r in resources
            ]
        document = _list_document(documents, page.total, page.start_index)
        if cursor is not None:
            del document["startIndex"]
            if page.next_cursor is not None:
                document["nextCursor"] = page.next_cursor
            if page.previous_cursor is not None:
                document["previousCursor"] = page.previous_cursor
        return _json_response(200, document)

    # ------------------------------------------------------------------ User.groups

    def _strip_computed(self, resource: Any) -> None:
        if self._membership is not None and type(resource) is self.user_model:
            resource.groups = []

    def _fill_groups(
        self,
        ctx: Context,
        resources: Sequence[Any],
        projected: tuple[Sequence[str], Sequence[str]] | None = None,
    ) -> Gen[None]:
        """Set ``groups`` on every user among ``resources`` from the groups' ``members``.

        Skipped when the response leaves ``groups`` out (``attributes`` without
        it, or ``excludedAttributes`` with it): nobody would see the result.
        """
        if self._membership is None or self.group_model is None:
            return
        attributes, excluded = projected or projection(parse_query(ctx.request.query))
        if not _shows_groups(attributes, excluded):
            return
        users = {r.id: r for r in resources if type(r) is self.user_model and r.id}
        if not users:
            return
        base = self._base(ctx.request)
        listed = yield from self._memberships(list(users))
        for user_id, user in users.items():
            user.groups = [self._membership_of(g, d, base) for g, d in listed[user_id]]

    def _memberships(self, ids: list[str]) -> Gen[Memberships]:
        """The groups listing each user id: the store's ``memberships`` if it has one
        (:class:`~scimcore.storage.SupportsMemberships`), else searches."""
        assert self.group_model is not None
        if self._native_memberships:
            found: Memberships = yield from _call("memberships", self.group_model, ids)
            return found
        steps = membership_searches(self.group_model, ids, self.policy)
        try:
            query = next(steps)
            while True:
                page = yield from _call("search", query)
                query = steps.send(page)
        except StopIteration as stop:
            searched: Memberships = stop.value
            return searched

    def _model_of_document(self, doc: dict[str, Any], models: Sequence[type[Any]]) -> type[Any]:
        """The model of a stored document among ``models`` (by ``meta.resourceType``)."""
        if len(models) == 1:
            return models[0]
        name = doc.get("meta", {}).get("resourceType")
        return self._model_of.get(name, models[0]) if isinstance(name, str) else models[0]

    def _fill_group_documents(
        self,
        ctx: Context,
        model: type[Any] | None,
        docs: Sequence[dict[str, Any]],
        attributes: Sequence[str],
        excluded: Sequence[str],
    ) -> Gen[None]:
        """:meth:`_fill_groups` for stored documents: set each user's ``groups``."""
        if (
            self._membership is None
            or self.group_model is None
            or model is not self.user_model
            or not docs
            or not _shows_groups(attributes, excluded)
        ):
            return
        users = {d["id"]: d for d in docs if isinstance(d.get("id"), str)}
        base = self._base(ctx.request)
        listed = yield from self._memberships(list(users))
        found = {
            user_id: [self._membership_document(g, d, base) for g, d in groups]
            for user_id, groups in listed.items()
        }
        for user_id, doc in users.items():
            doc.pop("groups", None)
            if found[user_id]:
                # In schema order: groups comes before the extensions and meta.
                tail = {k: doc.pop(k) for k in list(doc) if k == "meta" or k.startswith("urn:")}
                doc["groups"] = found[user_id]
                doc.update(tail)

    def _group_url(self, group_id: str, base: str) -> str:
        assert self.group_model is not None
        endpoint = self.group_model.__scim_resource_type__.endpoint
        return f"{base}{endpoint}/{_segment(group_id)}"

    def _membership_document(self, group_id: str, display: str | None, base: str) -> dict[str, Any]:
        """``User.groups`` element for a group, as JSON (see :meth:`_membership_of`)."""
        membership: dict[str, Any] = {"value": group_id, "$ref": self._group_url(group_id, base)}
        if display is not None:
            membership["display"] = display
        membership["type"] = "direct"
        return membership

    def _membership_of(self, group_id: str, display: str | None, base: str) -> Any:
        """``User.groups`` element for a group, as a model (see :meth:`_membership_document`)."""
        assert self._membership is not None
        return self._membership(
            value=group_id, ref=self._group_url(group_id, base), display=display, type="direct"
        )

    def _rewrite_groups(self, node: Filter) -> Gen[Filter]:
        """Replace each condition on ``User.groups`` with the ``id`` filter it stands for.

        The groups are read once; each condition is evaluated on the membership
        each group would give, and becomes ``id eq …`` over the matching
        groups' members (or a filter that matches nothing).
        """
        if not _mentions_groups(node):
            return node
        assert self.group_model is not None
        page = yield from _call("search", Query(models=(self.group_model,)))
        groups = list(page.resources)
        return self._rewritten(node, groups)

    def _rewritten(self, node: Filter, groups: Sequence[Any]) -> Filter:
        from scimcore.filter import compile_filter

        assert self.user_model is not None
        if isinstance(node, And | Or):
            return type(node)(tuple(self._rewritten(n, groups) for n in node.operands))
        if isinstance(node, Not):
            return Not(self._rewritten(node.operand, groups))
        if not _is_groups(node):
            return node
        if isinstance(node, Compare) and node.op == "ne":
            return Not(self._rewritten(attrs.evolve(node, op="eq"), groups))
        if isinstance(node, Compare) and node.value is None:
            # eq null: "not pr"
            return Not(self._rewritten(Present(node.path), groups))
        predicate = compile_filter(node, self.user_model)
        ids: dict[str, None] = {}
        for group in groups:
            probe = self.user_model(
                user_name="-", groups=[self._membership_of(group.id, group.display_name, "")]
            )
            if predicate(probe):
                ids.update((m.value, None) for m in group.members if m.value)
        id_path = AttrPath(None, "id", None)
        if not ids:
            return Not(Present(id_path))
        terms: list[Filter] = [Compare(id_path, "eq", i) for i in ids]
        return terms[0] if len(terms) == 1 else Or(tuple(terms))

    # ------------------------------------------------------------------ discovery

    def service_provider_config(self) -> ServiceProviderConfig:
        """What this service supports (RFC 7643 §5, RFC 9865 §2).

        >>> from scimcore.stores import MemoryStore
        >>> ScimService(MemoryStore()).service_provider_config().bulk.max_operations
        1000
        """
        schemes: tuple[AuthenticationScheme, ...] = ()
        if self.tokens is not None:
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
            filter=FilterSupport(True, self.max_results),
            change_password=Supported(True),
            sort=Supported(True),
            etag=Supported(True),
            authentication_schemes=schemes,
            documentation_uri=self.documentation_uri,
            pagination=Pagination(
                cursor=self.cursor_pagination,
                index=True,
                default_pagination_method="index",
                default_page_size=self.default_page_size,
                max_page_size=self.max_results,
            ),
        )

    def schemas(self) -> tuple[Schema, ...]:
        """Every schema the served resource types use, base schemas first."""
        found: dict[str, Schema] = {}
        for model in self.models:
            found.setdefault(model.__scim_schema__.id, model.__scim_schema__)
        for model in self.models:
            for extension in model.__scim_extensions__.values():
                schema = extension.__scim_schema__
                found.setdefault(schema.id, schema)
        return tuple(found.values())

    def _meta(self, request: Request, kind: str, path: str) -> dict[str, str]:
        return {"resourceType": kind, "location": f"{self._base(request)}{path}"}

    def _cached(self, key: str, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """A discovery document without its ``meta``, built once (they never change)."""
        document = self._discovery.get(key)
        if document is None:
            document = self._discovery[key] = build()
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

    def _no_filter(self, ctx: Context) -> None:
        self._authorize(ctx, "discovery", None, None)
        if "filter" in parse_query(ctx.request.query):
            raise Forbidden("Discovery endpoints cannot be filtered (RFC 7644 §4).")

    def _route_service_provider_config(self, ctx: Context, found: Route) -> Gen[Response]:
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        document = self._cached("spc", lambda: self.service_provider_config().to_dict())
        meta = self._meta(ctx.request, "ServiceProviderConfig", "/ServiceProviderConfig")
        return _json_response(200, {**document, "meta": meta})

    def _route_resource_types(self, ctx: Context, found: Route) -> Gen[Response]:
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        documents = [
            self._resource_type_document(ctx.request, m.__scim_resource_type__) for m in self.models
        ]
        return _json_response(200, _list_document(documents, len(documents), 1))

    def _route_resource_type(self, ctx: Context, found: Route) -> Gen[Response]:
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        for model in self.models:
            resource_type: ResourceType = model.__scim_resource_type__
            if found.id in (resource_type.id, resource_type.name):
                return _json_response(200, self._resource_type_document(ctx.request, resource_type))
        raise NotFound(f"There is no resource type {found.id!r}.")

    def _route_schemas(self, ctx: Context, found: Route) -> Gen[Response]:
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        documents = [self._schema_document(ctx.request, s) for s in self.schemas()]
        return _json_response(200, _list_document(documents, len(documents), 1))

    def _route_schema(self, ctx: Context, found: Route) -> Gen[Response]:
        yield from ()  # a generator, like every route
        self._no_filter(ctx)
        assert found.id is not None
        for schema in self.schemas():
            if schema.id.casefold() == found.id.casefold():
                return _json_response(200, self._schema_document(ctx.request, schema))
        raise NotFound(f"There is no schema {found.id!r}.")

    # ------------------------------------------------------------------ bulk

    def _route_bulk(self, ctx: Context, found: Route) -> Gen[Response]:
        from scimcore.service._bulk import run_bulk

        self._authorize(ctx, "bulk", None, None)
        document = yield from run_bulk(self, ctx, self._body(ctx.request))
        return _json_response(200, document)


def _is_groups(node: Filter) -> bool:
    path = node.path if isinstance(node, Compare | Present | ValuePath) else None
    if path is None or path.name.casefold() != "groups":
        return False
    return path.urn is None or path.urn.casefold() == "urn:ietf:params:scim:schemas:core:2.0:user"


def _names_groups(path: str) -> bool:
    urn, colon, name = path.rpartition(":")
    if colon and urn.casefold() != "urn:ietf:params:scim:schemas:core:2.0:user":
        return False
    return name.split(".", 1)[0].casefold() == "groups"


def _shows_groups(attributes: Sequence[str], excluded: Sequence[str]) -> bool:
    """Whether a response projected this way carries ``User.groups``.

    >>> _shows_groups((), ()), _shows_groups(("userName",), ()), _shows_groups((), ("groups",))
    (True, False, False)
    >>> _shows_groups(("groups.display",), ()), _shows_groups((), ("groups.display",))
    (True, True)
    """
    if attributes:
        return any(_names_groups(a) for a in attributes)
    return not any(_names_groups(e) and "." not in e.rpartition(":")[2] for e in excluded)


def _mentions_groups(node: Filter) -> bool:
    if isinstance(node, And | Or):
        return any(_mentions_groups(n) for n in node.operands)
    if isinstance(node, Not):
        return _mentions_groups(node.operand)
    return _is_groups(node)
