"""The PostgreSQL store: several SCIM servers, one PostgreSQL database, nothing lost.

Theory of operation
-------------------

Tables (in the store's ``schema``; ``scimcore db init`` and ``db upgrade`` create and migrate them):

- ``scim_resources (rid, resource_type, id, version, doc, sdoc)``: one row per
  resource. ``rid`` is the creation sequence (the final tie-break of every
  order and of RFC 9865 cursors); ``doc`` is the *wire document*,
  ``encode(resource, full=True)`` as ``jsonb``; ``sdoc`` is the *search
  document* (:mod:`scimcore.stores.sql`): the same values in comparable form,
  strings of ``caseExact: false`` attributes folded **in Python** (NFC +
  Unicode casefold, the evaluator's rule; PostgreSQL's ``lower()`` is not a
  case fold: ``lower('STRASSE') <> lower('straße')``).
- ``scim_values (rid, attr, seq, doc, sdoc)``: the elements of the *delta
  attributes* (default: ``Group.members``), one row each, out of ``doc``. A
  PATCH that adds one member to a group of 100,000 inserts one row; it does not
  rewrite the group.
- ``scim_lookup (key, value, rid)``: the comparable values of the indexed
  lookup paths (``userName``, ``externalId``, ``emails.value``, Group
  ``displayName``, ``externalId``, ``members.value``); the filter compiler turns
  an ``eq`` on one of them into a B-tree seek.
- ``scim_meta``: layout version, the cursor secret (shared, so that a cursor
  made by one server is read by another) and a digest of what the index
  tables were built with.
- Expression indexes: a UNIQUE index per uniqueness rule, and sort indexes
  (see :mod:`._schema`).
- ``scim_version``: a sequence; every write takes the next value (``W/"n"``).

Concurrency: a write locks its row (``SELECT … FOR UPDATE``), checks
``expected_version``, writes and commits (:mod:`._writes`). A search reads its
count and its page in one snapshot (:mod:`._search`).

The parts:

- :mod:`._store`: :class:`PostgresStore` and :class:`AsyncPostgresStore`, which
  drive the operations on psycopg pools (psycopg is imported on first use);
- :mod:`._config`: :class:`~._config.PostgresConfig`, the skeleton's config plus
  schema, delta attributes and sort indexes;
- :mod:`._schema`: DDL, migrations, expression indexes, setting up the tables;
- :mod:`._documents`: a resource split into the row's documents and its delta elements;
- :mod:`._writes`: create, get, the locked write (replace and update), delete, reindex;
- :mod:`._search`: filters, sorts and pages in SQL;
- :mod:`._statement`: the statements an operation yields.
"""

from scimcore.stores.postgres._config import DEFAULT_DELTA, DEFAULT_SORTS
from scimcore.stores.postgres._schema import MIGRATIONS, SCHEMA_VERSION
from scimcore.stores.postgres._store import AsyncPostgresStore, PostgresStore

__all__ = [
    "DEFAULT_DELTA",
    "DEFAULT_SORTS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "AsyncPostgresStore",
    "PostgresStore",
]
