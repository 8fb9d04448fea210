"""The SCIM service provider: ``ScimService(store).handle(request) -> response``.

Theory of operation
-------------------

The service is sans-I/O in the h11 sense: it reads a :class:`Request` value and
returns a :class:`Response` value, and the only I/O it causes is the store's.
Even that is kept out of the protocol logic: every handler is a *generator*
that yields typed store calls (:mod:`._store_calls`: ``Get``, ``Search``,
``Replace``…) and receives their results. The one driver loop,
:mod:`scimcore._drive`, runs the same generators two ways:

- :meth:`ScimService.handle` runs each call on a sync
  :class:`~scimcore.storage.ResourceStore` (:meth:`StoreCall.run`);
- :meth:`ScimService.handle_async` awaits each call on an
  :class:`~scimcore.storage.AsyncResourceStore` (:meth:`StoreCall.run_async`),
  or, with a sync store, runs the calls that may be slow in worker threads
  (:meth:`StoreCall.short`), so that the event loop never waits on one.

A store error is thrown back into the generator at the ``yield`` that asked for
it, so a handler reads like ordinary code (``current = yield Get(model, id)``).

This module is the request pipeline: every request goes through
:meth:`ScimService._respond`: size limit, routing (:mod:`._routing`),
authentication (bearer tokens, then :meth:`Hooks.authenticate`), the 405
check, then the handler of its route kind (:attr:`ScimService._routes`). Any
:class:`~scimcore.ScimError` becomes its RFC 7644 §3.12 Error response; any
other exception is a bug, logged with its traceback and answered with a 500
whose body shows nothing of it.

The handlers are the service's parts, each in the module that names it, made
once by the constructor and sharing nothing but what it passes them:

==================== ============================================================
:mod:`._resources`   one resource: create, read, replace, patch, delete (routes and Bulk)
:mod:`._lists`       lists and searches, paging, cursors
:mod:`._groups`      ``User.groups``: computed on reads, filters on it rewritten, deletes
:mod:`._discovery`   ServiceProviderConfig, ResourceTypes, Schemas
:mod:`._bulk`        Bulk, over :mod:`._resources`
:mod:`._responses`   what a response shows of a resource: projection, ETag, preconditions
:mod:`._routing`     paths to routes, and resources to their URLs
==================== ============================================================

Nothing below this module imports it: the import graph runs one way, from this
pipeline down to the parts.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from scimcore._drive import drive, drive_async
from scimcore._log import log_unexpected
from scimcore.errors import (
    InternalServerError,
    MethodNotAllowed,
    NotImplementedByServer,
    PayloadTooLarge,
    ScimError,
    TooMany,
    Unauthorized,
    UnsupportedMediaType,
)
from scimcore.policy import Policy
from scimcore.schema import Schema, ServiceProviderConfig
from scimcore.service._bulk import run_bulk
from scimcore.service._discovery import Discovery
from scimcore.service._groups import Groups
from scimcore.service._hooks import BearerTokens, Context, Hooks
from scimcore.service._http import Request, Response, json_body, json_response
from scimcore.service._lists import Lists, SearchLimits
from scimcore.service._params import ListParams, Paging, parse_query, projection
from scimcore.service._resources import Patched, Resources
from scimcore.service._responses import LIST_RESPONSE_SCHEMA, version
from scimcore.service._routing import Endpoints, Route
from scimcore.service._store_calls import Gen, Get, StoreCall
from scimcore.storage._deadline import CLIENT_GONE

__all__ = [
    "LIST_RESPONSE_SCHEMA",
    "ScimService",
    "StoreCall",
    "UnsupportedMediaType",
]

log = logging.getLogger("scimcore.service")

#: A route handler: the context and the classified path in, a response out.
Handler = Callable[[Context, Route], Gen[Response]]


class ScimService:
    """A SCIM 2.0 service provider over a store; :meth:`handle` serves one request.

    - ``store``: a :class:`~scimcore.storage.ResourceStore` or its async twin.
    - ``resource_types``: the resource models served (default ``User`` and
      ``Group``); a service may serve ``User`` only.
    - ``policy``: the identity-provider deviations accepted
      (:meth:`Policy.interop` by default), for bodies, filters and PATCH.
    - ``tokens``: bearer tokens (or a :class:`BearerTokens`, which may keep
      them elsewhere); when given, every request but
      ``GET /ServiceProviderConfig`` must carry one of them.
    - ``hooks``: a :class:`Hooks` subclass instance (authentication,
      authorization, ``/Me``, lifecycle).
    - ``max_results``: the most resources one list response holds
      (``filter.maxResults``); ``default_page_size`` when no ``count`` is given.
    - ``max_operations`` and ``max_payload_size``: the Bulk limits (the size
      limit applies to every request body).
    - ``query_timeout`` and ``max_filter_cost``: how much work one search may
      ask of the store (:class:`~._lists.SearchLimits`): seconds before it
      stops with 400 ``tooMany``, and the per-resource filter cost
      (:func:`~scimcore.filter.filter_cost`) above which it is 400
      ``invalidFilter`` at once.
    - ``tenant``: the tenant this service serves, for hooks (``ctx.tenant``).
    - ``workers``: the threads :meth:`handle_async` runs a sync store's slow
      calls in (searches, password hashes; every call of a store without
      ``short_calls``); a search beyond them waits for one to be free.
    - ``patch_no_content``: answer a PATCH without ``attributes`` or
      ``excludedAttributes`` with 204 No Content and the ``ETag`` (RFC 7644
      §3.5.2 allows either), instead of 200 with the resource. Entra's guidance
      for group PATCH; with a store that applies member deltas
      (:class:`~scimcore.storage.SupportsMemberUpdate`), a member add to a large
      group then never reads the group.

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
        tokens: Iterable[str] | BearerTokens = (),
        hooks: Hooks | None = None,
        max_results: int = 1000,
        default_page_size: int = 100,
        max_operations: int = 1000,
        max_payload_size: int = 1_048_576,
        cursor_pagination: bool = True,
        documentation_uri: str | None = None,
        base_url: str | None = None,
        query_timeout: float | None = 5.0,
        max_filter_cost: int = 1000,
        workers: int = 8,
        tenant: str | None = None,
        patch_no_content: bool = False,
    ) -> None:
        if resource_types is None:
            from scimcore.models import Group, User

            resource_types = (User, Group)
        self.store = store
        self.tenant = tenant
        self.policy = policy if policy is not None else Policy()
        self.hooks = hooks if hooks is not None else Hooks()
        if isinstance(tokens, BearerTokens):
            self.tokens: BearerTokens | None = tokens
        else:
            tokens = tuple(tokens)
            self.tokens = BearerTokens(tokens) if tokens else None
        self.max_results = max(1, max_results)
        self.default_page_size = max(1, min(default_page_size, self.max_results))
        self.max_operations = max_operations
        self.max_payload_size = max_payload_size
        self.cursor_pagination = cursor_pagination
        self.documentation_uri = documentation_uri
        self.base_url = base_url
        self.workers = max(1, workers)
        self.patch_no_content = patch_no_content
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self.models: tuple[type[Any], ...] = tuple(resource_types)
        self._is_async = inspect.iscoroutinefunction(getattr(store, "get", None))
        # The fast read path: GET and lists serve the store's JSON, never building models.
        documents = callable(getattr(store, "get_document", None)) and callable(
            getattr(store, "search_documents", None)
        )
        self._endpoints = endpoints = Endpoints(self.models, base_url=base_url)
        self._groups = groups = Groups(
            endpoints, self.policy, native=callable(getattr(store, "memberships", None))
        )
        self.user_model = groups.user_model
        self.group_model = groups.group_model
        self._resources = Resources(
            endpoints=endpoints,
            groups=groups,
            policy=self.policy,
            hooks=self.hooks,
            documents=documents,
            # A delta reads no group: not when a hook must see it whole.
            member_deltas=callable(getattr(store, "update_members", None))
            and type(self.hooks).before_patch is Hooks.before_patch
            and type(self.hooks).after_write is Hooks.after_write,
        )
        paging = Paging(self.max_results, self.default_page_size, cursor_pagination)
        self._lists = Lists(
            endpoints=endpoints,
            groups=groups,
            policy=self.policy,
            hooks=self.hooks,
            documents=documents,
            paging=paging,
            limits=SearchLimits(query_timeout, max_filter_cost),
        )
        self._discovery = discovery = Discovery(
            endpoints=endpoints,
            hooks=self.hooks,
            bearer_tokens=self.tokens is not None,
            paging=paging,
            max_operations=max_operations,
            max_payload_size=max_payload_size,
            documentation_uri=documentation_uri,
            served_schema=getattr(store, "served_schema", None),
        )
        #: Route kind (:data:`._routing.ALLOWED`) → its handler.
        self._routes: dict[str, Handler] = {
            "root": self._route_root,
            "search": self._route_search,
            "collection": self._route_collection,
            "resource": self._route_resource,
            "me": self._route_me,
            "bulk": self._route_bulk,
            "service_provider_config": discovery.route_service_provider_config,
            "resource_types": discovery.route_resource_types,
            "resource_type": discovery.route_resource_type,
            "schemas": discovery.route_schemas,
            "schema": discovery.route_schema,
        }

    # ------------------------------------------------------------------ drivers

    def handle(self, request: Request) -> Response:
        """Serve one request with a sync store; never raises.

        >>> from scimcore.stores import MemoryStore
        >>> ScimService(MemoryStore()).handle(Request("GET", "/Users/nope")).status
        404
        """
        if self._is_async:
            raise TypeError("this service has an async store: use handle_async()")
        store = self.store
        return drive(self._respond(request), lambda call: call.run(store))

    async def handle_async(
        self,
        request: Request,
        *,
        sync_to_thread: bool | None = None,
        disconnected: Callable[[], Awaitable[object]] | None = None,
    ) -> Response:
        """Serve one request from async code; never raises.

        With an async store the store calls are awaited. With a sync store,
        ``sync_to_thread`` decides where each store call runs: ``True`` in one
        of the service's ``workers`` threads, so the event loop never blocks;
        ``False`` on the loop, which saves the thread hand-off at the price of
        blocking the loop while a call runs. The default, ``None``: when the
        store declares its calls short (``store.short_calls``, true for
        :class:`~scimcore.stores.MemoryStore` and
        :class:`~scimcore.stores.SQLiteStore`), a call on one resource by ``id``
        runs on the loop (a thread hand-off would cost more than the read) and
        the rest (searches, password hashes) in a worker; otherwise every call
        runs in a worker.

        ``disconnected``, when given, returns an awaitable that completes when
        the client goes away (the ASGI adapter waits for ``http.disconnect``):
        a slow call then running is stopped (a search's
        :class:`~scimcore.storage.Deadline` is cancelled and the store
        interrupts its statement), so that no query outlives its client.
        Cancelling the task does the same.
        """
        store = self.store
        if self._is_async:

            async def perform_async(call: StoreCall) -> Any:
                if call.short(store):
                    return await call.run_async(store)
                running = asyncio.ensure_future(call.run_async(store))
                return await self._until_gone(call, running, disconnected, stop=running.cancel)

            return await drive_async(self._respond(request), perform_async)
        if sync_to_thread is False:
            return self.handle(request)
        inline = sync_to_thread is None and getattr(store, "short_calls", False)

        async def perform(call: StoreCall) -> Any:
            if inline and call.short(store):
                return call.run(store)
            running = asyncio.get_running_loop().run_in_executor(self._workers(), call.run, store)
            return await self._until_gone(call, running, disconnected)

        return await drive_async(self._respond(request), perform)

    def _workers(self) -> concurrent.futures.ThreadPoolExecutor:
        """The threads a sync store's slow calls run in (made on first use)."""
        pool = self._pool
        if pool is None:
            with self._pool_lock:
                pool = self._pool
                if pool is None:
                    pool = self._pool = concurrent.futures.ThreadPoolExecutor(
                        self.workers, thread_name_prefix="scimcore-store"
                    )
        return pool

    @staticmethod
    async def _until_gone(
        call: StoreCall,
        running: asyncio.Future[Any],
        disconnected: Callable[[], Awaitable[object]] | None,
        stop: Callable[[], object] | None = None,
    ) -> Any:
        """Await a slow call; if the client goes away first, or the awaiting task is
        cancelled, stop it: :meth:`StoreCall.cancel` (a search's deadline: the store
        interrupts its statement in its thread), and ``stop`` (cancel an async call's
        task: psycopg then cancels the statement on the server)."""
        watcher = None if disconnected is None else asyncio.ensure_future(disconnected())
        try:
            if watcher is not None:
                await asyncio.wait((running, watcher), return_when=asyncio.FIRST_COMPLETED)
                if not running.done():  # the client went away
                    call.cancel()
                    if stop is not None:
                        stop()
                        with contextlib.suppress(asyncio.CancelledError):
                            await running
                        raise TooMany(CLIENT_GONE)
            return await running
        except asyncio.CancelledError:
            call.cancel()
            if stop is not None:
                stop()
            raise
        finally:
            if watcher is not None:
                watcher.cancel()

    # ------------------------------------------------------------------ the pipeline

    def _respond(self, request: Request) -> Gen[Response]:
        """The whole request: size limit, route, authentication, 405, handler, errors."""
        try:
            if len(request.body) > self.max_payload_size:
                raise PayloadTooLarge(
                    f"The size of the request exceeds the maxPayloadSize ({self.max_payload_size})."
                )
            try:
                found: Route | None = self._endpoints.route(request.path)
                routing_error: ScimError | None = None
            except ScimError as error:
                found, routing_error = None, error
            public = (
                found is not None
                and found.kind == "service_provider_config"
                and request.method == "GET"
            )  # as _is_public, with the route already found
            # Authentication comes before any other answer: a stranger learns nothing.
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
            handler = self._routes[found.kind]
            return (yield from handler(Context(request, principal, self), found))
        except ScimError as error:
            self._failed(request, error)
            return self._error(error, request)
        except Exception:
            log_unexpected(log, "serving %s %s", request.method, request.path)
            self._failed(request, InternalServerError())
            return self._error(InternalServerError(), request)

    def _failed(self, request: Request, error: ScimError) -> None:
        """:meth:`Hooks.on_error`, whose own failure is logged and changes nothing."""
        if type(self.hooks).on_error is Hooks.on_error:
            return
        try:
            principal = None if isinstance(error, Unauthorized) else request.principal
            self.hooks.on_error(Context(request, principal, self), error)
        except Exception:
            log_unexpected(log, "in on_error for %s %s", request.method, request.path)

    def refuse_unauthenticated(self, request: Request) -> Response | None:
        """The 401 for a request whose bearer token is missing or wrong, judged on its head alone.

        Adapters call it before they read the body, so that a client without a
        token cannot make the server receive or hold a body (the ASGI and WSGI
        adapters here do). ``None`` when the request may go on: it is public,
        its token is good, or the service has no bearer tokens (a
        :meth:`Hooks.authenticate` then decides in :meth:`handle`, with the
        whole request).

        >>> from scimcore.stores import MemoryStore
        >>> service = ScimService(MemoryStore(), tokens=["s3cret"])
        >>> service.refuse_unauthenticated(Request("POST", "/Users")).status
        401
        >>> service.refuse_unauthenticated(Request("GET", "/ServiceProviderConfig")) is None
        True
        """
        if self.tokens is None or self._is_public(request):
            return None
        try:
            self.tokens.check(request)
        except Unauthorized as error:
            return self._error(error, request)
        return None

    def _is_public(self, request: Request) -> bool:
        """Whether the request needs no credentials: a GET of the ServiceProviderConfig."""
        if request.method != "GET":
            return False
        try:
            found = self._endpoints.route(request.path)
        except ScimError:
            return False
        return found.kind == "service_provider_config"

    def _authenticate(self, request: Request) -> object:
        if self.tokens is not None:
            self.tokens.check(request)
        return self.hooks.authenticate(request)

    def _error(
        self, error: ScimError, request: Request, headers: Iterable[tuple[str, str]] = ()
    ) -> Response:
        """The RFC 7644 §3.12 Error response for ``error``."""
        return json_response(
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

    # ------------------------------------------------------------------ routes

    def _route_collection(self, ctx: Context, found: Route) -> Gen[Response]:
        model = self._endpoints.model(found.resource_type)
        if ctx.request.method == "POST":
            created = yield from self._resources.create(ctx, model, json_body(ctx.request))
            return self._resources.respond_created(ctx, created)
        params = ListParams.from_query(parse_query(ctx.request.query))
        return (yield from self._lists.list(ctx, (model,), params))

    def _route_root(self, ctx: Context, found: Route) -> Gen[Response]:
        params = ListParams.from_query(parse_query(ctx.request.query))
        return self._lists.list(ctx, self.models, params)

    def _route_search(self, ctx: Context, found: Route) -> Gen[Response]:
        params = ListParams.from_body(json_body(ctx.request))
        if found.resource_type is None:
            return self._lists.list(ctx, self.models, params)
        return self._lists.list(ctx, (self._endpoints.model(found.resource_type),), params)

    def _route_resource(self, ctx: Context, found: Route) -> Gen[Response]:
        assert found.id is not None
        model = self._endpoints.model(found.resource_type)
        return self._on_resource(ctx, model, found.id, location=False)

    def _route_me(self, ctx: Context, found: Route) -> Gen[Response]:
        target = self.hooks.me(ctx)
        if target is None or ctx.request.method == "POST":
            raise NotImplementedByServer("/Me is not supported by this service provider.")
        model, resource_id = target
        # Processed in place (RFC 7644 §3.11): Location is the resource's own URL.
        return self._on_resource(ctx, model, resource_id, location=True)

    def _on_resource(
        self, ctx: Context, model: type[Any], resource_id: str, *, location: bool
    ) -> Gen[Response]:
        request = ctx.request
        resources = self._resources
        if request.method == "GET":
            return (yield from resources.read(ctx, model, resource_id, location=location))
        if_match = request.header("if-match")
        if request.method == "DELETE":
            yield from resources.delete(ctx, model, resource_id, if_match)
            return Response(204)
        data = json_body(request)
        if request.method == "PUT":
            stored = yield from resources.replace(ctx, model, resource_id, data, if_match)
        else:
            stored = yield from resources.patch(ctx, model, resource_id, data, if_match)
            if self.patch_no_content and not any(projection(parse_query(request.query))):
                tag = version(stored)
                return Response(204, (("ETag", tag),) if tag else ())
            if isinstance(stored, Patched):  # a member delta: the group was not read
                stored = yield Get(model, resource_id)
        return (yield from resources.respond(ctx, stored, location=location))

    def _route_bulk(self, ctx: Context, found: Route) -> Gen[Response]:
        self.hooks.authorize(ctx, "bulk", None, None)
        body = json_body(ctx.request)
        document = yield from run_bulk(
            self._resources, ctx, body, max_operations=self.max_operations
        )
        return json_response(200, document)

    # ------------------------------------------------------------------ discovery

    def service_provider_config(self) -> ServiceProviderConfig:
        """What this service supports (RFC 7643 §5, RFC 9865 §2).

        >>> from scimcore.stores import MemoryStore
        >>> ScimService(MemoryStore()).service_provider_config().bulk.max_operations
        1000
        """
        return self._discovery.service_provider_config()

    def schemas(self) -> tuple[Schema, ...]:
        """Every schema the served resource types use, base schemas first.

        >>> from scimcore.stores import MemoryStore
        >>> [s.name for s in ScimService(MemoryStore()).schemas()]
        ['User', 'Group', 'EnterpriseUser']
        """
        return self._discovery.schemas()
