"""The tokens and tenants of ``scimcore serve``, kept in its database.

A token is a random secret shown once, when it is made; the database keeps
only its SHA-256 digest (a token has 256 bits of entropy, so a fast hash is
enough: there is nothing to guess), with a name, the tenant it opens and,
once it is being rotated out, the time it stops working. A tenant is a name
and the :class:`~scimcore.Policy` preset its identity provider gets.

:class:`Keys` reads and writes the two tables (``scimcore_tokens``,
``scimcore_tenants``) in a SQLite file or a PostgreSQL database, beside the
store's own tables. :class:`StoredTokens` is the
:class:`~scimcore.service.BearerTokens` of one tenant: it checks a presented
token against the digests, re-reading them at most every ``refresh`` seconds,
so a token made, rotated or revoked by ``scimcore token`` in another process
takes effect without a restart.

>>> keys = Keys.sqlite(":memory:")
>>> token = keys.create("okta")
>>> [(t.name, t.tenant) for t in keys.tokens()]
[('okta', '')]
>>> checker = StoredTokens(keys)
>>> from scimcore.service import Request
>>> checker.check(Request("GET", "/Users", headers={"Authorization": f"Bearer {token}"}))
>>> keys.revoke("okta")
1
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from scimcore.errors import Unauthorized
from scimcore.service import BearerTokens, Request

__all__ = [
    "TENANT_NAME",
    "CannotOpen",
    "Keys",
    "StoredTokens",
    "TokenInfo",
    "add_parsers",
    "add_store_arguments",
    "digest",
    "make_keys",
    "reach_postgres",
]

#: A tenant's name: it appears in URLs, file names and PostgreSQL schema names.
TENANT_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")

_TABLES = (
    "create table if not exists scimcore_tokens ("
    " digest text primary key, name text not null, tenant text not null,"
    " created double precision not null, expires double precision)",
    "create table if not exists scimcore_tenants (name text primary key, policy text not null)",
)


def digest(token: str) -> str:
    """The SHA-256 digest a token is kept as (hex).

    >>> digest("s3cret")[:12]
    '1ec1c26b50d5'
    """
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@attrs.frozen
class TokenInfo:
    """What ``scimcore token list`` shows of a token: never the token itself."""

    name: str
    tenant: str
    created: float
    expires: float | None
    digest: str


class Keys:
    """The tokens and tenants tables, over one DB-API connection (see the module docstring)."""

    def __init__(
        self, connect: Callable[[], Any], *, placeholder: str = "?", clock: Callable[[], float]
    ) -> None:
        self._connection = connect()
        self._p = placeholder
        self._lock = threading.Lock()
        self.clock = clock
        for statement in _TABLES:
            self._run(statement)

    @classmethod
    def sqlite(cls, path: str, *, clock: Callable[[], float] = time.time) -> Keys:
        """The keys in a SQLite file (the one ``serve --db`` serves)."""

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            connection.execute("pragma busy_timeout = 5000")
            return connection

        return cls(connect, clock=clock)

    @classmethod
    def postgres(
        cls, dsn: str, *, schema: str | None = None, clock: Callable[[], float] = time.time
    ) -> Keys:
        """The keys in a PostgreSQL database (in ``schema``, created if missing)."""
        import psycopg

        def connect() -> Any:
            connection = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
            if schema is not None:
                name = psycopg.sql.Identifier(schema)
                connection.execute(psycopg.sql.SQL("create schema if not exists {}").format(name))
                connection.execute(psycopg.sql.SQL("set search_path to {}").format(name))
            return connection

        return cls(connect, placeholder="%s", clock=clock)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()

    def _run(self, statement: str, parameters: Sequence[object] = ()) -> list[Any]:
        """The rows ``statement`` returns; for a write, ``[rows changed]``."""
        with self._lock:
            cursor = self._connection.execute(statement.replace("?", self._p), parameters)
            if cursor.description is None:
                return [cursor.rowcount]
            return list(cursor.fetchall())

    # ------------------------------------------------------------------ tokens

    def create(self, name: str, tenant: str = "", *, token: str | None = None) -> str:
        """Make a token (or keep ``token``) named ``name`` for ``tenant``; return it."""
        token = token or secrets.token_urlsafe(32)
        self._run(
            "insert into scimcore_tokens (digest, name, tenant, created, expires)"
            " values (?, ?, ?, ?, null)",
            (digest(token), name, tenant, self.clock()),
        )
        return token

    def rotate(self, name: str, tenant: str = "", *, overlap: float = 3600.0) -> str:
        """A new token for ``name``; its current ones keep working ``overlap`` seconds more."""
        ends = self.clock() + max(0.0, overlap)
        self._run(
            "update scimcore_tokens set expires = ? where name = ? and tenant = ?"
            " and (expires is null or expires > ?)",
            (ends, name, tenant, ends),
        )
        return self.create(name, tenant)

    def revoke(self, name: str, tenant: str = "") -> int:
        """Delete every token named ``name`` of ``tenant``; how many there were."""
        (count,) = self._run(
            "delete from scimcore_tokens where name = ? and tenant = ?", (name, tenant)
        )
        return int(count)

    def tokens(self, tenant: str | None = None) -> list[TokenInfo]:
        """The tokens not yet expired (of ``tenant``, or of every tenant), oldest first."""
        rows = self._run(
            "select name, tenant, created, expires, digest from scimcore_tokens"
            " where expires is null or expires > ? order by created, name",
            (self.clock(),),
        )
        found = [TokenInfo(*row) for row in rows]
        return [t for t in found if tenant is None or t.tenant == tenant]

    def digests(self, tenant: str) -> dict[str, float | None]:
        """The digests of ``tenant``'s tokens and when each expires (``None``: never)."""
        rows = self._run(
            "select digest, expires from scimcore_tokens where tenant = ?"
            " and (expires is null or expires > ?)",
            (tenant, self.clock()),
        )
        return {row[0]: row[1] for row in rows}

    # ------------------------------------------------------------------ tenants

    def add_tenant(self, name: str, policy: str = "interop") -> None:
        """Add the tenant ``name`` (or change its policy preset)."""
        if not TENANT_NAME.fullmatch(name):
            raise ValueError(
                f"a tenant's name is 1 to 40 lower-case letters, digits or '_': {name!r}"
            )
        self._run("delete from scimcore_tenants where name = ?", (name,))
        self._run("insert into scimcore_tenants (name, policy) values (?, ?)", (name, policy))

    def remove_tenant(self, name: str) -> int:
        """Remove the tenant ``name`` and its tokens (its store's data stays); 1 if it existed."""
        self._run("delete from scimcore_tokens where tenant = ?", (name,))
        (count,) = self._run("delete from scimcore_tenants where name = ?", (name,))
        return int(count)

    def tenants(self) -> dict[str, str]:
        """Every tenant's name and policy preset."""
        rows = self._run("select name, policy from scimcore_tenants order by name")
        return {row[0]: row[1] for row in rows}


