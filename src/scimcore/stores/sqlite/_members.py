"""The SQLite store's member rows: a group's ``members``, one row each, outside its documents.

Theory of operation: a group of 20,000 members is a 1.4 MB document; kept inline,
adding one member rewrites all of it (SQLite edits JSON in C, but still reads,
re-serialises and writes every byte). So a resource type with a top-level
multi-valued ``members`` attribute keeps its members in ``scim_members (rid, seq,
value, member, smember)``: ``seq`` their order (an append takes the next one),
``member`` one element of the wire document, ``smember`` the same element of the
search document, ``value`` its comparable ``value`` (``(rid, value)`` is indexed, so
finding the members a PATCH names is a seek). ``doc`` and ``sdoc`` hold the rest.

- Reads put the members back in SQL (:meth:`MemberRows.assembled`): the rows, when a
  resource has any, *override* the document's own ``members``. A database written before
  this layout keeps its members inline and has no rows, so it reads the same, and the
  rebuild that its changed index digest starts on open splits them out.
- Filters read ``smember`` rows in place of ``json_each(sdoc, '$.members')``
  (:meth:`MemberRows.element_tables`, given to the filter compiler).
- Writes of a whole resource replace its rows; a member delta
  (:meth:`~._store.SQLiteStore.update_members`) inserts and deletes only the rows it
  touches.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from scimcore.storage._query import registry_of, resource_type_of
from scimcore.stores._skeleton import StoreConfig, rows_to_rewrite, storable_json
from scimcore.stores.sql._document import document_keys

__all__ = ["MEMBERS", "MemberRows"]

#: The attribute kept in rows, by its search-document key.
MEMBERS = "members"


class MemberRows:
    """Which resource types keep ``members`` in rows, and the SQL that reads and writes them.

    >>> from scimcore.models import Group, User
    >>> rows = MemberRows(StoreConfig([User, Group]))
    >>> sorted(rows.types)
    ['group']
    """

    def __init__(self, config: StoreConfig) -> None:
        self.types: frozenset[str] = frozenset(
            name for name, model in config.by_name.items() if _has_members(model)
        )
        quoted = ", ".join("'" + name.replace("'", "''") + "'" for name in sorted(self.types))
        self._is_split = f"resource_type IN ({quoted})" if self.types else "0"

    def split(self, name: str, document: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """A document without its members (when type ``name`` keeps them in rows), and
        those members."""
        if name not in self.types or MEMBERS not in document:
            return dict(document), []
        rest = {key: value for key, value in document.items() if key != MEMBERS}
        return rest, list(document[MEMBERS])

    def assembled(self, table: str, column: str = "doc") -> str:
        """SQL for the whole document of a row of ``table`` (an alias of
        ``scim_resources``): ``column`` with the member rows put back as ``members``.

        >>> from scimcore.models import Group
        >>> MemberRows(StoreConfig([Group])).assembled("d")[:60]
        "CASE WHEN d.resource_type IN ('group') AND EXISTS (SELECT 1 "
        """
        member = "member" if column == "doc" else "smember"
        if not self.types:
            return f"{table}.{column}"
        # Spliced as text (a document is a JSON object: it ends with "}"), never parsed:
        # SQLite's JSON functions would parse every member, and the array, and the document.
        # NOT INDEXED: the rows in primary-key order, (rid, seq), which is member order (an
        # ORDER BY in a subquery costs a co-routine: twice the time).
        return (
            f"CASE WHEN {table}.{self._is_split} AND EXISTS (SELECT 1 FROM scim_members "
            f"WHERE rid = {table}.rid) THEN substr({table}.{column}, 1, "
            f"length({table}.{column}) - 1) || ',\"{MEMBERS}\":[' || (SELECT "
            f"group_concat({member}, ',') FROM scim_members NOT INDEXED "
            f"WHERE rid = {table}.rid) || ']}}' ELSE {table}.{column} END"
        )

    def element_tables(self, name: str, row: str) -> dict[tuple[str, ...], str]:
        """For the filter compiler: the elements of ``members`` of the row ``row`` (its
        ``rid``) as its rows, in place of the search document's array."""
        if name not in self.types:
            return {}
        return {
            (MEMBERS,): (
                "(SELECT smember AS value, 'object' AS type, seq AS ord "
                f"FROM scim_members WHERE rid = {row}) AS {{alias}}"
            )
        }

    def write(
        self,
        db: sqlite3.Connection,
        rid: int,
        members: list[Any],
        search_members: list[Any],
        *,
        first: int = 0,
    ) -> None:
        """Insert member rows, ``seq`` from ``first`` on (``members`` and
        ``search_members`` are the same elements of the two documents)."""
        if members:
            db.executemany(
                "INSERT INTO scim_members (rid, seq, value, member, smember) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        rid,
                        first + index,
                        _value_of(found),
                        storable_json(member, "SQLiteStore"),
                        storable_json(found, "SQLiteStore"),
                    )
                    for index, (member, found) in enumerate(
                        zip(members, search_members, strict=True)
                    )
                ],
            )

    def replace(
        self,
        db: sqlite3.Connection,
        rid: int,
        old: list[Any],
        members: list[Any],
        search_members: list[Any],
    ) -> None:
        """Make a resource's member rows ``members`` (they were ``old``), writing only the
        rows that differ (:func:`~scimcore.stores._skeleton.rows_to_rewrite`): a PUT that
        adds or removes a few members of a large group writes a few rows."""
        seqs = [
            row[0]
            for row in db.execute("SELECT seq FROM scim_members WHERE rid = ? ORDER BY seq", (rid,))
        ]
        gone, kept = rows_to_rewrite(old, members)
        self.remove(db, rid, [seqs[index] for index in gone])
        first = self.next_seq(db, rid)  # after the kept rows, the only ones left
        self.write(db, rid, members[kept:], search_members[kept:], first=first)

    def clear(self, db: sqlite3.Connection, rid: int) -> None:
        """Delete every member row of a resource."""
        db.execute("DELETE FROM scim_members WHERE rid = ?", (rid,))

    def next_seq(self, db: sqlite3.Connection, rid: int) -> int:
        """The ``seq`` an appended member takes."""
        row = db.execute("SELECT max(seq) FROM scim_members WHERE rid = ?", (rid,)).fetchone()
        return 0 if row[0] is None else int(row[0]) + 1

    def named(self, db: sqlite3.Connection, rid: int, values: list[Any]) -> list[Any]:
        """The rows ``(seq, value, member)`` of a resource whose comparable value is one of
        ``values``, in member order."""
        found: list[Any] = []
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            found += db.execute(
                # INDEXED BY: the planner otherwise takes the primary key (rid, seq) and
                # reads every member of the group.
                "SELECT seq, value, member FROM scim_members INDEXED BY scim_members_value "
                f"WHERE rid = ? AND value IN ({', '.join('?' * len(chunk))})",
                (rid, *chunk),
            ).fetchall()
        found.sort(key=lambda row: row[0])
        return [(seq, value, json.loads(member)) for seq, value, member in found]

    def remove(self, db: sqlite3.Connection, rid: int, seqs: list[int]) -> None:
        """Delete the member rows at ``seqs``."""
        db.executemany(
            "DELETE FROM scim_members WHERE rid = ? AND seq = ?", [(rid, seq) for seq in seqs]
        )


def _value_of(search_member: Any) -> Any:
    """The comparable ``value`` of a member of the search document (``None`` without one)."""
    if isinstance(search_member, Mapping):
        return search_member.get("value")
    return None


def _has_members(model: type[Any]) -> bool:
    """Whether a resource type has a top-level multi-valued complex ``members`` attribute."""
    resource_type = resource_type_of(model)
    ref = registry_of(model).resolve(MEMBERS, resource_type=resource_type)
    if ref is None or len(ref.chain) != 1:
        return False
    attribute = ref.chain[0]
    if attribute.name != MEMBERS or not (attribute.multi_valued and attribute.is_complex):
        return False
    return document_keys(ref, resource_type) == (MEMBERS,)
