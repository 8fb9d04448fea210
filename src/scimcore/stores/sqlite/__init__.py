"""The SQLite store: :class:`SQLiteStore`, the embedded default (stdlib ``sqlite3``, WAL).

Theory of operation:

- One row per resource in ``scim_resources``: ``rid`` (the version number its
  create took: a creation sequence, never reused, the final tie-break of every
  order, with no ``AUTOINCREMENT`` counter to write; older files keep theirs), the
  resource type, ``id``, a version, ``doc`` (the wire document, the JSON of
  ``encode(resource, full=True)``, read back with ``decode``) and ``sdoc``, the
  search document (:mod:`scimcore.stores.sql`), which multi-valued and complex
  conditions read.
- A group's ``members`` are not in its documents but in ``scim_members``, a row a
  member (:mod:`._members`): a member added or removed writes its row, not a
  document of 20,000 members; reads put the rows back.
- One narrow row per resource in ``scim_search``, which every search scans:
  columns ``s0``, ``s1``… hold the comparable value of every singular simple
  attribute (the slots of :func:`~._schema.scalar_paths`, per resource type),
  so that most comparisons and sorts read a column, not JSON, and a scan reads
  little. A condition that needs the search document reads it by ``rid``.
- ``scim_lookup (key, value, rid)`` holds the comparable values of the indexed
  paths (``user/username``, ``user/emails/value``…): an ``eq`` on one of them is
  an index seek. ``scim_unique (key, value, rid)`` holds the values that must be
  unique; its primary key makes a duplicate impossible even between processes.
  No value is indexed twice: ``id eq`` seeks ``scim_resources``' own key, and a
  unique lookup (``userName``) seeks ``scim_unique`` (see :mod:`._indexes`).
- ``scim_meta`` holds the schema version (migrations run on open), the
  version counter (every write takes the next number: ``W/"n"``), the cursor
  secret (cursors survive a restart) and a digest of what the index tables
  were built with (lookups, unique rules, Unicode version): on a change, the
  store rebuilds them on open.

The parts:

- :mod:`._store`: :class:`SQLiteStore`, the protocol over the tables;
- :mod:`._schema`: DDL, migrations, and the search table's columns (:class:`~._schema.Layout`);
- :mod:`._indexes`: search rows, lookups and unique values, kept in step by every write;
- :mod:`._members`: member rows (which types keep them, the SQL that reads them back);
- :mod:`._search`: filters and sorts compiled to SQL, cached per filter shape, and
  the statements that find the rows of a page;
- :mod:`._database`: connections (one per thread), transactions, background checkpoints.

>>> from scimcore.models import User
>>> store = SQLiteStore(":memory:")
>>> store.get(User, store.create(User(user_name="bjensen")).id).user_name
'bjensen'
>>> store.close()
"""

from scimcore.stores.sqlite._schema import MIGRATIONS, SCHEMA_VERSION
from scimcore.stores.sqlite._store import SQLiteStore

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "SQLiteStore"]
