"""``scimcore db init`` and ``scimcore db upgrade``: the PostgreSQL tables of PostgresStore.

``init`` creates the tables, sequences and indexes (it is idempotent, and
refuses a database whose layout is older than this scimcore: that is what
``upgrade`` is for). ``upgrade`` migrates an older layout and rebuilds the
search documents and lookups when what they are built from changed (the
lookups configured, the Unicode version that case folding follows). Both take
an advisory lock, so they are safe while servers run.

>>> import argparse
>>> parser = argparse.ArgumentParser(prog="scimcore")
>>> _ = add_parser(parser.add_subparsers())
>>> args = parser.parse_args(["db", "init", "postgresql://localhost/scim", "--schema", "scim"])
>>> args.dsn, args.schema, args.run.__name__
('postgresql://localhost/scim', 'scim', 'init')
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_parser", "init", "upgrade"]


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``db`` sub-command (``init``, ``upgrade``) to the ``scimcore`` parser."""
    db: argparse.ArgumentParser = commands.add_parser(
        "db",
        help="create or upgrade the PostgreSQL tables (needs the 'postgres' extra)",
        description="Create or upgrade the tables of the PostgreSQL store.",
    )
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, run, text in (
        ("init", init, "create the tables and indexes (idempotent)"),
        ("upgrade", upgrade, "migrate an older layout and rebuild the indexes if needed"),
    ):
        action = actions.add_parser(name, help=text, description=text.capitalize() + ".")
        action.add_argument("dsn", metavar="DSN", help="a PostgreSQL connection string or URL")
        action.add_argument(
            "--schema", default=None, help="keep the tables in this schema (created if missing)"
        )
        action.set_defaults(run=run)
    return db


def _open(args: argparse.Namespace, *, create: bool, upgrade: bool) -> int:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        print("scimcore: 'db' needs psycopg: pip install 'scimcore[postgres]'", file=sys.stderr)
        return 2
    from scimcore._keys import CannotOpen, reach_postgres

    try:
        reach_postgres(args.dsn)  # one try, not a pool's 30 s of retries
    except CannotOpen as error:
        print(f"scimcore: {error}", file=sys.stderr)
        return 1
    from scimcore.errors import ScimError
    from scimcore.stores.postgres import SCHEMA_VERSION, PostgresStore

    try:
        store = PostgresStore(
            args.dsn, schema=args.schema, create=create, upgrade=upgrade, pool_size=1
        )
    except ScimError as exc:
        print(f"scimcore: {exc.detail}", file=sys.stderr)
        return 1
    except Exception as exc:
        print(f"scimcore: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    store.close()
    where = f"schema {args.schema}" if args.schema else "the default schema"
    print(f"scimcore: the tables are ready in {where} (layout {SCHEMA_VERSION})")
    return 0


def init(args: argparse.Namespace) -> int:
    """``scimcore db init DSN [--schema S]``."""
    return _open(args, create=True, upgrade=False)


def upgrade(args: argparse.Namespace) -> int:
    """``scimcore db upgrade DSN [--schema S]``."""
    return _open(args, create=False, upgrade=True)
