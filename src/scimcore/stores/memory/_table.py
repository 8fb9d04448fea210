"""The memory store's tables: rows by ``id`` and in creation order, with hash columns.

A hash column holds, for each row in creation order, the low 16 bits of the
``hash()`` of its search-document value at some keys, in 2 bytes: a search for
``title eq "x"`` scans the column for the 2 bytes of ``"x"`` (a literal search
in C over a ``bytearray``) instead of running the evaluator on every row.
"""

from __future__ import annotations

import itertools
import re
import struct
from collections.abc import Collection, Mapping
from typing import Any

import attrs

from scimcore.stores.sql._document import singular_value

__all__ = ["Elements", "Row", "Table", "probe_for"]


@attrs.define
class Row:
    """One resource as the memory store keeps it.

    A row is never changed once a reader may hold it: a write puts a new row. The
    one exception is an *open* row, which only a member delta makes (so that an
    add to a large group does not copy its member lists): its resource has no
    ``members`` and its documents only the added ones; its :attr:`elements` hold
    them all, and :meth:`settle` puts them in (at the documents' ``members`` key,
    so in encode's key order). Only the table holds an open row, and it settles
    one before handing it out (:meth:`Table.get`, :meth:`Table.rows`, …), under the
    store's lock; the next delta changes the elements, never a settled row's lists.
    """

    resource: Any
    #: The wire document, ``encode(resource, full=True)``: what get_document and
    #: search_documents copy.
    wire: dict[str, Any]
    #: The search document (folded values), which narrowing, sorting and unique values read.
    search: dict[str, Any]
    #: The creation sequence: the order of a search without ``sortBy``, and its tie-break.
    seq: int
    #: A group's ``members`` by folded value, built by the first member delta and carried
    #: to the row that delta writes (a full write starts again without).
    elements: Elements | None = None
    #: Whether the members are still to be filled in from :attr:`elements`.
    open: bool = False

    def settle(self) -> None:
        """Fill in an open row's members from its elements (O(members), once)."""
        if not self.open:
            return
        elements = self.elements
        assert elements is not None
        self.resource = attrs.evolve(self.resource, members=list(elements.resource.values()))
        self.wire = with_members(self.wire, list(elements.wire.values()))
        self.search = with_members(self.search, list(elements.search.values()))
        self.open = False

    def member_values(self) -> list[Any]:
        """The ``value`` of each member, read from the elements if the row is open."""
        if self.open:
            assert self.elements is not None
            return [member.value for member in self.elements.resource.values()]
        return [member.value for member in getattr(self.resource, "members", None) or ()]


def with_members(document: dict[str, Any], members: list[Any]) -> dict[str, Any]:
    """``document`` with these ``members`` (none: the key left out), in encode's key order.

    >>> with_members({"id": "1", "meta": {}}, [{"value": "u1"}])
    {'id': '1', 'members': [{'value': 'u1'}], 'meta': {}}
    >>> with_members({"id": "1", "members": [{"value": "u1"}], "meta": {}}, [])
    {'id': '1', 'meta': {}}
    """
    out: dict[str, Any] = {}
    for key, value in document.items():
        if key == "meta" and "members" not in out and members:
            out["members"] = members
        if key != "members":
            out[key] = value
        elif members:
            out["members"] = members
    if members and "members" not in out:
        out["members"] = members
    return out


@attrs.define
class Elements:
    """A group's members by folded ``value``, in order, in the three forms a row keeps
    (model, wire, search): a member delta finds, removes and adds one in O(1)."""

    resource: dict[str, Any]
    wire: dict[str, Any]
    search: dict[str, Any]

    @classmethod
    def of(cls, row: Row) -> Elements | None:
        """The members of ``row`` by folded value; ``None`` if two share one (or one has
        none): a delta could not tell them apart."""
        members = getattr(row.resource, "members", None) or []
        if not all(isinstance(m.value, str) for m in members):
            return None
        keys: list[str] = [m.value.casefold() for m in members]
        if len(set(keys)) != len(keys):
            return None
        wire, search = row.wire.get("members") or [], row.search.get("members") or []
        if not len(wire) == len(search) == len(keys):  # pragma: no cover - encode keeps them
            return None
        return cls(
            dict(zip(keys, members, strict=True)),
            dict(zip(keys, wire, strict=True)),
            dict(zip(keys, search, strict=True)),
        )


