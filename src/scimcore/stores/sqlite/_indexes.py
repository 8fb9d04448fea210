"""The SQLite store's index tables: search rows, lookups and unique values.

Every write keeps three tables in step with a resource's search document:
its row in ``scim_search`` (the slot columns, see :class:`~._schema.Layout`),
its ``scim_lookup (key, value, rid)`` rows (the comparable values of the
indexed paths: an ``eq`` on one is an index seek) and its ``scim_unique`` rows
(the values that must be unique; the primary key makes a duplicate impossible,
even between processes).

No value is indexed twice (each row is one more B-tree page a commit writes):
``id`` is found through ``scim_resources``' own ``(resource_type, id)`` key, and
an indexed path that is also unique (``userName``) keeps in ``scim_lookup`` only
the values ``scim_unique`` does not hold (``""``); its ``eq`` seeks both
(:attr:`Indexes.seeks`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from scimcore.errors import Uniqueness
from scimcore.storage._query import registry_of, resource_type_of
from scimcore.stores._skeleton import StoreConfig, UniqueRule, shown, storable_json, unique_values
from scimcore.stores.sql._compiler import lookup_key
from scimcore.stores.sql._document import search_document, search_values
from scimcore.stores.sqlite._members import MemberRows
from scimcore.stores.sqlite._schema import Layout

__all__ = ["Indexes"]


class Indexes:
    """Writes and removes a resource's rows in the index tables."""

    def __init__(self, config: StoreConfig, layout: Layout, members: MemberRows) -> None:
        self.config = config
        self.layout = layout
        self.members = members
        #: Per type: the lookups kept in ``scim_lookup`` (not ``id``), as (key, document keys).
        self._lookups: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        #: Per type: the lookup keys whose values ``scim_unique`` holds.
        self._shared: dict[str, frozenset[str]] = {}
        #: Per type: the filter compiler's ``seeks`` for the lookups not (only) in
        #: ``scim_lookup``.
        self.seeks: dict[str, dict[str, str]] = {}
        for name, lookups in config.lookups.items():
            model = config.by_name[name]
            ref = registry_of(model).resolve("id", resource_type=resource_type_of(model))
            # ``scim_resources.id`` holds the comparable form of a case-exact ``id``.
            exact = ref is not None and ref.target.case_exact
            id_key = lookup_key(resource_type_of(model), ("id",)) if exact else ""
            shared = frozenset(
                rule.key
                for rule in config.rules[name]
                # ``members.value`` is read from scim_lookup by memberships().
                if rule.key in lookups and lookups[rule.key] != ("members", "value")
            )
            self._lookups[name] = [(k, keys) for k, keys in lookups.items() if k != id_key]
            self._shared[name] = shared
            seeks = {k: _seek(k) for k in sorted(shared)}
            if id_key in lookups:
                seeks[id_key] = (
                    f"SELECT rid FROM scim_resources WHERE resource_type = {_literal(name)} "
                    "AND id {test}"
                )
            self.seeks[name] = seeks

    def digest(self) -> str:
        """What the index tables are built with: a change rebuilds them on open."""
        return self.config.index_digest(
            unique={
                name: sorted(rule.key for rule in rules)
                for name, rules in self.config.rules.items()
            },
            slots={name: list(slots) for name, slots in self.layout.slots.items()},
            member_rows=sorted(self.members.types),
            seeks={name: sorted(seeks) for name, seeks in self.seeks.items()},
        )

    def _rows(
        self, name: str, search: Mapping[str, Any] | None
    ) -> tuple[dict[tuple[str, Any], UniqueRule], set[tuple[str, Any]]]:
        """A search document's unique values (with their rules) and lookup values."""
        if search is None:
            return {}, set()
        unique = unique_values(self.config.rules[name], search)
        shared = self._shared[name]
        lookups = {
            (key, value)
            for key, keys in self._lookups[name]
            for value in search_values(search, keys)
            if key not in shared or (key, value) not in unique
        }
        return unique, lookups

    def write(
        self,
        db: sqlite3.Connection,
        name: str,
        rid: int,
        search: Mapping[str, Any],
        resource: Any = None,
        old: Mapping[str, Any] | None = None,
    ) -> None:
        """Write a resource's search row, unique values and lookups.

        ``old`` is the search document the resource had (on a replace): only the
        unique and lookup rows that differ are deleted and inserted, so adding a
        member to a large group writes one lookup row, not all of them again.
        """
        db.execute(*self.layout.row(name, rid, search))
        unique, lookups = self._rows(name, search)
        old_unique, old_lookups = self._rows(name, old)
        gone = [(key, value, rid) for key, value in old_unique.keys() - unique.keys()]
        if gone:
            db.executemany("DELETE FROM scim_unique WHERE key = ? AND value = ? AND rid = ?", gone)
        for (key, value), rule in unique.items():
            if (key, value) in old_unique:
                continue
            try:
                db.execute(
                    "INSERT INTO scim_unique (key, value, rid) VALUES (?, ?, ?)", (key, value, rid)
                )
            except sqlite3.IntegrityError:
                taken = value if resource is None else shown(resource, rule.ref)
                raise Uniqueness(f"{rule.name} {taken!r} is already taken.") from None
        gone = [(key, value, rid) for key, value in old_lookups - lookups]
        if gone:
            db.executemany("DELETE FROM scim_lookup WHERE key = ? AND value = ? AND rid = ?", gone)
        added = [(key, value, rid) for key, value in lookups - old_lookups]
        if added:
            db.executemany("INSERT INTO scim_lookup (key, value, rid) VALUES (?, ?, ?)", added)

    def remove(self, db: sqlite3.Connection, name: str, rid: int, old: Mapping[str, Any]) -> None:
        """Delete a resource's search row, unique values and lookups (``old``: its search
        document)."""
        db.execute("DELETE FROM scim_search WHERE rid = ?", (rid,))
        unique, lookups = self._rows(name, old)
        db.executemany(
            "DELETE FROM scim_unique WHERE key = ? AND value = ? AND rid = ?",
            [(key, value, rid) for key, value in unique],
        )
        db.executemany(
            "DELETE FROM scim_lookup WHERE key = ? AND value = ? AND rid = ?",
            [(key, value, rid) for key, value in lookups],
        )

    def rebuild(self, db: sqlite3.Connection) -> None:
        """Rebuild search documents, member rows, lookups and unique values from the wire
        documents (a database of an older layout has its member lists moved into rows)."""
        db.execute("DELETE FROM scim_lookup")
        db.execute("DELETE FROM scim_unique")
        db.execute("DELETE FROM scim_search")
        rows = db.execute(
            f"SELECT d.rid, d.resource_type, {self.members.assembled('d')} FROM scim_resources AS d"
        ).fetchall()
        for rid, name, text in rows:
            model = self.config.by_name.get(name)
            if model is None:
                continue
            wire = json.loads(text)
            search = search_document(wire, resource_type_of(model), registry_of(model))
            doc, members = self.members.split(name, wire)
            sdoc, search_members = self.members.split(name, search)
            db.execute(
                "UPDATE scim_resources SET doc = ?, sdoc = ? WHERE rid = ?",
                (storable_json(doc, "SQLiteStore"), storable_json(sdoc, "SQLiteStore"), rid),
            )
            self.members.clear(db, rid)
            self.members.write(db, rid, members, search_members)
            self.write(db, name, rid, search)


def _literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _seek(key: str) -> str:
    """The rows of a lookup kept in ``scim_unique``, but for the values it does not hold
    (``""``), kept in ``scim_lookup``."""
    return (
        f"SELECT rid FROM scim_unique WHERE key = {_literal(key)} AND value {{test}} "
        f"UNION ALL SELECT rid FROM scim_lookup WHERE key = {_literal(key)} AND value {{test}}"
    )
