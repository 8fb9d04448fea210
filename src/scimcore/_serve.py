"""``scimcore serve``: a SCIM 2.0 server on uvicorn (the ``server`` extra).

SCIM 2.0 is served under ``/scim/v2`` and SCIM 1.1 under ``/scim/v1``, from one
store: a SQLite file by default. With no
``--token`` the server makes one, prints it once and requires it. Each request
is logged on one line: method, path, status and time taken.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import secrets
import sys
import time
from typing import Any

from scimcore.policy import Policy

__all__ = ["add_parser", "build_app", "logged", "make_store"]

log = logging.getLogger("scimcore.serve")

PREFIX = "/scim/v2"
PREFIX_V1 = "/scim/v1"
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
        description="Serve SCIM 2.0 under /scim/v2, from a SQLite file by default.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    where = serve.add_mutually_exclusive_group()
    where.add_argument(
        "--db", default="scimcore.sqlite3", metavar="FILE", help="SQLite file (scimcore.sqlite3)"
    )
    where.add_argument("--memory", action="store_true", help="keep everything in memory")
    where.add_argument("--postgres", metavar="DSN", help="a PostgreSQL connection string")
    serve.add_argument(
        "--token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="accepted bearer token (repeatable); one is made and printed when none is given",
    )
    serve.add_argument(
        "--policy",
        choices=sorted(_POLICIES),
        default="interop",
        help="identity-provider deviations to accept (interop)",
    )
    serve.set_defaults(run=run)
    return serve


def make_store(args: argparse.Namespace) -> Any:
    """The store the options name: memory, PostgreSQL or (by default) a SQLite file."""
    import scimcore.stores as stores

    if args.memory:
        return stores.MemoryStore()
    if args.postgres:
        postgres = getattr(stores, "PostgresStore", None)
        if postgres is None:
            raise SystemExit("scimcore: this version has no PostgreSQL store")
        return postgres(args.postgres)
    return stores.SQLiteStore(args.db)


def logged(app: Any) -> Any:
    """Wrap an ASGI app so that each HTTP request is logged on one line."""

    async def wrapper(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [0]

        async def spy(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await app(scope, receive, spy)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            target = scope["path"] + (f"?{query}" if query else "")
            elapsed = (time.perf_counter() - start) * 1000
            client = scope.get("client") or ("-", 0)
            log.info("%s %s %s %d %.1fms", client[0], scope["method"], target, status[0], elapsed)

    return wrapper


def build_app(store: Any, tokens: list[str], policy: Policy) -> Any:
    """The logged ASGI app serving SCIM 2.0 under ``/scim/v2`` and SCIM 1.1 under ``/scim/v1``."""
    from scimcore.asgi import create_app
    from scimcore.service import ScimService, ScimV1Service

    service = ScimService(store, tokens=tokens, policy=policy)
    v2_app = create_app(service, prefix=PREFIX)
    v1_app = create_app(ScimV1Service(service), prefix=PREFIX_V1)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if path == PREFIX_V1 or path.startswith(PREFIX_V1 + "/"):
            await v1_app(scope, receive, send)
        else:
            await v2_app(scope, receive, send)

    return logged(app)


def _warm_up() -> None:
    """Build the filter parsers (about 40 ms each, once) before the first request needs them."""
    from scimcore.errors import InvalidFilter
    from scimcore.filter import parse_filter

    parse_filter('userName eq "warm-up"')
    with contextlib.suppress(InvalidFilter):
        parse_filter("userName eq")  # the error path uses Lark's contextual parser


def run(args: argparse.Namespace) -> int:
    """Run the server until interrupted."""
    try:
        import uvicorn
    except ImportError:
        print("scimcore: 'serve' needs uvicorn: pip install 'scimcore[server]'", file=sys.stderr)
        return 2
    tokens = list(args.token)
    if not tokens:
        tokens = [secrets.token_urlsafe(32)]
        print(
            "scimcore: no --token given; this one is required and is shown only once:\n"
            f"  Authorization: Bearer {tokens[0]}",
            flush=True,
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    log.setLevel(logging.INFO)
    store = make_store(args)
    where = "memory" if args.memory else ("PostgreSQL" if args.postgres else args.db)
    print(
        f"scimcore: SCIM 2.0 at http://{args.host}:{args.port}{PREFIX} (store: {where})",
        flush=True,
    )
    print(f"scimcore: SCIM 1.1 at http://{args.host}:{args.port}{PREFIX_V1}", flush=True)
    _warm_up()
    try:
        uvicorn.run(
            build_app(store, tokens, _POLICIES[args.policy]()),
            host=args.host,
            port=args.port,
            access_log=False,
            log_level="warning",
        )
    finally:
        store.close()
    return 0