#: One cell of a hash column: the low 16 bits of a value's ``hash()`` (at 5,000 rows, a
#: search meets a stray collision about once in 13; the evaluator turns it away).
_CELL = struct.Struct("<H")
_MASK = 0xFFFF
#: The cell of a deleted row (any value does: a row found there is skipped).
_HOLE = _CELL.pack(0)


class Table:
    """The rows of one resource type, by ``id`` and in creation order, with hash
    columns of their search-document values for fast scans.

    ``candidates(keys, probe)`` returns the rows whose search document may hold
    a value at ``keys``: every row where it does, and perhaps a few more (two
    values may share a hash). A hash column is a ``bytearray`` of each row's
    ``hash(value)`` in 2 bytes, in creation order, built on the first scan of
    those keys and then kept current by every write; the scan is a literal
    search of the value's 2 bytes over it (``probe``, from :func:`probe_for`).
    Still a scan of every row, not an index, but at memory speed: 5,000 rows in
    a few microseconds, instead of a dict lookup a row in Python. Deleted rows
    leave holes, closed up once they are half the table.

    For groups, ``listing(member)`` gives the rows whose ``members`` hold that
    value, from a map (member value → row ids) built on first use and kept
    current by writes (computed ``User.groups`` reads it on every read of a user).

    Every row handed out (:meth:`get`, :meth:`rows`, :meth:`page`,
    :meth:`candidates`) is settled (see :class:`Row`); the store calls every
    method with its lock held.
    """

    def __init__(self) -> None:
        self._by_id: dict[str, Row] = {}
        self._order: list[Row | None] = []
        self._position: dict[str, int] = {}
        self._columns: dict[tuple[str, ...], bytearray] = {}
        self._holes = 0
        self._listed: dict[Any, dict[str, None]] | None = None
        #: The open rows (see :class:`Row`) by id: settled before they are handed out.
        self._open: dict[str, Row] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, resource_id: str) -> bool:
        return resource_id in self._by_id

    def get(self, resource_id: str, *, settled: bool = True) -> Row | None:
        """The row with this id, settled (or as it is: only a member delta, which
        reads nothing but the row's ``meta`` and elements, asks for that)."""
        row = self._by_id.get(resource_id)
        if settled and row is not None:
            self._settle(row)
        return row

    def rows(self) -> Collection[Row]:
        """Every row, settled, in creation order."""
        self._settle_all()
        return self._by_id.values()

    def page(self, start: int, stop: int | None) -> list[Row]:
        """The rows from ``start`` to ``stop`` in creation order, settled."""
        rows = list(itertools.islice(self._by_id.values(), start, stop))
        if self._open:
            for row in rows:
                self._settle(row)
        return rows

    def _settle(self, row: Row) -> None:
        if row.open:
            row.settle()
            del self._open[row.resource.id]

    def _settle_all(self) -> None:
        for row in self._open.values():
            row.settle()
        self._open.clear()

    def put(self, resource_id: str, row: Row) -> None:
        """Add a new row, or replace the row with this id in its place."""
        old = self.get(resource_id)
        self._by_id[resource_id] = row
        if self._listed is not None:
            if old is not None:
                self._unlist(resource_id, old)
            self._list(resource_id, row)
        position = self._position.get(resource_id)
        if position is None:
            self._position[resource_id] = len(self._order)
            self._order.append(row)
            for keys, column in self._columns.items():
                column += _cell(row.search, keys)
        else:
            self._order[position] = row
            at = position * _CELL.size
            for keys, column in self._columns.items():
                column[at : at + _CELL.size] = _cell(row.search, keys)

    def put_delta(self, resource_id: str, row: Row, added: list[Any], removed: list[Any]) -> None:
        """Replace the row with this id by ``row`` (open, or not), whose members differ
        from the old row's by ``added`` and ``removed`` values only (a member delta)."""
        self._by_id[resource_id] = row
        if row.open:
            self._open[resource_id] = row
        else:
            self._open.pop(resource_id, None)
        if self._listed is not None:
            for value in removed:
                listed = self._listed.get(value)
                if listed is not None:
                    listed.pop(resource_id, None)
                    if not listed:
                        del self._listed[value]
            for value in added:
                self._listed.setdefault(value, {})[resource_id] = None
        position = self._position[resource_id]
        self._order[position] = row
        at = position * _CELL.size
        for keys, column in self._columns.items():
            column[at : at + _CELL.size] = _cell(row.search, keys)

    def remove(self, resource_id: str) -> None:
        """Remove the row with this id."""
        self._open.pop(resource_id, None)
        old = self._by_id.pop(resource_id)
        if self._listed is not None:
            self._unlist(resource_id, old)
        position = self._position.pop(resource_id)
        self._order[position] = None
        at = position * _CELL.size
        for column in self._columns.values():
            column[at : at + _CELL.size] = _HOLE
        self._holes += 1
        if self._holes > 64 and 2 * self._holes > len(self._order):
            kept = [row for row in self._order if row is not None]
            self._position = {row.resource.id: i for i, row in enumerate(kept)}
            self._order = [*kept]
            self._columns.clear()
            self._holes = 0

    def listing(self, member: Any) -> list[Row]:
        """The rows whose ``members`` hold ``member``, in creation order. They may be
        open (see :class:`Row`): read their ``id`` and ``displayName``, not their members."""
        if self._listed is None:
            self._listed = {}
            for resource_id, row in self._by_id.items():
                self._list(resource_id, row)
        listed = self._listed.get(member)
        if not listed:
            return []
        return sorted((self._by_id[i] for i in listed), key=lambda row: row.seq)

    def _list(self, resource_id: str, row: Row) -> None:
        assert self._listed is not None
        for value in row.member_values():
            self._listed.setdefault(value, {})[resource_id] = None

    def _unlist(self, resource_id: str, row: Row) -> None:
        assert self._listed is not None
        for value in row.member_values():
            listed = self._listed.get(value)
            if listed is not None:
                listed.pop(resource_id, None)
                if not listed:
                    del self._listed[value]

    def candidates(self, keys: tuple[str, ...], probe: re.Pattern[bytes]) -> list[Row]:
        """The rows whose search document may hold a value at ``keys`` (every row that
        does, and maybe a few that don't), in creation order; ``probe`` is
        :func:`probe_for` of that value."""
        column = self._columns.get(keys)
        if column is None:
            column = self._columns[keys] = bytearray().join(
                _HOLE if row is None else _cell(row.search, keys) for row in self._order
            )
        found: list[Row] = []
        search = probe.search  # SRE's literal search beats bytearray.find by a third here
        match = search(column)
        while match is not None:
            at = match.start()
            position, misaligned = divmod(at, _CELL.size)
            if misaligned:  # the bytes straddle two cells
                match = search(column, at + 1)
                continue
            row = self._order[position]
            if row is not None:
                if row.open:
                    self._settle(row)
                found.append(row)
            match = search(column, at + _CELL.size)
        return found


def probe_for(needle: str) -> re.Pattern[bytes]:
    """What :meth:`Table.candidates` looks for: the cell of ``needle``."""
    return re.compile(re.escape(_cell_of(needle)))


def _cell(document: Mapping[str, Any], keys: tuple[str, ...]) -> bytes:
    """A row's cell in the hash column of ``keys``."""
    return _cell_of(singular_value(document, keys))


def _cell_of(value: Any) -> bytes:
    return _CELL.pack(hash(value) & _MASK if isinstance(value, str) else 0)
