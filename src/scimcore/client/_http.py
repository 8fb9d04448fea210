"""The two front ends on httpx: :class:`Client` (blocking) and :class:`AsyncClient`.

They hold no protocol logic: each method runs the matching
:class:`~scimcore.client.ClientCore` step generator, sending its requests with
httpx and sleeping where it says.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
)
from typing import Any, Generic, TypeVar

import httpx

from scimcore._drive import drive, drive_async
from scimcore.client._bulk import bulk
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
)
from scimcore.client._paging import Pager
from scimcore.client._stdlib import StdlibEngine
from scimcore.filter import Filter
from scimcore.models import BulkOperation, BulkResponseOperation, Group, ListResponse, PatchOp, User
from scimcore.models._base import Resource
from scimcore.patch import PlanPolicy, plan_patch
from scimcore.policy import Policy

__all__ = ["AsyncClient", "AsyncResources", "Client", "Resources"]

R = TypeVar("R", bound=Resource)
T = TypeVar("T")


def _response(reply: httpx.Response) -> HttpResponse:
    return HttpResponse(
        reply.status_code,
        {k.lower(): v for k, v in reply.headers.items()},
        reply.content,
        reply.elapsed.total_seconds() if reply.is_closed else 0.0,
    )


def _failure(error: httpx.TransportError) -> TransportError:
    refused = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
    return TransportError(f"{type(error).__name__}: {error}", sent=not refused)


class _Operations:
    """The operations both front ends share, as step generators (the core's, and update)."""

    core: ClientCore

    def _update(
        self, old: R, new: R, if_match: bool, policy: PlanPolicy | None
    ) -> Generator[Step, Any, R]:
        core = self.core
        found = yield from core.discovery()
        if not found.config.patch.supported or (policy is not None and not policy.patch):
            return (yield from core.replace(new, if_match=if_match))
        patch = plan_patch(old, new, policy=policy)
        if not patch.operations:
            return new
        version = None
        if if_match:
            version = getattr(getattr(old, "meta", None), "version", None)
        result = yield from core.patch(type(new), new.id or "", patch, if_match=version)
        if result is None:
            result = yield from core.get(type(new), new.id or "")
        return result


class Client(_Operations):
    """A blocking SCIM client over httpx.

    ``base_url`` is the service root (``https://host/scim/v2``). ``token`` is sent
    as ``Authorization: Bearer``. ``timeout`` is httpx's (seconds, or an
    ``httpx.Timeout``); ``retry`` says when to try again (:class:`Retry`);
    ``on_request`` is called with a :class:`RequestLog` after every attempt.
    ``transport`` (an httpx transport, such as ``httpx.WSGITransport``) or
    ``http`` (a whole ``httpx.Client``) replace the default connection pool;
    ``sleep`` is how the client waits before a retry (``time.sleep``).
    ``engine="stdlib"`` sends with the standard library's ``http.client`` instead
    of httpx: a quarter of the CPU time per request, no HTTP/2, proxies or cookies.
    Use it as a context manager, or call :meth:`close`.

    Errors the server answers with are raised as the matching
    :class:`scimcore.ScimError` subclass (``NotFound``, ``Uniqueness``, ...),
    with ``.request`` and ``.response`` set; a connection error that is not
    retried is a :class:`TransportError`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        version: int = 2,
        timeout: float | httpx.Timeout = 30.0,
        retry: Retry | None = None,
        discover: bool = True,
        models: Iterable[type[Any]] = (User, Group),
        policy: Policy | None = None,
        headers: Mapping[str, str] | None = None,
        on_request: Callable[[RequestLog], None] | None = None,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        engine: str = "httpx",
    ) -> None:
        self.core = ClientCore(
            base_url,
            token=token,
            version=version,
            headers=headers,
            retry=retry,
            discover=discover,
            models=models,
            policy=policy,
            on_request=on_request,
        )
        self._owned = http is None
        self._sleep = sleep
        self._stdlib: StdlibEngine | None = None
        if engine == "stdlib":
            if http is not None or transport is not None:
                raise ValueError("engine='stdlib' takes neither http nor transport")
            if not isinstance(timeout, int | float):
                raise ValueError("engine='stdlib' takes a timeout in seconds")
            self._stdlib = StdlibEngine(float(timeout))
        elif engine != "httpx":
            raise ValueError("engine is 'httpx' or 'stdlib'")
        self.http: httpx.Client | None = http
        if http is None and self._stdlib is None:
            self.http = httpx.Client(timeout=timeout, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (unless an ``http`` client was given)."""
        if self._stdlib is not None:
            self._stdlib.close()
        if self._owned and self.http is not None:
            self.http.close()

    def _perform(self, step: Step) -> HttpResponse | None:
        if isinstance(step, Sleep):
            self._sleep(step.seconds)
            return None
        if self._stdlib is not None:
            return self._stdlib.send(step)
        return self._send(step)

    def _send(self, request: HttpRequest) -> HttpResponse:
        assert self.http is not None
        try:
            reply = self.http.request(
                request.method, request.url, headers=request.headers, content=request.body
            )
        except httpx.TransportError as error:
            raise _failure(error) from error
        return _response(reply)

    def _run(self, steps: Generator[Step, Any, T]) -> T:
        return drive(steps, self._perform)

    # ------------------------------------------------------------------ operations

    def discover(self) -> Discovery:
        """What the server offers (read once, on first use of any operation)."""
        return self._run(self.core.discovery())

    def model(self, name: str) -> type[Any]:
        """The model of a resource type by name (custom types: made from the server's schema)."""
        self.discover()
        return self.core.model(name)

    def create(
        self,
        resource: R,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
    ) -> R:
        """Create ``resource``; the server's copy (with ``id`` and ``meta``)."""
        return self._run(
            self.core.create(
                resource, attributes=attributes, excluded_attributes=excluded_attributes
            )
        )

    def get(
        self,
        model: type[R],
        id: str,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        cached: R | None = None,
    ) -> R:
        """One resource by id; with ``cached``, a ``304`` returns ``cached`` itself."""
        return self._run(
            self.core.get(
                model,
                id,
                attributes=attributes,
                excluded_attributes=excluded_attributes,
                cached=cached,
            )
        )

    def replace(self, resource: R, *, if_match: bool | str = False) -> R:
        """Replace (``PUT``) ``resource``; ``if_match=True`` sends its ``meta.version``."""
        return self._run(self.core.replace(resource, if_match=if_match))

    def patch(
        self,
        model: type[R],
        id: str,
        patch: PatchOp | Mapping[str, Any],
        *,
        if_match: str | None = None,
    ) -> R | None:
        """Apply a ``PatchOp``; the resource, or ``None`` when the server answers ``204``."""
        return self._run(self.core.patch(model, id, patch, if_match=if_match))

    def update(
        self, old: R, new: R, *, if_match: bool = False, policy: PlanPolicy | None = None
    ) -> R:
        """Make the server's ``old`` into ``new``: the minimal PATCH :func:`plan_patch`
        plans, or a ``PUT`` of ``new`` when the server has no PATCH.
        """
        return self._run(self._update(old, new, if_match, policy))

    def delete(self, model: type[Any], id: str, *, if_match: str | None = None) -> None:
        """Delete one resource."""
        self._run(self.core.delete(model, id, if_match=if_match))

    def search(
        self,
        model: type[R],
        filter: Filter | str | None = None,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        start_index: int | None = None,
        count: int | None = None,
        cursor: str | None = None,
        post: bool = False,
    ) -> ListResponse[R]:
        """One page of results (``GET``, or ``POST /.search`` with ``post=True``)."""
        return self._run(
            self.core.search(
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
        )

    def iter_resources(
        self,
        model: type[R],
        filter: Filter | str | None = None,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        page_size: int | None = None,
        method: str = "auto",
        post: bool = False,
        checkpoint: str | None = None,
    ) -> Resources[R]:
        """Every matching resource exactly once (cursors when offered, else index paging).

        The result is an iterator with a ``checkpoint`` to resume from; see
        :class:`~scimcore.client.Pager` for exactly how pages are read.
        """
        pager = Pager(
            self.core,
            model,
            filter=filter,
            attributes=attributes,
            excluded_attributes=excluded_attributes,
            sort_by=sort_by,
            sort_order=sort_order,
            page_size=page_size,
            method=method,
            post=post,
            checkpoint=checkpoint,
        )
        return Resources(pager, self._run)

    def bulk(
        self, operations: Iterable[BulkOperation], *, fail_on_errors: int | None = None
    ) -> list[BulkResponseOperation]:
        """Send bulk operations in batches within the server's limits; every outcome."""
        return self._run(bulk(self.core, list(operations), fail_on_errors=fail_on_errors))


class Resources(Generic[R]):
    """The iterator :meth:`Client.iter_resources` returns; ``checkpoint`` says where to resume.

    While the resources of one page are decoded and handed out, the next page is
    already being fetched, in a worker thread (so one more page than read may be
    requested); :meth:`close` stops that.
    """

    def __init__(self, pager: Pager[R], run: Callable[[Any], Any]) -> None:
        self._pager = pager
        self._run = run
        self._buffer: list[dict[str, Any]] = []
        self._position = 0
        self._before: str | None = pager.checkpoint
        self._after: str | None = pager.checkpoint
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._next: concurrent.futures.Future[Any] | None = None

    @property
    def checkpoint(self) -> str | None:
        """Resume here (``iter_resources(..., checkpoint=...)``); ``None`` once all is read."""
        if self._position < len(self._buffer):
            return self._before
        return self._after

    def _fetch(self) -> tuple[str | None, list[dict[str, Any]] | None, str | None]:
        before = self._pager.checkpoint
        page = self._run(self._pager.page())
        return before, page, self._pager.checkpoint

    def _prefetch(self) -> None:
        if self._pager.done:
            return
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, "scimcore-pages")
        self._next = self._pool.submit(self._fetch)

    def close(self) -> None:
        """Stop fetching pages ahead (called when the list is read)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __iter__(self) -> Iterator[R]:
        return self

    def __next__(self) -> R:
        while self._position >= len(self._buffer):
            if self._next is None:
                if self._pager.done:
                    self.close()
                    raise StopIteration
                fetched = self._fetch()
            else:
                future, self._next = self._next, None
                fetched = future.result()
            before, page, after = fetched
            if page is None:
                self._after = after
                self.close()
                raise StopIteration
            self._buffer, self._position = page, 0
            self._before, self._after = before, after
            self._prefetch()
        item = self._buffer[self._position]
        self._position += 1
        return self._pager.decode(item)


class AsyncClient(_Operations):
    """The asyncio twin of :class:`Client`: the same arguments, every operation awaited.

    ``transport`` is an ``httpx.AsyncBaseTransport`` (``httpx.ASGITransport``
    serves an ASGI app in-process); ``http`` an ``httpx.AsyncClient``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        version: int = 2,
        timeout: float | httpx.Timeout = 30.0,
        retry: Retry | None = None,
        discover: bool = True,
        models: Iterable[type[Any]] = (User, Group),
        policy: Policy | None = None,
        headers: Mapping[str, str] | None = None,
        on_request: Callable[[RequestLog], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.core = ClientCore(
            base_url,
            token=token,
            version=version,
            headers=headers,
            retry=retry,
            discover=discover,
            models=models,
            policy=policy,
            on_request=on_request,
        )
        self._owned = http is None
        self._sleep = sleep
        self.http = (
            http if http is not None else httpx.AsyncClient(timeout=timeout, transport=transport)
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (unless an ``http`` client was given)."""
        if self._owned:
            await self.http.aclose()

    async def _perform(self, step: Step) -> HttpResponse | None:
        if isinstance(step, Sleep):
            await self._sleep(step.seconds)
            return None
        try:
            reply = await self.http.request(
                step.method, step.url, headers=step.headers, content=step.body
            )
        except httpx.TransportError as error:
            raise _failure(error) from error
        return _response(reply)

    async def _run(self, steps: Generator[Step, Any, T]) -> T:
        return await drive_async(steps, self._perform)

    async def discover(self) -> Discovery:
        """What the server offers (read once, on first use of any operation)."""
        return await self._run(self.core.discovery())

    async def model(self, name: str) -> type[Any]:
        """The model of a resource type by name."""
        await self.discover()
        return self.core.model(name)

    async def create(
        self,
        resource: R,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
    ) -> R:
        """Create ``resource``; the server's copy."""
        return await self._run(
            self.core.create(
                resource, attributes=attributes, excluded_attributes=excluded_attributes
            )
        )

    async def get(
        self,
        model: type[R],
        id: str,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        cached: R | None = None,
    ) -> R:
        """One resource by id; with ``cached``, a ``304`` returns ``cached`` itself."""
        return await self._run(
            self.core.get(
                model,
                id,
                attributes=attributes,
                excluded_attributes=excluded_attributes,
                cached=cached,
            )
        )

    async def replace(self, resource: R, *, if_match: bool | str = False) -> R:
        """Replace (``PUT``) ``resource``."""
        return await self._run(self.core.replace(resource, if_match=if_match))

    async def patch(
        self,
        model: type[R],
        id: str,
        patch: PatchOp | Mapping[str, Any],
        *,
        if_match: str | None = None,
    ) -> R | None:
        """Apply a ``PatchOp``; the resource, or ``None`` for a ``204``."""
        return await self._run(self.core.patch(model, id, patch, if_match=if_match))

    async def update(
        self, old: R, new: R, *, if_match: bool = False, policy: PlanPolicy | None = None
    ) -> R:
        """:meth:`Client.update`, awaited."""
        return await self._run(self._update(old, new, if_match, policy))

    async def delete(self, model: type[Any], id: str, *, if_match: str | None = None) -> None:
        """Delete one resource."""
        await self._run(self.core.delete(model, id, if_match=if_match))

    async def search(
        self,
        model: type[R],
        filter: Filter | str | None = None,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        start_index: int | None = None,
        count: int | None = None,
        cursor: str | None = None,
        post: bool = False,
    ) -> ListResponse[R]:
        """One page of results."""
        return await self._run(
            self.core.search(
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
        )

    def iter_resources(
        self,
        model: type[R],
        filter: Filter | str | None = None,
        *,
        attributes: Iterable[str] | None = None,
        excluded_attributes: Iterable[str] | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        page_size: int | None = None,
        method: str = "auto",
        post: bool = False,
        checkpoint: str | None = None,
    ) -> AsyncResources[R]:
        """Every matching resource exactly once, as an async iterator (``async for``)."""
        pager = Pager(
            self.core,
            model,
            filter=filter,
            attributes=attributes,
            excluded_attributes=excluded_attributes,
            sort_by=sort_by,
            sort_order=sort_order,
            page_size=page_size,
            method=method,
            post=post,
            checkpoint=checkpoint,
        )
        return AsyncResources(pager, self._run)

    async def bulk(
        self, operations: Iterable[BulkOperation], *, fail_on_errors: int | None = None
    ) -> list[BulkResponseOperation]:
        """Send bulk operations in batches within the server's limits; every outcome."""
        return await self._run(bulk(self.core, list(operations), fail_on_errors=fail_on_errors))


class AsyncResources(Generic[R]):
    """The async iterator :meth:`AsyncClient.iter_resources` returns, with a ``checkpoint``.

    The next page is fetched (a task) while the resources of one page are handed out.
    """

    def __init__(self, pager: Pager[R], run: Callable[[Any], Any]) -> None:
        self._pager = pager
        self._run = run
        self._buffer: list[dict[str, Any]] = []
        self._position = 0
        self._before: str | None = pager.checkpoint
        self._after: str | None = pager.checkpoint
        self._next: asyncio.Task[Any] | None = None

    @property
    def checkpoint(self) -> str | None:
        """Resume here; ``None`` once all is read."""
        if self._position < len(self._buffer):
            return self._before
        return self._after

    async def _fetch(self) -> tuple[str | None, list[dict[str, Any]] | None, str | None]:
        before = self._pager.checkpoint
        page = await self._run(self._pager.page())
        return before, page, self._pager.checkpoint

    def __aiter__(self) -> AsyncIterator[R]:
        return self

    async def __anext__(self) -> R:
        while self._position >= len(self._buffer):
            if self._next is None:
                if self._pager.done:
                    raise StopAsyncIteration
                fetched = await self._fetch()
            else:
                task, self._next = self._next, None
                fetched = await task
            before, page, after = fetched
            if page is None:
                self._after = after
                raise StopAsyncIteration
            self._buffer, self._position = page, 0
            self._before, self._after = before, after
            if not self._pager.done:
                self._next = asyncio.ensure_future(self._fetch())
        item = self._buffer[self._position]
        self._position += 1
        return self._pager.decode(item)
