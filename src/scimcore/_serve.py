"""``scimcore serve``: a SCIM 2.0 server on uvicorn (the ``server`` extra).

SCIM 2.0 is served under ``/scim/v2`` and SCIM 1.1 under ``/scim/v1``, from one
store: a SQLite file by default. Each tenant (``scimcore tenant add``) is served
under ``/t/{tenant}/scim/v2`` (and ``/v1``) from a store of its own, with its own
tokens and policy. Tokens come from ``--token``, ``--token-file``,
``SCIMCORE_TOKEN`` and the database (``scimcore token create``); with none at
all, the server makes one, keeps it in the database, prints it once and
requires it. Each request is logged on one line: method, path, status and time
taken.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from scimcore._guard import (
    TOO_MANY,
    FailedAuthentications,
    Limits,
    guarded_protocol,
    send_too_many,
)
from scimcore._inspect import Inspector
from scimcore._keys import (
    TENANT_NAME,
    CannotOpen,
    Keys,
    StoredTokens,
    add_store_arguments,
    make_keys,
)
from scimcore._log import JsonFormatter, LineHandler, configure_logging, printable
from scimcore._metrics import Metrics
from scimcore.policy import Policy

__all__ = [
    "JsonFormatter",
    "add_parser",
    "build_app",
    "configure_logging",
    "logged",
    "make_store",
]

log = logging.getLogger("scimcore.serve")
_ROOT_LOG = logging.getLogger("scimcore")

PREFIX = "/scim/v2"
PREFIX_V1 = "/scim/v1"
#: Where the tenants are served: ``/t/{tenant}/scim/v2`` and ``/t/{tenant}/scim/v1``.
TENANTS = "/t"
_POLICIES = {
    "interop": Policy.interop,
    "strict": Policy.strict,
    "entra": Policy.entra,
    "okta": Policy.okta,
}


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``serve`` sub-command to the ``scimcore`` parser's sub-parsers."""
    serve: argparse.ArgumentParser = commands.add_parser(
        "serve",
        help="run a SCIM 2.0 server (needs the 'server' extra: uvicorn)",
        description="Serve SCIM 2.0 under /scim/v2 and SCIM 1.1 under /scim/v1 (each tenant"
        " under /t/TENANT/scim/v2 and /t/TENANT/scim/v1), from a SQLite file by default.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    add_store_arguments(serve, memory=True)
    serve.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="an accepted bearer token (repeatable; visible in `ps`: prefer --token-file,"
        " SCIMCORE_TOKEN or `scimcore token create`); one is made, kept and printed when"
        " there is none at all",
    )
    serve.add_argument(
        "--token-file",
        action="append",
        default=[],
        metavar="FILE",
        help="a file of accepted bearer tokens, one a line (repeatable)",
    )
    serve.add_argument(
        "--base-url",
        metavar="URL",
        help="the server's public root URL (https://scim.example.com): Location and"
        " meta.location start with it; without it, only a --trusted-host is reflected",
    )
    serve.add_argument(
        "--trusted-host",
        action="append",
        default=[],
        metavar="HOST",
        help="a Host header that may be reflected into Location URLs (repeatable);"
        " by default the address served on, localhost and 127.0.0.1",
    )
    serve.add_argument(
        "--read-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="a request's head and body must arrive within this time, or it is disconnected (10)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=Limits().max_connections,
        metavar="N",
        help="open connections at most; beyond, the longest-waiting idle one is closed (500)",
    )
    serve.add_argument(
        "--query-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="a search still running after this time stops with 400 tooMany (5)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=8,
        metavar="N",
        help="threads that run searches and password hashes, off the event loop (8)",
    )
    serve.add_argument(
        "--patch-no-content",
        action="store_true",
        help="answer a PATCH with 204 and the ETag instead of 200 and the resource (Entra's "
        "advice for groups: a member add to a large group then reads no member list)",
    )
    serve.add_argument(
        "--failed-auth-per-minute",
        type=float,
        default=60.0,
        metavar="N",
        help="failed authentications a client address may make a minute, after a burst of 20;"
        " beyond, 429 with Retry-After (60)",
    )
    serve.add_argument(
        "--inspect",
        action="store_true",
        help="keep the last requests of each tenant (secrets redacted) and show them at a page"
        " on 127.0.0.1 (--local-port)",
    )
    serve.add_argument(
        "--metrics",
        action="store_true",
        help="count requests by route and status, and their latency, in the Prometheus text"
        " format at /metrics on 127.0.0.1 (--local-port)",
    )
    serve.add_argument(
        "--local-port",
        type=int,
        metavar="PORT",
        help="the port of the inspector's page and /metrics, on 127.0.0.1 only (--port + 1)",
    )
    serve.add_argument(
        "--inspect-size",
        type=int,
        default=200,
        metavar="N",
        help="requests the inspector keeps per tenant (200)",
    )
    serve.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        default="info",
        help="the least severe log lines shown: info logs every request, warning the refused"
        " ones (4xx) and errors (info)",
    )
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log lines as text, or one JSON object a line (text)",
    )
    serve.add_argument(
        "--policy",
        choices=sorted(_POLICIES),
        default="interop",
        help="identity-provider deviations to accept (interop)",
    )
    serve.set_defaults(run=run)
    return serve