class StoredTokens(BearerTokens):
    """The bearer tokens of one tenant: fixed ones, and those :class:`Keys` holds.

    The digests are re-read at most every ``refresh`` seconds (on the request
    that finds them older), so a request costs one SHA-256 and one dictionary
    look-up. A token past its ``expires`` is refused at once.
    """

    def __init__(
        self,
        keys: Keys | None,
        tenant: str = "",
        *,
        fixed: Iterable[str] = (),
        refresh: float = 2.0,
    ) -> None:
        self.keys = keys
        self.tenant = tenant
        self.fixed: dict[str, float | None] = {digest(t): None for t in fixed if t}
        self.refresh = refresh
        self._digests: dict[str, float | None] = {}
        self._read = -float("inf")
        self._lock = threading.Lock()
        self._reload(time.monotonic())

    def _reload(self, now: float) -> None:
        with self._lock:
            if now - self._read < self.refresh and self._read != -float("inf"):
                return
            stored = self.keys.digests(self.tenant) if self.keys is not None else {}
            self._digests = {**stored, **self.fixed}
            self._read = now

    def check(self, request: Request) -> None:
        """Accept the request or raise :class:`~scimcore.Unauthorized`."""
        presented = self._presented(request)
        if presented is None:
            raise Unauthorized("A bearer token is required (Authorization: Bearer <token>).")
        now = time.monotonic()
        if now - self._read >= self.refresh:
            self._reload(now)
        key = hashlib.sha256(presented).hexdigest()
        if key not in self._digests:
            raise Unauthorized("The bearer token is not valid.")
        expires = self._digests[key]
        if expires is not None and expires <= self.keys_clock():
            raise Unauthorized("The bearer token is not valid.")

    def keys_clock(self) -> float:
        """The wall clock the expiry times are on (the :class:`Keys`' own)."""
        return self.keys.clock() if self.keys is not None else time.time()


# ---------------------------------------------------------------------- the command line


