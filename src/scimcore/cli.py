"""The ``scimcore`` command line.

``scimcore schemas`` prints the RFC 7643 core schemas (errata fixed) as JSON,
or one of them by URN or name; ``scimcore serve`` runs a SCIM 2.0 server;
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
        if arg in ("--token", "--token-file"):
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