def tenant_store_name(base: str, tenant: str) -> str:
    """The SQLite file, or PostgreSQL schema, of ``tenant``'s data beside ``base``'s.

    >>> tenant_store_name("data/scimcore.sqlite3", "acme")
    'data/scimcore.acme.sqlite3'
    >>> tenant_store_name("scim", "acme")
    'scim_t_acme'
    """
    if not TENANT_NAME.fullmatch(tenant):
        raise ValueError(f"not a tenant name: {tenant!r}")
    path = Path(base)
    if path.suffix:
        return str(path.with_name(f"{path.stem}.{tenant}{path.suffix}"))
    return f"{base}_t_{tenant}"


def make_store(args: argparse.Namespace, tenant: str | None = None) -> Any:
    """The store the options name (of ``tenant``): memory, PostgreSQL or a SQLite file."""
    import scimcore.stores as stores

    if getattr(args, "memory", False):
        return stores.MemoryStore()
    if args.postgres:
        postgres = getattr(stores, "PostgresStore", None)
        if postgres is None:
            raise SystemExit("scimcore: this version has no PostgreSQL store")
        schema = args.schema
        if tenant is not None:
            schema = tenant_store_name(schema or "scimcore", tenant)
        return postgres(args.postgres, schema=schema)
    path = args.db if tenant is None else tenant_store_name(args.db, tenant)
    return stores.SQLiteStore(path)


def fixed_tokens(args: argparse.Namespace, environ: Any = os.environ) -> list[str]:
    """The tokens of ``--token``, ``--token-file`` and ``SCIMCORE_TOKEN``."""
    tokens = [t for t in args.token if t]
    for name in args.token_file:
        with open(name, encoding="utf-8") as lines:
            tokens += [line.strip() for line in lines if line.strip()]
    if environ.get("SCIMCORE_TOKEN", "").strip():
        tokens.append(environ["SCIMCORE_TOKEN"].strip())
    return tokens


def _failure(fields: dict[str, str]) -> str:
    r"""`` scimType "detail"`` of a SCIM error (:func:`_failure_fields`), for the log line.

    >>> _failure(_failure_fields(
    ...     b'{"status": "400", "scimType": "invalidFilter", "detail": "Bad\\nfilter."}'))
    ' invalidFilter "Bad\\x0afilter."'
    >>> _failure(_failure_fields(
    ...     b'{"Errors": [{"description": "[uniqueness] Taken.", "code": "409"}]}'))
    ' "[uniqueness] Taken."'
    """
    line = f" {printable(fields['scimType'], 40)}" if "scimType" in fields else ""
    if "detail" in fields:
        line += f' "{printable(fields["detail"], 300)}"'
    return line


#: The log level of a request by its status class: a refusal (4xx, and 501) is a warning.
_LEVELS = {1: logging.INFO, 2: logging.INFO, 3: logging.INFO, 4: logging.WARNING, 5: logging.ERROR}