def add_store_arguments(parser: argparse.ArgumentParser, *, memory: bool = False) -> None:
    """``--db FILE | --postgres DSN [--schema S]`` (and ``--memory``): where the data is."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--db", default="scimcore.sqlite3", metavar="FILE", help="SQLite file (scimcore.sqlite3)"
    )
    if memory:
        where.add_argument("--memory", action="store_true", help="keep everything in memory")
    where.add_argument("--postgres", metavar="DSN", help="a PostgreSQL connection string")
    parser.add_argument(
        "--schema", metavar="NAME", help="with --postgres: the schema of the tables (the default)"
    )


class CannotOpen(Exception):
    """The database a command names cannot be opened; ``str()`` says why, in one line."""


def reach_postgres(dsn: str) -> None:
    """Connect to PostgreSQL once (5 s at most), or raise :class:`CannotOpen` saying why.

    A connection pool would retry for 30 s and log each attempt: a command checks first.
    """
    try:
        import psycopg
    except ImportError:
        raise CannotOpen("PostgreSQL needs psycopg: pip install 'scimcore[postgres]'") from None
    try:
        with psycopg.connect(dsn, connect_timeout=5):
            pass
    except (psycopg.Error, ValueError) as error:
        first = next((line for line in str(error).splitlines() if line.strip()), "")
        raise CannotOpen(f"cannot connect to PostgreSQL: {first.strip()}") from None


def make_keys(args: argparse.Namespace) -> Keys | None:
    """The tokens and tenants tables of the database the options name (``None`` in memory).

    Raises :class:`CannotOpen` when the database cannot be reached or made.
    """
    if getattr(args, "memory", False):
        return None
    if args.postgres:
        reach_postgres(args.postgres)
        return Keys.postgres(args.postgres, schema=args.schema)
    folder = os.path.dirname(args.db) or "."
    if not os.path.isdir(folder):
        raise CannotOpen(f"--db {args.db}: the folder {folder!r} does not exist")
    try:
        return Keys.sqlite(args.db)
    except sqlite3.Error as error:
        raise CannotOpen(f"--db {args.db}: {error}") from None


_POLICY_NAMES = ("interop", "strict", "entra", "okta")


def add_parsers(commands: Any) -> None:
    """Add ``token create|list|revoke|rotate`` and ``tenant add|list|remove`` to the parser."""
    token = commands.add_parser(
        "token",
        help="make, list, rotate or revoke the bearer tokens that serve accepts",
        description="Bearer tokens, kept hashed in the database that serve uses.",
    )
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    for name, text in (
        ("create", "make a token and print it (once)"),
        ("list", "list the tokens (never the tokens themselves)"),
        ("revoke", "delete every token of a name at once"),
        ("rotate", "make a new token for a name; its old ones work --overlap seconds more"),
    ):
        action = actions.add_parser(name, help=text, description=text.capitalize() + ".")
        if name != "list":
            action.add_argument("name", help="the token's name (the identity provider's, say)")
        action.add_argument("--tenant", default="", help="the tenant it opens (none: the default)")
        if name == "rotate":
            action.add_argument(
                "--overlap", type=float, default=3600.0, metavar="SECONDS", help="(3600)"
            )
        add_store_arguments(action)
        action.set_defaults(run=_token)
    tenant = commands.add_parser(
        "tenant",
        help="add, list or remove the tenants that serve serves under /t/TENANT/scim/v2",
        description="Tenants: each has its own store, tokens and policy preset.",
    )
    actions = tenant.add_subparsers(dest="tenant_command", required=True, metavar="ACTION")
    for name, text in (
        ("add", "add a tenant (or change its policy)"),
        ("list", "list the tenants"),
        ("remove", "remove a tenant and its tokens (its data stays)"),
    ):
        action = actions.add_parser(name, help=text, description=text.capitalize() + ".")
        if name != "list":
            action.add_argument("name", help="1 to 40 lower-case letters, digits or '_'")
        if name == "add":
            action.add_argument("--policy", choices=_POLICY_NAMES, default="interop")
        add_store_arguments(action)
        action.set_defaults(run=_tenant)


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _opened(args: argparse.Namespace) -> Keys | None:
    try:
        keys = make_keys(args)
    except CannotOpen as error:
        print(f"scimcore: {error}", file=sys.stderr)
        return None
    assert keys is not None
    return keys


def _token(args: argparse.Namespace) -> int:
    keys = _opened(args)
    if keys is None:
        return 1
    try:
        tenants = keys.tenants()
        if args.tenant and args.tenant not in tenants:
            print(f"scimcore: there is no tenant {args.tenant!r}", file=sys.stderr)
            return 1
        if args.token_command in ("create", "rotate"):
            if args.token_command == "create":
                made = keys.create(args.name, args.tenant)
            else:
                made = keys.rotate(args.name, args.tenant, overlap=args.overlap)
            print(f"scimcore: token {args.name!r}; it is shown only this once:", file=sys.stderr)
            print(made)
        elif args.token_command == "revoke":
            if not keys.revoke(args.name, args.tenant):
                print(f"scimcore: there is no token {args.name!r}", file=sys.stderr)
                return 1
        else:
            for info in keys.tokens(args.tenant or None):
                print(
                    f"{info.name}\t{info.tenant or '-'}\t{_when(info.created)}"
                    f"\t{_when(info.expires)}\t{info.digest[:12]}"
                )
    finally:
        keys.close()
    return 0


def _tenant(args: argparse.Namespace) -> int:
    keys = _opened(args)
    if keys is None:
        return 1
    try:
        if args.tenant_command == "add":
            try:
                keys.add_tenant(args.name, args.policy)
            except ValueError as error:
                print(f"scimcore: {error}", file=sys.stderr)
                return 1
        elif args.tenant_command == "remove":
            if not keys.remove_tenant(args.name):
                print(f"scimcore: there is no tenant {args.name!r}", file=sys.stderr)
                return 1
        else:
            for name, policy in keys.tenants().items():
                print(f"{name}\t{policy}")
    finally:
        keys.close()
    return 0
