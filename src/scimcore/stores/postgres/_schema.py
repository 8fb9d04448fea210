"""The PostgreSQL store's tables: DDL, migrations, expression indexes, and setting them up.

Tables (in the store's ``schema``; ``scimcore db init`` and ``db upgrade`` create
and migrate them): ``scim_resources``, ``scim_values``, ``scim_lookup``,
``scim_meta`` and the sequence ``scim_version`` (see :mod:`scimcore.stores.postgres`).
Expression indexes: a UNIQUE index per uniqueness rule on the folded value
(``(sdoc #>> '{username}')`` where ``resource_type = 'user'``), so that the
*database* refuses a second ``BJensen`` whichever server asks; and sort indexes
whose expressions are exactly the ``ORDER BY`` the store writes
(:func:`plain_sort_key`), so a sorted page of 100 is an index scan.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from scimcore.errors import InternalServerError
from scimcore.schema import AttributeRef
from scimcore.storage._query import resource_type_of
from scimcore.stores.postgres._config import PostgresConfig, index_name
from scimcore.stores.postgres._statement import Ops, Statement
from scimcore.stores.sql._compiler import kind_of
from scimcore.stores.sql._document import document_keys
from scimcore.stores.sql._postgres import PostgresDialect

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "array_literal",
    "drop",
    "literal",
    "plain_sort_key",
    "setup",
]

#: The version of the table layout this code writes; ``scimcore db upgrade`` migrates older ones.
SCHEMA_VERSION = 1

_TABLES = (
    "CREATE TABLE IF NOT EXISTS scim_meta (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE SEQUENCE IF NOT EXISTS scim_version",
    """CREATE TABLE IF NOT EXISTS scim_resources (
        rid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        resource_type text NOT NULL,
        id text COLLATE "C" NOT NULL,
        version bigint NOT NULL,
        doc jsonb NOT NULL,
        sdoc jsonb NOT NULL,
        CONSTRAINT scim_resources_id UNIQUE (resource_type, id))""",
    "CREATE INDEX IF NOT EXISTS scim_resources_type ON scim_resources (resource_type, rid)",
    """CREATE TABLE IF NOT EXISTS scim_values (
        rid bigint NOT NULL REFERENCES scim_resources ON DELETE CASCADE,
        attr text NOT NULL,
        seq bigint GENERATED ALWAYS AS IDENTITY,
        doc jsonb NOT NULL,
        sdoc jsonb NOT NULL,
        PRIMARY KEY (rid, attr, seq))""",
    """CREATE TABLE IF NOT EXISTS scim_lookup (
        key text COLLATE "C" NOT NULL,
        value text COLLATE "C" NOT NULL,
        rid bigint NOT NULL REFERENCES scim_resources ON DELETE CASCADE,
        PRIMARY KEY (key, value, rid))""",
    "CREATE INDEX IF NOT EXISTS scim_lookup_rid ON scim_lookup (rid)",
)

#: Migrations: ``MIGRATIONS[n]`` takes a database from layout ``n`` to ``n + 1``.
MIGRATIONS: dict[int, tuple[str, ...]] = {}


def literal(text: str) -> str:
    """A SQL string constant (for DDL, where there are no parameters).

    >>> literal("it's")
    "'it''s'"
    """
    if "\x00" in text:
        raise ValueError("U+0000 in an SQL constant")
    return "'" + text.replace("'", "''") + "'"


def array_literal(keys: Sequence[str]) -> str:
    """A ``text[]`` constant.

    >>> print(array_literal(["name", "familyname"]))
    '{"name","familyname"}'::text[]
    """
    items = ",".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys)
    return literal("{" + items + "}") + "::text[]"


def plain_sort_key(model: type[Any], ref: AttributeRef, document: str) -> str:
    """A singular attribute's sort key with its JSON path written as a constant (the
    expression of its sort index, and the ``ORDER BY`` of a search by it)."""
    keys = document_keys(ref, resource_type_of(model))
    kind = kind_of(ref.target)
    value = PostgresDialect(document).extract(document, array_literal(keys), kind)
    return f"NULLIF({value}, '')" if kind == "text" else value


def _index_ddl(config: PostgresConfig) -> list[str]:
    """The expression indexes: one UNIQUE per uniqueness rule, one per sort index."""
    statements = []
    for name, rules in config.rules.items():
        for rule in rules:
            value = f"(sdoc #>> {array_literal(rule.keys)})"
            statements.append(
                f"CREATE UNIQUE INDEX IF NOT EXISTS {index_name('scim_unique', rule.key)} "
                f"ON scim_resources ({value}) WHERE resource_type = {literal(name)} "
                f"AND {value} <> ''"
            )
    for name, refs in config.sorts.items():
        model = config.by_name[name]
        for ref in refs:
            key = plain_sort_key(model, ref, "sdoc")
            statements.append(
                f"CREATE INDEX IF NOT EXISTS "
                f"{index_name('scim_sort', name + '/' + ref.dotted.casefold())} "
                f"ON scim_resources (({key} IS NULL), ({key}), rid) "
                f"WHERE resource_type = {literal(name)}"
            )
    return statements


def setup(
    config: PostgresConfig,
    reindex: Callable[[], Ops[None]],
    *,
    create: bool = True,
    upgrade: bool = False,
) -> Ops[bytes]:
    """Check the tables, creating (``create``) or migrating (``upgrade``) them if asked.

    Returns the cursor secret. Runs under an advisory lock, so that servers
    starting together do not race to create the same tables; runs ``reindex``
    when the index tables were built with another configuration.
    """
    lock = f"scimcore:{config.schema or ''}"
    yield Statement("SELECT pg_advisory_xact_lock(hashtext(%(k)s))", {"k": lock})
    if config.schema is not None:
        yield Statement(f'CREATE SCHEMA IF NOT EXISTS "{config.schema}"')
    exists = yield Statement("SELECT to_regclass('scim_meta') IS NOT NULL")
    meta: dict[str, str] = {}
    if exists[0][0]:
        meta = dict((yield Statement("SELECT key, value FROM scim_meta")))
    if not meta and not create:
        raise InternalServerError("The database has no scimcore tables: run 'scimcore db init'.")
    version = int(meta.get("schema_version", SCHEMA_VERSION))
    if version > SCHEMA_VERSION:
        raise InternalServerError(
            f"The database has layout {version}; this scimcore knows {SCHEMA_VERSION}."
        )
    if version < SCHEMA_VERSION and not upgrade:
        raise InternalServerError(f"The database has layout {version}: run 'scimcore db upgrade'.")
    for statement in _TABLES:
        yield Statement(statement)
    while version < SCHEMA_VERSION:
        for statement in MIGRATIONS[version]:
            yield Statement(statement)
        version += 1
    yield Statement(
        "INSERT INTO scim_meta VALUES ('schema_version', %(v)s) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"v": str(version)},
    )
    yield Statement(
        "INSERT INTO scim_meta VALUES ('cursor_secret', %(s)s) ON CONFLICT (key) DO NOTHING",
        {"s": secrets.token_hex(32)},
    )
    for statement in _index_ddl(config):
        yield Statement(statement)
    digest = config.digest()
    if meta.get("index_digest") != digest:
        yield from reindex()
        yield Statement(
            "INSERT INTO scim_meta VALUES ('index_digest', %(d)s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {"d": digest},
        )
    rows = yield Statement("SELECT value FROM scim_meta WHERE key = 'cursor_secret'")
    return bytes.fromhex(rows[0][0])


def drop(schema: str | None) -> Ops[None]:
    """Drop the tables (the whole ``schema`` when there is one): for tests."""
    if schema is not None:
        yield Statement(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    else:
        yield Statement(
            "DROP TABLE IF EXISTS scim_lookup, scim_values, scim_resources, scim_meta CASCADE"
        )
        yield Statement("DROP SEQUENCE IF EXISTS scim_version")