def _failure_fields(body: bytes) -> dict[str, str]:
    """``scimType`` and ``detail`` of a SCIM error body (2.0, or 1.1's ``Errors``), for the
    log line.

    >>> _failure_fields(b'{"status": "400", "scimType": "invalidFilter", "detail": "Bad."}')
    {'scimType': 'invalidFilter', 'detail': 'Bad.'}
    """
    if not body:
        return {}
    try:
        document = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    errors = document.get("Errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        document = {"detail": errors[0].get("description")}
    return {
        key: document[key][:2000]
        for key in ("scimType", "detail")
        if isinstance(document.get(key), str)
    }


def _line_handler(level: int) -> LineHandler | None:
    """serve's own :class:`LineHandler`, when a request line at ``level`` goes to it alone."""
    handlers = _ROOT_LOG.handlers
    handler = handlers[0] if len(handlers) == 1 else None
    return handler if isinstance(handler, LineHandler) and handler.takes(log, level) else None


def logged(
    app: Any,
    *,
    budget: FailedAuthentications | None = None,
    inspector: Inspector | None = None,
    metrics: Metrics | None = None,
) -> Any:
    """Wrap an ASGI app so that each HTTP request is logged on one line.

    The line holds the client, method, target, status and time; for a SCIM
    error, its ``scimType`` and ``detail`` too. Every value a client chose is
    escaped and cut (:func:`scimcore._log.printable`). The same wrapper
    answers a 401 beyond the client address's ``budget`` of failed
    authentications with ``429 Too Many Requests`` and ``Retry-After`` (RFC
    6585 §4; a request that authenticates is never refused, so a reverse proxy
    that shows every client as one address keeps serving the clients that hold
    a token), hands each request to the ``inspector`` and counts it in
    ``metrics`` when given: one layer on the request path, whatever is on.
    """

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        error_body = b""
        replaced = False
        exchange = inspector.start(scope) if inspector is not None else None
        received: list[bytes] = []
        sent: list[bytes] = []

        async def spy(message: Any) -> None:
            nonlocal status, error_body, replaced
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 401 and budget is not None:
                    wait = budget.failed(str((scope.get("client") or ("-",))[0]))
                    if wait is not None:
                        replaced, status = True, 429
                        error_body = TOO_MANY
                        if exchange is not None:
                            sent.append(TOO_MANY)
                        await send_too_many(send, wait)
                        return
            elif replaced:
                return
            else:
                if exchange is not None and message.get("body"):
                    sent.append(message["body"])
                if status >= 400 and len(error_body) < 8192:
                    error_body += message.get("body", b"")[:8192]
            await send(message)

        async def reading() -> Any:
            message = await receive()
            if message.get("body"):
                received.append(message["body"])
            return message

        try:
            await app(scope, receive if exchange is None else reading, spy)
        finally:
            seconds = time.perf_counter() - start
            if exchange is not None and inspector is not None:
                inspector.finish(exchange, received, sent, status, seconds)
            if metrics is not None:
                metrics.observe(scope["path"], scope["method"], status, seconds)
            level = (
                _LEVELS.get(status // 100, logging.WARNING) if status != 501 else logging.WARNING
            )
            handler = _line_handler(level)
            if handler is not None or log.isEnabledFor(level):
                query = scope.get("query_string", b"").decode("latin-1")
                target = scope["path"] + (f"?{query}" if query else "")
                elapsed = seconds * 1000
                client = str((scope.get("client") or ("-", 0))[0])
                fields = _failure_fields(error_body)
                message = (
                    f"{printable(client, 100)} {printable(scope['method'], 100)}"
                    f" {printable(target)} {status} {elapsed:.1f}ms{_failure(fields)}"
                )
                if handler is not None and not handler.wants_fields:
                    handler.request_line(level, message, fields)  # text: the message says it all
                else:
                    line = {
                        "client": client,
                        "method": scope["method"],
                        "target": target,
                        "status": status,
                        "ms": round(elapsed, 1),
                        **fields,
                    }
                    if handler is not None:
                        handler.request_line(level, message, line)
                    else:
                        log.log(level, "%s", message, extra={"scim": line})

    return wrapper


def build_app(
    store: Any,
    tokens: Any,
    policy: Policy,
    *,
    failed_auth_per_minute: float = 60.0,
    base_url: str | None = None,
    trusted_hosts: Iterable[str] | None = None,
    query_timeout: float | None = 5.0,
    workers: int = 8,
    keys: Keys | None = None,
    tenant_store: Callable[[str], Any] | None = None,
    inspect: int = 0,
    metrics: bool = False,
    patch_no_content: bool = False,
) -> Any:
    """The logged ASGI app serving SCIM 2.0 under ``/scim/v2`` and SCIM 1.1 under ``/scim/v1``.

    ``Location`` and ``meta.location`` URLs start with ``base_url`` (the
    server's public root, e.g. ``https://scim.example.com``) when it is given;
    otherwise with the request's ``Host`` if it is one of ``trusted_hosts``
    (any host when that is ``None``), else the server's own address. A client
    address that fails authentication more than 20 times in a row, or more than
    ``failed_auth_per_minute`` times a minute after that, gets 429
    (``Retry-After``) instead of 401 until its budget refills.

    ``tokens`` is a list of tokens or a :class:`~scimcore.service.BearerTokens`.
    With ``keys`` and ``tenant_store`` (the store of a tenant, by name), each
    tenant that ``keys`` lists is served under ``/t/{tenant}/scim/v2`` and
    ``/t/{tenant}/scim/v1``, with the tokens and policy preset ``keys`` holds
    for it (its service is made on its first request).

    With ``inspect`` (a number of requests), the last ``inspect`` requests of
    each tenant are kept by an :class:`~scimcore._inspect.Inspector`, the app's
    ``inspector`` attribute, whose ``page_app()`` shows them. With ``metrics``,
    each request is counted in a :class:`~scimcore._metrics.Metrics`, the app's
    ``metrics`` attribute. The app's ``local_app`` then serves both on the local
    port (``/`` and ``/metrics``).
    """
    from scimcore.asgi import create_app
    from scimcore.service import ScimService, ScimV1Service
    from scimcore.service._tenants import Tenants, tenant_from_path

    root = base_url.rstrip("/") if base_url else None

    def services(
        store: Any, tokens: Any, policy: Policy, root: str | None, tenant: str | None = None
    ) -> tuple[ScimService, ScimV1Service]:
        v2 = ScimService(
            store,
            tokens=tokens,
            policy=policy,
            tenant=tenant,
            base_url=root and root + PREFIX,
            query_timeout=query_timeout,
            workers=workers,
            patch_no_content=patch_no_content,
        )
        return v2, ScimV1Service(v2, base_url=root and root + PREFIX_V1)

    service, v1_service = services(store, tokens, policy, root)
    v2_app = create_app(service, prefix=PREFIX, trusted_hosts=trusted_hosts)
    v1_app = create_app(v1_service, prefix=PREFIX_V1, trusted_hosts=trusted_hosts)
    tenant_apps: tuple[Any, Any] | None = None
    served: _TenantServices | None = None
    if keys is not None and tenant_store is not None:
        served = _TenantServices(keys, tenant_store, services, root)
        tenant_apps = (
            create_app(
                Tenants(tenant_from_path(served.v2, suffix=PREFIX)),
                prefix=TENANTS,
                trusted_hosts=trusted_hosts,
            ),
            create_app(
                Tenants(tenant_from_path(served.v1, suffix=PREFIX_V1)),
                prefix=TENANTS,
                trusted_hosts=trusted_hosts,
            ),
        )

    async def app(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if path.startswith(TENANTS + "/") and tenant_apps is not None:
            versioned = "/" + path[len(TENANTS) + 1 :].partition("/")[2]
            v1 = versioned == PREFIX_V1 or versioned.startswith(PREFIX_V1 + "/")
            await tenant_apps[1 if v1 else 0](scope, receive, send)
        elif path == PREFIX_V1 or path.startswith(PREFIX_V1 + "/"):
            await v1_app(scope, receive, send)
        else:
            await v2_app(scope, receive, send)

    budget = FailedAuthentications(per_minute=failed_auth_per_minute)
    if not inspect and not metrics:
        return logged(app, budget=budget)

    def tenant(name: str) -> tuple[Policy, Any] | None:
        if not name:
            return service.policy, service.store
        made = served.made.get(name) if served is not None else None
        return None if made is None else (made[0].policy, made[0].store)

    inspector = Inspector(tenant, size=inspect) if inspect else None
    counted = Metrics() if metrics else None
    wrapped: Any = logged(app, budget=budget, inspector=inspector, metrics=counted)
    wrapped.inspector, wrapped.metrics = inspector, counted
    wrapped.local_app = _local_app(inspector, counted)
    return wrapped


def _local_app(inspector: Inspector | None, metrics: Metrics | None) -> Any:
    """The app of the local port: ``/metrics``, and the inspector's page at ``/``."""
    page = inspector.page_app() if inspector is not None else None

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/metrics" and metrics is not None:
            body = metrics.text().encode()
            headers = [
                (b"content-type", b"text/plain; version=0.0.4; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif page is not None:
            await page(scope, receive, send)
        else:
            headers = [(b"content-type", b"text/plain"), (b"content-length", b"9")]
            await send({"type": "http.response.start", "status": 404, "headers": headers})
            await send({"type": "http.response.body", "body": b"not found"})

    return app


class _TenantServices:
    """The services of each tenant, made on first use; the tenants re-read at most every 2 s."""

    def __init__(
        self,
        keys: Keys,
        stores: Callable[[str], Any],
        services: Callable[..., tuple[Any, Any]],
        root: str | None,
    ) -> None:
        self.keys = keys
        self.stores = stores
        self.services = services
        self.root = root
        self.made: dict[str, tuple[Any, Any]] = {}
        self.known: dict[str, str] = {}
        self.read = -float("inf")
        self.lock = threading.Lock()

    def _tenant(self, name: str) -> tuple[Any, Any] | None:
        now = time.monotonic()
        if name not in self.known and now - self.read >= 2.0:
            self.known, self.read = self.keys.tenants(), now
        preset = self.known.get(name)
        if preset is None:
            return None
        found = self.made.get(name)
        if found is None:
            with self.lock:
                found = self.made.get(name)
                if found is None:
                    root = self.root and f"{self.root}{TENANTS}/{name}"
                    policy = _POLICIES.get(preset, Policy.interop)()
                    tokens = StoredTokens(self.keys, name)
                    found = self.made[name] = self.services(
                        self.stores(name), tokens, policy, root, name
                    )
        return found

    def v2(self, name: str) -> Any:
        found = self._tenant(name)
        return None if found is None else found[0]

    def v1(self, name: str) -> Any:
        found = self._tenant(name)
        return None if found is None else found[1]

    def close(self) -> None:
        for v2, _ in self.made.values():
            v2.store.close()


def _warm_up() -> None:
    """Build the filter parsers (about 40 ms each, once) before the first request needs them."""
    from scimcore.errors import InvalidFilter
    from scimcore.filter import parse_filter

    parse_filter('userName eq "warm-up"')
    with contextlib.suppress(InvalidFilter):
        parse_filter("userName eq")  # the error path uses Lark's contextual parser


def _own_hosts(host: str, port: int) -> list[str]:
    """The Host headers that name this server as it listens: reflected without --trusted-host."""
    return [f"{name}:{port}" for name in (host, "localhost", "127.0.0.1", "[::1]")]


def _raise_open_file_limit(connections: int) -> None:
    """Lift the soft open-file limit towards the hard one, so that ``connections`` fit."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 256  # the store, the log, the listening socket…
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def _serving_tokens(args: argparse.Namespace, keys: Keys | None) -> StoredTokens:
    """The default tenant's tokens; one is made, kept and printed once when there are none."""
    fixed = fixed_tokens(args)
    if not fixed and (keys is None or not keys.digests("")):
        if keys is None:
            token = secrets.token_urlsafe(32)
            fixed = [token]
            kept = "this one is required until the server stops"
        else:
            token = keys.create("default")
            kept = "it is kept (hashed) in the database, and shown only this once"
        print(
            f"scimcore: no token was given or stored; {kept}:\n  Authorization: Bearer {token}",
            flush=True,
        )
    return StoredTokens(keys, "", fixed=fixed)


def _open(args: argparse.Namespace) -> tuple[Any, Keys | None]:
    """The store and the keys the options name; :class:`CliError` when they cannot be opened."""
    try:
        keys = make_keys(args)  # checks that the folder exists, or PostgreSQL answers
        return make_store(args), keys
    except CannotOpen as error:
        raise CliError(str(error)) from None
    except Exception as error:
        raise CliError(f"cannot open the store: {type(error).__name__}: {error}") from None


class CliError(Exception):
    """A failure of a command, told to the user in one line (``scimcore: …``), exit status 1."""


def _bind(host: str, port: int) -> Any:
    """The listening socket, bound before anything is announced."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise CliError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def run(args: argparse.Namespace) -> int:
    """Run the server until interrupted."""
    try:
        import uvicorn
    except ImportError:
        print("scimcore: 'serve' needs uvicorn: pip install 'scimcore[server]'", file=sys.stderr)
        return 2
    sockets = []
    try:
        store, keys = _open(args)
        sockets.append(_bind(args.host, args.port))
        local_port = args.local_port or args.port + 1
        if args.inspect or args.metrics:
            sockets.append(_bind("127.0.0.1", local_port))
    except (CliError, OSError) as error:
        for sock in sockets:
            sock.close()
        print(f"scimcore: {error}", file=sys.stderr)
        return 1
    tokens = _serving_tokens(args, keys)
    configure_logging(args.log_level, args.log_format)
    where = "memory" if args.memory else ("PostgreSQL" if args.postgres else args.db)
    root = args.base_url.rstrip("/") if args.base_url else f"http://{args.host}:{args.port}"
    print(f"scimcore: SCIM 2.0 at {root}{PREFIX} (store: {where})", flush=True)
    print(f"scimcore: SCIM 1.1 at {root}{PREFIX_V1}", flush=True)
    if keys is not None:
        print(f"scimcore: each tenant at {root}{TENANTS}/TENANT{PREFIX}", flush=True)
    if args.inspect:
        print(f"scimcore: the inspector at http://127.0.0.1:{local_port}/", flush=True)
    if args.metrics:
        print(f"scimcore: metrics at http://127.0.0.1:{local_port}/metrics", flush=True)
    _warm_up()
    _raise_open_file_limit(args.max_connections)
    limits = Limits(read_timeout=args.read_timeout, max_connections=args.max_connections)
    app = build_app(
        store,
        tokens,
        _POLICIES[args.policy](),
        failed_auth_per_minute=args.failed_auth_per_minute,
        base_url=args.base_url,
        trusted_hosts=args.trusted_host or _own_hosts(args.host, args.port),
        query_timeout=args.query_timeout,
        workers=args.workers,
        patch_no_content=args.patch_no_content,
        keys=keys,
        tenant_store=lambda name: make_store(args, name),
        inspect=args.inspect_size if args.inspect else 0,
        metrics=args.metrics,
    )
    if args.inspect or args.metrics:
        app = _by_port(app, local_port, app.local_app)
    config = uvicorn.Config(
        app, http=guarded_protocol(limits), access_log=False, log_level="warning"
    )
    try:
        uvicorn.Server(config).run(sockets=sockets)
    finally:
        store.close()
        for sock in sockets:
            sock.close()
    return 0


def _by_port(app: Any, port: int, page: Any) -> Any:
    """``page`` for the connections to ``port`` (the local one), ``app`` for the others."""

    async def dispatch(scope: Any, receive: Any, send: Any) -> None:
        server = scope.get("server")
        if scope["type"] == "http" and server is not None and server[1] == port:
            await page(scope, receive, send)
        else:
            await app(scope, receive, send)

    return dispatch
