"""The ``scimcore`` command line.

``scimcore schemas`` prints the RFC 7643 core schemas (errata fixed) as JSON,
or one of them by URN or name; ``scimcore serve`` runs a SCIM 2.0 server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

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
