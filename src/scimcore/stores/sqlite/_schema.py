"""The SQLite store's tables: DDL, migrations, and the columns of the search table.

``scim_search`` has one row per resource and a column ``s0``, ``s1``… per
*slot*: a singular simple attribute of a resource type
(:func:`scalar_paths`), holding its comparable value, so that most
comparisons and sorts read a column, not JSON. Slot ``i`` of one type and of
another are different attributes in the same column; a row's ``resource_type``
says which. :class:`Layout` holds the slots of each type of a store.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

from scimcore.errors import InternalServerError
from scimcore.storage._query import registry_of, resource_type_of
from scimcore.stores._skeleton import StoreConfig
from scimcore.stores.sql._compiler import lookup_key
from scimcore.stores.sql._document import singular_value

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Layout", "scalar_paths", "setup"]

#: The version of the database layout this code writes; older files are migrated.
SCHEMA_VERSION = 3

_CREATE = """
CREATE TABLE IF NOT EXISTS scim_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scim_resources (
    rid INTEGER PRIMARY KEY,
    resource_type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL,
    sdoc TEXT NOT NULL,
    UNIQUE (resource_type, id)
);
CREATE TABLE IF NOT EXISTS scim_search (rid INTEGER PRIMARY KEY, resource_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scim_lookup (
    key TEXT NOT NULL, value NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (key, value, rid)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scim_unique (
    key TEXT NOT NULL, value NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (key, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scim_members (
    rid INTEGER NOT NULL, seq INTEGER NOT NULL, value, member TEXT NOT NULL,
    smember TEXT NOT NULL, PRIMARY KEY (rid, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scim_members_value ON scim_members (rid, value);
"""

#: Migrations: ``MIGRATIONS[n]`` takes a database from version ``n`` to ``n + 1``.
MIGRATIONS: dict[int, str] = {
    # 2: index rows are removed by their keys (from the stored search document), so the
    # two indexes by rid, two more B-trees written by every write, are gone.
    1: "DROP INDEX IF EXISTS scim_lookup_rid; DROP INDEX IF EXISTS scim_unique_rid",
    # 3: a group's members in rows of their own (``scim_members``, created above; see
    # :mod:`._members`): the index digest names them, so the rebuild that a changed
    # digest starts on open moves every inline member list into rows.
    2: "",
}


def scalar_paths(model: type[Any]) -> dict[str, tuple[str, ...]]:
    """Every singular simple attribute of a model, as lookup key → search-document keys.

    In schema order: the base schema (a singular complex attribute's
    sub-attributes in place), the common attributes, then each extension. A SQL
    store keeps these values in plain columns, so that comparing or sorting
    them needs no JSON.

    >>> from scimcore.models import User
    >>> list(scalar_paths(User))[:3]
    ['user/username', 'user/name/formatted', 'user/name/familyname']
    """
    resource_type = resource_type_of(model)
    registry = registry_of(model)
    out: dict[str, tuple[str, ...]] = {}
    groups: list[tuple[tuple[str, ...], Iterable[Any]]] = []
    base = registry.schema(resource_type.schema)
    if base is not None:
        groups.append(((), base.attributes))
    groups.append(((), registry.common_attributes))
    for urn in resource_type.extension_urns:
        schema = registry.schema(urn)
        if schema is not None:
            groups.append(((urn.casefold(),), schema.attributes))
    for prefix, attributes in groups:
        for attribute in attributes:
            if attribute.multi_valued:
                continue
            head = (*prefix, attribute.name.casefold())
            if attribute.is_complex:
                for sub in attribute.sub_attributes:
                    if not sub.multi_valued and not sub.is_complex:
                        keys = (*head, sub.name.casefold())
                        out.setdefault(lookup_key(resource_type, keys), keys)
            else:
                out.setdefault(lookup_key(resource_type, head), head)
    return out


_SlotPlan = tuple[int, dict[str, list[tuple[int, tuple[str, ...]]]]]

#: The search-row inserts kept, one per set of columns written (few: resources of one
#: type mostly fill the same attributes).
_INSERTS_KEPT = 256


class Layout:
    """The search table's columns for each resource type of a store.

    - ``slots[name]``: lookup key → search-document keys, in column order;
    - ``columns[name]``: lookup key → the column holding it (``r.s0``…), for the
      filter compiler;
    - ``width``: the number of ``s`` columns the table needs.

    :meth:`row` gives the statement writing a resource's search row.
    """

    def __init__(self, config: StoreConfig) -> None:
        self.slots: dict[str, dict[str, tuple[str, ...]]] = {
            name: scalar_paths(model) for name, model in config.by_name.items()
        }
        self.columns: dict[str, dict[str, str]] = {
            name: {key: f"r.s{i}" for i, key in enumerate(slots)}
            for name, slots in self.slots.items()
        }
        self.width = max((len(slots) for slots in self.slots.values()), default=0)
        self._plans = {name: _slot_plan(slots) for name, slots in self.slots.items()}
        # The insert naming a set of columns, by that set (see row()).
        self._inserts: dict[tuple[int, ...], str] = {}

    def row(self, name: str, rid: int, document: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The statement (``INSERT OR REPLACE``) and parameters writing the search row of
        a resource of type ``name``, ``document`` its search document.

        It names only the columns that hold a value (a user has a handful of some thirty):
        the others are NULL all the same, and binding each NULL costs the write time.

        >>> from scimcore.stores._skeleton import StoreConfig
        >>> layout = Layout(StoreConfig())
        >>> sql, params = layout.row("user", 7, {"username": "bjensen", "title": "boss"})
        >>> sql
        'INSERT OR REPLACE INTO scim_search (rid, resource_type, s0, s10) VALUES (?, ?, ?, ?)'
        >>> params
        [7, 'user', 'bjensen', 'boss']
        """
        values = self.values(name, document)
        columns = tuple(i for i, value in enumerate(values) if value is not None)
        sql = self._inserts.get(columns)
        if sql is None:
            sql = (
                "INSERT OR REPLACE INTO scim_search (rid, resource_type"
                + "".join(f", s{i}" for i in columns)
                + ") VALUES (?, ?"
                + ", ?" * len(columns)
                + ")"
            )
            if len(self._inserts) < _INSERTS_KEPT:
                self._inserts[columns] = sql
        return sql, [rid, name, *(values[i] for i in columns)]

    def values(self, name: str, document: Mapping[str, Any]) -> list[Any]:
        """The column values of a search row: the singular value of every slot, walking
        the search document's own keys (a handful) rather than every slot (dozens)."""
        width, by_first = self._plans[name]
        values: list[Any] = [None] * width
        for key, top in document.items():
            for index, rest in by_first.get(key, ()):
                values[index] = singular_value(top, rest)
        return values


def _slot_plan(slots: Mapping[str, tuple[str, ...]]) -> _SlotPlan:
    """The slots grouped by their first search-document key (see :meth:`Layout.values`)."""
    by_first: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
    for index, keys in enumerate(slots.values()):
        by_first.setdefault(keys[0], []).append((index, keys[1:]))
    return len(slots), by_first


def setup(db: sqlite3.Connection, path: str, layout: Layout) -> dict[str, Any]:
    """Create or migrate the tables (in the caller's transaction); the ``scim_meta`` rows.

    A new database gets its schema version, version counter and cursor secret;
    the search table gets a column for every slot.
    """
    for statement in _CREATE.split(";"):
        if statement.strip():
            db.execute(statement)
    meta = dict(db.execute("SELECT key, value FROM scim_meta").fetchall())
    version = meta.get("schema_version")
    if version is None:
        db.execute("INSERT INTO scim_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        version = SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise InternalServerError(
            f"The database {path} has layout {version}; this scimcore knows {SCHEMA_VERSION}."
        )
    while version < SCHEMA_VERSION:
        for statement in MIGRATIONS[version].split(";"):
            if statement.strip():
                db.execute(statement)
        version += 1
        db.execute("UPDATE scim_meta SET value = ? WHERE key = 'schema_version'", (version,))
    columns = {row[1] for row in db.execute("PRAGMA table_info(scim_search)")}
    for i in range(layout.width):
        if f"s{i}" not in columns:
            db.execute(f"ALTER TABLE scim_search ADD COLUMN s{i}")
    if "version" not in meta:
        db.execute("INSERT INTO scim_meta VALUES ('version', 0)")
    # A new row's rid is the version its create takes (see SQLiteStore._insert): the
    # counter is past every rid, even in a file whose rids it did not give.
    db.execute(
        "UPDATE scim_meta SET value = (SELECT max(rid) FROM scim_resources) "
        "WHERE key = 'version' AND value < (SELECT max(rid) FROM scim_resources)"
    )
    if meta.get("cursor_secret") is None:
        meta["cursor_secret"] = secrets.token_bytes(32)
        db.execute("INSERT INTO scim_meta VALUES ('cursor_secret', ?)", (meta["cursor_secret"],))
    return meta
