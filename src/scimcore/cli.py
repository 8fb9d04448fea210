"""The ``scimcore`` command line.

``scimcore schemas`` prints the RFC 7643 core schemas (errata fixed) as JSON,
or one of them by URN or name; ``scimcore serve`` runs a SCIM 2.0 server;
``scimcore sync`` keeps two ends (servers or databases) in step;
``scimcore check URL`` checks any SCIM server against the RFCs and scimcore's
evaluator and PATCH engine (needs the ``check`` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from scimcore._version import __version__
from scimcore.schema import core_schemas

__all__ = ["main"]


def _schemas(args: argparse.Namespace) -> int:
    schemas = core_schemas().schemas
    if args.name:
        wanted = args.name.casefold()
        schemas = tuple(
            s for s in schemas if wanted in (s.id.casefold(), (s.name or "").casefold())
        )
        if not schemas:
            print(f"scimcore: no core schema is called {args.name!r}", file=sys.stderr)
            return 1
    documents = [s.to_dict() for s in schemas]
    output = documents[0] if args.name else documents
    print(json.dumps(output, indent=2, ensure_ascii=False))
    return 0


def _public(location: str) -> str:
    """A location without its password, as plans, reports and the state file name it.

    >>> _public("postgresql://app:s3cret@db.example/scim")
    'postgresql://app@db.example/scim'
    >>> _public("users.sqlite3")
    'users.sqlite3'
    """
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(location)
    if not parts.scheme or parts.password is None:
        return location
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _end(location: str, token: str | None, *, must_exist: bool, args: argparse.Namespace) -> Any:
    """The sync end a ``--from``/``--to`` value names: a SCIM server, PostgreSQL or SQLite."""
    from scimcore.sync import ClientEndpoint, StoreEndpoint

    name = _public(location)
    if location.startswith(("http://", "https://")):
        from scimcore.client import Client

        client = Client(location, token=token)
        return ClientEndpoint(client, name=name, max_rate=args.max_rate, bulk=args.bulk)
    if location.startswith(("postgresql://", "postgres://")):
        from scimcore.stores import PostgresStore

        return StoreEndpoint(PostgresStore(location), name=name)
    if "://" in location:
        raise ValueError(
            f"{name!r} is neither a SCIM server (http://, https://), a PostgreSQL DSN"
            " (postgresql://) nor a SQLite file"
        )
    if must_exist and not os.path.exists(location):
        raise ValueError(f"no SQLite file {location!r} to sync from")
    from scimcore.stores import SQLiteStore

    return StoreEndpoint(SQLiteStore(location), name=name)


def _threshold(text: str) -> Any:
    """``--max-removals``: a count (``50``) or a share (``10%``)."""
    from scimcore.sync import DeletionThreshold

    try:
        if text.endswith("%"):
            return DeletionThreshold(count=None, share=float(text[:-1]) / 100)
        return DeletionThreshold(count=int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is a count (50) or a share (10%)") from None


def _owner(text: str) -> tuple[str, str]:
    attribute, _, side = text.partition("=")
    if side not in ("source", "target") or not attribute:
        raise argparse.ArgumentTypeError(f"{text!r} is ATTRIBUTE=source or ATTRIBUTE=target")
    return attribute, side


def _sync(args: argparse.Namespace) -> int:
    from scimcore.client import TransportError
    from scimcore.errors import ScimError
    from scimcore.sync import Match, Rules, StateMismatch, Sync, ThresholdExceeded, print_progress

    ends: list[Any] = []
    try:
        rules = Rules(
            users=Match(*args.match) if args.match else Rules().users,
            owners=dict(args.owner),
            two_way=args.two_way,
            removal=args.removal,
            threshold=args.max_removals if args.max_removals else Rules().threshold,
            prune=args.prune,
        )
        source_token = args.from_token or args.token
        target_token = args.to_token or args.token
        ends.append(_end(args.source, source_token, must_exist=True, args=args))
        ends.append(_end(args.target, target_token, must_exist=False, args=args))
        with Sync(ends[0], ends[1], rules=rules, state=args.state) as sync:
            plan = sync.plan(full=True if args.full else None)
            lines = str(plan).splitlines()
            shown = lines if args.dry_run or len(lines) <= 51 else lines[:51]
            print("\n".join(shown))
            if len(shown) < len(lines):
                print(f"  … {len(lines) - len(shown)} more")
            if args.dry_run:
                print("dry run: nothing written")
                return 0
            progress = print_progress() if sys.stderr.isatty() and plan.writes > 100 else None
            report = sync.apply(plan, force=args.force, progress=progress)
    except ThresholdExceeded as error:
        print(f"scimcore sync: stopped before writing anything: {error}", file=sys.stderr)
        return 1
    except (ScimError, TransportError, StateMismatch, ValueError, OSError) as error:
        first = next((line for line in str(error).splitlines() if line.strip()), "")
        print(f"scimcore sync: {first.strip() or type(error).__name__}", file=sys.stderr)
        return 1
    finally:
        for end in ends:
            closing = getattr(getattr(end, "client", None), "close", None) or getattr(
                getattr(end, "store", None), "close", None
            )
            if closing is not None:
                closing()
    print(report.table())
    return 0 if report.ok else 1


def _add_sync(commands: Any) -> None:
    sync = commands.add_parser(
        "sync",
        help="keep two ends (SCIM servers or databases) in step",
        description="Plan, then apply, the writes that make --to match --from (and --from match"
        " --to for the attributes it owns, with --two-way). FROM and TO are each a SCIM server's"
        " base URL (https://host/scim/v2), a PostgreSQL DSN (postgresql://…) or a SQLite file."
        " Links and marks are kept in --state, so that a run stopped half-way is finished by the"
        " next. Exit status: 0 when everything planned was done, 1 otherwise.",
    )
    sync.add_argument("--from", dest="source", required=True, metavar="FROM")
    sync.add_argument("--to", dest="target", required=True, metavar="TO")
    sync.add_argument("--token", help="the bearer token of both servers")
    sync.add_argument("--from-token", help="the bearer token of the --from server")
    sync.add_argument("--to-token", help="the bearer token of the --to server")
    sync.add_argument(
        "--match",
        action="append",
        metavar="ATTRIBUTE",
        help="a User attribute to match on, tried in order (repeatable; default: externalId,"
        " then userName)",
    )
    sync.add_argument(
        "--owner",
        action="append",
        default=[],
        type=_owner,
        metavar="ATTRIBUTE=SIDE",
        help="the side (source or target) that owns an attribute (repeatable; default: source)",
    )
    sync.add_argument("--two-way", action="store_true", help="also write --from from --to")
    sync.add_argument(
        "--max-rate",
        type=float,
        metavar="N",
        help="at most N write requests a second to a server (besides its own 429s)",
    )
    sync.add_argument(
        "--bulk",
        type=int,
        default=100,
        metavar="N",
        help="creates per Bulk request to a server that offers Bulk (100; 0: one at a time)",
    )
    sync.add_argument(
        "--removal",
        choices=["deactivate", "delete", "keep"],
        default="deactivate",
        help="what a resource gone from its owner becomes on the other side (deactivate)",
    )
    sync.add_argument(
        "--max-removals",
        type=_threshold,
        metavar="N|P%",
        help="stop before writing anything when more removals are planned (default: 500)",
    )
    sync.add_argument("--force", action="store_true", help="apply over the removal threshold")
    sync.add_argument(
        "--prune", action="store_true", help="also remove --to resources --from never had"
    )
    sync.add_argument("--full", action="store_true", help="read both ends whole")
    sync.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    sync.add_argument(
        "--state",
        default="scimcore-sync.sqlite3",
        metavar="FILE",
        help="the state file: links and marks (scimcore-sync.sqlite3)",
    )
    sync.set_defaults(run=_sync)


def _check(args: argparse.Namespace) -> int:
    """``scimcore check URL``: 0 with no findings, 1 with findings, 2 when it cannot run."""
    try:
        from scimcore.check import CheckError, check
    except ImportError as error:
        print(
            f"scimcore: 'check' needs {error.name}: pip install 'scimcore[check]'",
            file=sys.stderr,
        )
        return 2
    if not args.url.startswith(("http://", "https://")):
        print(f"scimcore: check: {args.url!r} is not an http(s) URL", file=sys.stderr)
        return 2
    quiet = args.quiet

    def progress(line: str) -> None:
        if not quiet:
            print(f"  {line}", file=sys.stderr, flush=True)

    try:
        report = check(
            args.url,
            token=args.token,
            version=args.scim_version,
            profile=args.profile,
            max_examples=args.max_examples,
            time_budget=args.time,
            allow_destructive=args.allow_destructive,
            only=args.only,
            progress=progress,
        )
    except CheckError as error:
        print(f"scimcore: check: {error}", file=sys.stderr)
        return 2
    print(report.render())
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report.to_json(), out, indent=2, ensure_ascii=False, default=str)
    if args.junit:
        with open(args.junit, "w", encoding="utf-8") as out:
            out.write(report.to_junit())
    return report.exit_code


def _add_check(commands: Any) -> None:
    text = "check a SCIM server against the RFCs and scimcore's evaluator and PATCH engine"
    parser = commands.add_parser("check", help=text, description=text.capitalize() + ".")
    parser.add_argument("url", metavar="URL", help="the server's base URL (…/scim/v2)")
    parser.add_argument("--token", default=None, help="the bearer token")
    parser.add_argument(
        "--version",
        dest="scim_version",
        type=int,
        choices=(1, 2),
        default=2,
        help="the SCIM version the server speaks (default 2)",
    )
    parser.add_argument(
        "--profile",
        choices=("interop", "strict", "entra", "okta"),
        default="interop",
        help="the Policy preset the answers are compared under (default interop)",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=200,
        metavar="N",
        help="examples per fuzzed check (default 200)",
    )
    parser.add_argument(
        "--time",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop fuzzing after this many seconds",
    )
    parser.add_argument(
        "--allow-destructive",
        action="store_true",
        help="also run what a production server would not want (concurrent writes)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="CHECK",
        help="run this check only (repeatable; e.g. filter.differential)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the report as JSON")
    parser.add_argument("--junit", metavar="FILE", help="write the report as JUnit XML")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(run=_check)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scimcore", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"scimcore {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    schemas = commands.add_parser("schemas", help="print the RFC 7643 core schemas as JSON")
    schemas.add_argument("name", nargs="?", help="one schema, by URN or name (User, Group, …)")
    schemas.set_defaults(run=_schemas)
    from scimcore._serve import add_parser as add_serve

    add_serve(commands)
    from scimcore._db import add_parser as add_db

    add_db(commands)
    from scimcore._keys import add_parsers as add_keys

    add_keys(commands)
    _add_sync(commands)
    _add_check(commands)
    return parser


def _joined(argv: list[str]) -> list[str]:
    """``--token -x`` as ``--token=-x``: a token may start with ``-``, which argparse would
    take for an option.

    >>> _joined(["serve", "--token", "-abc", "--port", "1"])
    ['serve', '--token=-abc', '--port', '1']
    """
    joined: list[str] = []
    values = iter(argv)
    for arg in values:
        if arg in ("--token", "--token-file", "--from-token", "--to-token"):
            value = next(values, None)
            joined.append(arg if value is None else f"{arg}={value}")
        else:
            joined.append(arg)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    >>> main(["schemas", "EnterpriseUser"])  # doctest: +ELLIPSIS
    {
      "id": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ...
    0
    """
    args = _parser().parse_args(_joined(sys.argv[1:] if argv is None else list(argv)))
    try:
        status: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`scimcore schemas | head`): stop quietly, as `cat` does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug or an unforeseen failure: still one line, exit 1
        first = next((line for line in str(error).splitlines() if line.strip()), "")
        print(f"scimcore: {type(error).__name__}: {first.strip()}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
