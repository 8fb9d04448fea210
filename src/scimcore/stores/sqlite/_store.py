"""SQLiteStore: the protocol over the tables, the index tables and the searches."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import attrs

from scimcore._drive import drive
from scimcore.errors import Uniqueness
from scimcore.models import Meta
from scimcore.patch import PatchResult
from scimcore.storage._change import Change, apply_change, check_version, same_but_meta
from scimcore.storage._memberships import search_memberships
from scimcore.storage._query import Page, Query, registry_of, resource_type_of
from scimcore.storage._values import comparable
from scimcore.stores._skeleton import (
    DEFAULT_LOOKUPS,
    Clock,
    NativeUpdate,
    StoreConfig,
    member_delta,
    new_id,
    paging,
    stamp,
    storable_json,
    utcnow,
)
from scimcore.stores.sql._document import search_document
from scimcore.stores.sqlite._database import Database, bounded
from scimcore.stores.sqlite._indexes import Indexes
from scimcore.stores.sqlite._members import MemberRows
from scimcore.stores.sqlite._schema import Layout, setup
from scimcore.stores.sqlite._search import Searches, key_of, rows_fetcher

__all__ = ["SQLiteStore"]

R = TypeVar("R")

#: What a rewrite keeps of the stored resource: its ``id`` and ``meta.created``.
_Kept = tuple[str, Any]


class _Stored(NamedTuple):
    """A stored row read for a write."""

    rid: int
    resource: Any
    wire: dict[str, Any]
    search: dict[str, Any]


class SQLiteStore(NativeUpdate):
    """A store in one SQLite file; filters and sorts run in SQL.

    ``path`` is a file (created if missing) or ``":memory:"`` (one connection,
    for tests). ``models``: the resource models kept (default ``User``,
    ``Group``). ``unique``: unique attributes per resource type beyond the
    schema's own, such as ``{"User": ["externalId"]}``. ``lookups``: the
    attribute paths indexed for ``eq`` per resource type (default
    :data:`~scimcore.stores.DEFAULT_LOOKUPS`: ``userName``, ``externalId``,
    ``emails.value``; Group ``displayName``, ``externalId``, ``members.value``); ``id`` is
    always indexed.

    >>> from scimcore.models import User
    >>> from scimcore.storage import Query
    >>> store = SQLiteStore(":memory:")
    >>> _ = store.create(User(user_name="bjensen"))
    >>> page = store.search(Query(models=User, filter='userName eq "BJENSEN"'))
    >>> page.total, page.resources[0].user_name
    (1, 'bjensen')
    >>> store.close()
    """

    #: Its calls are local and short (a point read is tens of µs, less than a hand-off to
    #: a worker thread), so the async adapters call it on the event loop; a scan of a
    #: very large table blocks the loop while it runs (pass ``sync_to_thread=True``).
    short_calls = True

    def __init__(
        self,
        path: str | Path,
        models: Iterable[type[Any]] | None = None,
        *,
        unique: Mapping[str, Sequence[str]] | None = None,
        lookups: Mapping[str, Sequence[str]] | None = None,
        clock: Clock = utcnow,
        cursor_timeout: float | None = 3600.0,
        busy_timeout: float = 30.0,
    ) -> None:
        self.path = str(path)
        self.config = StoreConfig(
            models,
            unique=unique,
            lookups=lookups or DEFAULT_LOOKUPS,
            # ``id`` is always indexed: ``id eq`` (Entra's membership check starts with one)
            # must be a seek, not a scan of every row.
            always_indexed=("id",),
            clock=clock,
            cursor_timeout=cursor_timeout,
        )
        self.models = self.config.models
        self._name = self.config.name
        self._layout = Layout(self.config)
        self._members = MemberRows(self.config)
        self._indexes = Indexes(self.config, self._layout, self._members)
        self._searches = Searches(self.config, self._layout, self._members, self._indexes.seeks)
        #: SQL of a wire document of ``scim_resources AS d``, its member rows put back.
        self._document = self._members.assembled("d")
        self._get_sql = (
            f"SELECT {self._document} FROM scim_resources AS d "
            "WHERE d.resource_type = ? AND d.id = ?"
        )
        # Per group type: the members.value lookup key and attribute (see memberships()).
        self._member_lookups: dict[str, tuple[str | None, Any]] = {}
        self._database = Database(self.path, busy_timeout)
        with self._database.write() as db:
            meta = setup(db, self.path, self._layout)
            digest = self._indexes.digest()
            if meta.get("index_digest") != digest:
                self._indexes.rebuild(db)
                db.execute("INSERT OR REPLACE INTO scim_meta VALUES ('index_digest', ?)", (digest,))
        self.cursors = self.config.cursors(bytes(meta["cursor_secret"]))

    def close(self) -> None:
        """Close every connection this store opened."""
        self._database.close()

    def reindex(self) -> None:
        """Rebuild the search documents and index tables (after a schema change)."""
        with self._database.write() as db:
            self._indexes.rebuild(db)

    # -- documents -------------------------------------------------------------------------

    def _next_version(self, db: sqlite3.Connection) -> int:
        row = db.execute(
            "UPDATE scim_meta SET value = value + 1 WHERE key = 'version' RETURNING value"
        ).fetchone()
        return int(row[0])

    def _documents(self, resource: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The wire document of a resource and its search document."""
        from scimcore.codecs.v2 import encode

        model = type(resource)
        wire = encode(resource, full=True)
        return wire, search_document(wire, resource_type_of(model), registry_of(model))

    def _stored(self, db: sqlite3.Connection, name: str, resource_id: str | None) -> _Stored:
        """The stored row of a resource, for a write."""
        row = db.execute(
            f"SELECT d.rid, {self._document}, {self._members.assembled('d', 'sdoc')} "
            "FROM scim_resources AS d WHERE d.resource_type = ? AND d.id = ?",
            (name, resource_id or ""),
        ).fetchone()
        if row is None:
            raise self.config.not_found(name, resource_id)
        wire = json.loads(row[1])
        return _Stored(row[0], self._decode_wire(name, wire), wire, json.loads(row[2]))

    def _decode(self, name: str, wire: str) -> Any:
        return self._decode_wire(name, json.loads(wire))

    def _decode_wire(self, name: str, wire: dict[str, Any]) -> Any:
        from scimcore.codecs.v2 import decode

        return decode(wire, self.config.by_name[name])

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> R:
        """Store a new resource (see :class:`~scimcore.storage.ResourceStore`)."""
        name = self._name(type(resource))
        # The stamped copy is what is written: decoding the JSON back would give an
        # equal resource (the contract suite checks that a later get() does).
        with self._database.write() as db:
            return self._insert(db, name, resource)  # type: ignore[no-any-return]

    def create_many(self, resources: Iterable[R]) -> list[R]:
        """Store many new resources in one transaction: all of them, or none on an error.

        For imports: much faster than one :meth:`create` per resource.
        """
        with self._database.write() as db:
            return [self._insert(db, self._name(type(r)), r) for r in resources]

    def _insert(self, db: sqlite3.Connection, name: str, resource: Any) -> Any:
        resource_id = getattr(resource, "id", None) or new_id()
        version = self._next_version(db)
        stored = stamp(
            resource, resource_id=resource_id, version=f'W/"{version}"', now=self.config.clock()
        )
        wire, search = self._documents(stored)
        doc, members = self._members.split(name, wire)
        sdoc, search_members = self._members.split(name, search)
        search_text = storable_json(sdoc, "SQLiteStore")  # U+0000 refused first
        # The rid is the version this create took: unique, increasing, never reused, and no
        # AUTOINCREMENT counter (one more page) to write.
        rid = version
        try:
            db.execute(
                "INSERT INTO scim_resources (rid, resource_type, id, version, doc, sdoc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (rid, name, resource_id, version, storable_json(doc, "SQLiteStore"), search_text),
            )
        except sqlite3.IntegrityError:
            raise Uniqueness(f"id {resource_id!r} is already taken.") from None
        self._members.write(db, rid, members, search_members)
        self._indexes.write(db, name, rid, search, stored)
        return stored

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource with this ``id``, or :class:`~scimcore.errors.NotFound`."""
        name = self._name(model)
        rows = self._database.fetch(self._get_sql, (name, resource_id))  # its own transaction
        if not rows:
            raise self.config.not_found(name, resource_id)
        return self._decode(name, rows[0][0])  # type: ignore[no-any-return]

    def get_document(self, model: type[Any], resource_id: str) -> dict[str, Any]:
        """``encode(get(model, resource_id), full=True)``, without building the model.

        >>> from scimcore.models import User
        >>> store = SQLiteStore(":memory:")
        >>> user = store.create(User(user_name="bjensen"))
        >>> store.get_document(User, user.id)["userName"]
        'bjensen'
        >>> store.close()
        """
        name = self._name(model)
        rows = self._database.fetch(self._get_sql, (name, resource_id))
        if not rows:
            raise self.config.not_found(name, resource_id)
        wire: dict[str, Any] = json.loads(rows[0][0])
        return wire

    def _rewrite(
        self,
        db: sqlite3.Connection,
        name: str,
        stored: _Stored,
        kept: _Kept,
        resource: Any,
        *,
        unless_same: bool = False,
    ) -> Any:
        """Write ``resource`` over a stored row, keeping its ``id`` and ``created`` (``kept``).

        ``unless_same`` (an update): nothing, and ``None``, when the resource is the
        stored one but for ``meta``.
        """
        from scimcore.codecs.v2 import encode

        new = stamp(
            resource,
            resource_id=kept[0],
            version='W/"0"',  # the next version is taken once the write is sure
            now=self.config.clock(),
            created=kept[1],
        )
        wire = encode(new, full=True)
        if unless_same and same_but_meta(wire, stored.wire):
            return None
        version = self._next_version(db)
        new.meta.version = wire["meta"]["version"] = f'W/"{version}"'
        model = type(new)
        search = search_document(wire, resource_type_of(model), registry_of(model))
        doc, members = self._members.split(name, wire)
        sdoc, search_members = self._members.split(name, search)
        search_text = storable_json(sdoc, "SQLiteStore")
        db.execute(
            "UPDATE scim_resources SET version = ?, doc = ?, sdoc = ? WHERE rid = ?",
            (version, storable_json(doc, "SQLiteStore"), search_text, stored.rid),
        )
        if name in self._members.types:
            old = stored.wire.get("members") or []
            self._members.replace(db, stored.rid, old, members, search_members)
        self._indexes.write(db, name, stored.rid, search, new, stored.search)
        return new

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Replace the stored resource with ``resource.id``."""
        name = self._name(type(resource))
        with self._database.write() as db:
            stored = self._stored(db, name, getattr(resource, "id", None))
            current = stored.resource
            check_version(expected_version, current.meta.version)
            kept = (current.id, current.meta.created)
            return self._rewrite(db, name, stored, kept, resource)  # type: ignore[no-any-return]

    def _update(
        self, model: type[R], resource_id: str, change: Change[R], expected_version: str | None
    ) -> R:
        """Read, change and write one resource in one transaction (see :class:`NativeUpdate`).

        A change that changes nothing takes no version number and writes no row.
        """
        name = self._name(model)
        with self._database.write() as db:
            stored = self._stored(db, name, resource_id)
            current = stored.resource
            kept = (current.id, current.meta.created)  # before ``change`` sees ``current``
            new = apply_change(change, current, expected_version)
            written = None
            if new is not None:
                written = self._rewrite(db, name, stored, kept, new, unless_same=True)
            if written is None:  # nothing changed: nothing written
                return self._decode_wire(name, stored.wire)  # type: ignore[no-any-return]
            return written  # type: ignore[no-any-return]

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the resource with this ``id``."""
        name = self._name(model)
        with self._database.write() as db:
            stored = self._stored(db, name, resource_id)
            check_version(expected_version, stored.resource.meta.version)
            self._indexes.remove(db, name, stored.rid, stored.search)
            self._members.clear(db, stored.rid)
            db.execute("DELETE FROM scim_resources WHERE rid = ?", (stored.rid,))

    # -- search ----------------------------------------------------------------------------

    def quick_search(self, query: Query) -> bool:
        """Whether the indexes answer ``query``, a few rows examined (``userName eq``, a
        page without ``sortBy``): the service then runs it on the event loop.

        >>> from scimcore.models import User
        >>> store = SQLiteStore(":memory:")
        >>> store.quick_search(Query(models=User, filter='userName eq "b"'))
        True
        >>> store.quick_search(Query(models=User, filter='title co "b"'))
        False
        >>> store.close()
        """
        return self.config.quick(query)

    def search(self, query: Query) -> Page[Any]:
        """Filter, sort and page in SQL (see :class:`~scimcore.storage.Query`)."""
        return self._search(query, self._load)

    def search_documents(self, query: Query) -> Page[dict[str, Any]]:
        """:meth:`search`, each resource as ``encode(resource, full=True)``.

        The models are never built: a service answering a list serves these
        wire documents as they are (after ``returned`` and the projection).
        """
        return self._search(query, self._load_documents)

    def _search(
        self, query: Query, load: Callable[[sqlite3.Connection, list[Any]], list[Any]]
    ) -> Page[Any]:
        where, key, params = self._searches.sql(query)
        fetch = rows_fetcher(
            where, key, params, offsets=query.cursor is None, document=self._document
        )
        # Without a cursor, one statement (its own read transaction) finds the page;
        # with one, the count, the page and a row past it come from one snapshot.
        with (
            self._database.read(transaction=query.cursor is not None) as db,
            bounded(db, query.deadline),
        ):
            steps = paging(query, self.cursors, fetch, key_of, functools.partial(load, db))
            return drive(steps, lambda statement: db.execute(*statement).fetchall())

    def _wires(self, db: sqlite3.Connection, rows: list[Any]) -> dict[int, str]:
        """The wire documents (JSON text) of the page's rows, by rid."""
        if rows and len(rows[0]) == 5:  # found with the total: the wire document is in the row
            return {row[0]: row[4] for row in rows}
        wires: dict[int, str] = {}
        rids = [row[0] for row in rows]
        for start in range(0, len(rids), 500):
            chunk = rids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            wires.update(
                db.execute(
                    f"SELECT d.rid, {self._document} FROM scim_resources AS d "
                    f"WHERE d.rid IN ({marks})",
                    chunk,
                )
            )
        return wires

    def _load(self, db: sqlite3.Connection, rows: list[Any]) -> list[Any]:
        """The resources of the page's rows, in order."""
        wires = self._wires(db, rows)
        return [self._decode(row[1], wires[row[0]]) for row in rows]

    def _load_documents(self, db: sqlite3.Connection, rows: list[Any]) -> list[Any]:
        """The wire documents of the page's rows, in order."""
        wires = self._wires(db, rows)
        return [json.loads(wires[row[0]]) for row in rows]

    def _member_lookup(self, group_model: type[Any]) -> tuple[str | None, Any]:
        """The ``members.value`` lookup key of a group type (``None`` when not indexed), and
        the attribute whose comparable form its values take."""
        name = self._name(group_model)
        lookup = self._member_lookups.get(name)
        if lookup is None:
            ref = registry_of(group_model).resolve(
                "members.value", resource_type=resource_type_of(group_model)
            )
            key = next(
                (
                    k
                    for k, keys in self.config.lookups[name].items()
                    if keys == ("members", "value")
                ),
                None,
            )
            lookup = self._member_lookups[name] = (key, None if ref is None else ref.target)
        return lookup

    def update_members(
        self,
        model: type[R],
        resource_id: str,
        values: Collection[str],
        change: Callable[[R], PatchResult[R]],
        *,
        expected_version: str | None = None,
    ) -> Meta | None:
        """Change a group's members as a delta, in one transaction (see
        :class:`~scimcore.storage.SupportsMemberUpdate`): the members a PATCH names are
        found by a seek in their rows (:mod:`._members`), and only the rows of the members
        added or removed are written, with one lookup row each: no member list is read.

        ``None`` (the whole-resource PATCH decides) without a ``members.value`` lookup,
        with another lookup or unique value under ``members``, or for a group that holds
        one value twice.

        >>> from scimcore.models import Group, GroupMember
        >>> from scimcore.patch import patch_result
        >>> store = SQLiteStore(":memory:")
        >>> group = store.create(Group(display_name="g", members=[GroupMember(value="u1")]))
        >>> add = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        ...        "Operations": [{"op": "add", "path": "members", "value": [{"value": "u2"}]}]}
        >>> store.update_members(Group, group.id, ["u2"], lambda g: patch_result(g, add)).version
        'W/"2"'
        >>> [m.value for m in store.get(Group, group.id).members]
        ['u1', 'u2']
        >>> store.close()
        """
        name = self._name(model)
        key, target = self.config.member_delta_key(name), self._member_lookup(model)[1]
        if key is None or target is None or name not in self._members.types:
            return None
        with self._database.write() as db:
            found = db.execute(
                "SELECT rid, doc FROM scim_resources WHERE resource_type = ? AND id = ?",
                (name, resource_id),
            ).fetchone()
            if found is None:
                raise self.config.not_found(name, resource_id)
            rid, shell = found[0], json.loads(found[1])
            check_version(expected_version, shell["meta"]["version"])
            wanted = sorted({comparable(v, target) for v in values})
            positions: dict[Any, int] = {}
            touched: list[Any] = []
            for seq, value, member in self._members.named(db, rid, wanted):
                if value in positions:
                    return None  # the same value twice
                positions[value] = seq
                touched.append(member)
            current: Any = self._decode_wire(name, {**shell, "members": touched})
            result = change(current)
            if not result.changed:
                return current.meta  # type: ignore[no-any-return]
            delta = member_delta(result, positions, lambda value: comparable(value, target))
            if delta is None:
                return None
            added, new_keys, removed = delta.added, delta.added_keys, delta.removed_keys
            version = self._next_version(db)
            small: Any = stamp(
                attrs.evolve(result.resource, members=added),  # type: ignore[misc]
                resource_id=resource_id,
                version=f'W/"{version}"',
                now=self.config.clock(),
                created=current.meta.created,
            )
            wire, search = self._documents(small)
            meta = storable_json(wire["meta"], "SQLiteStore")
            db.execute(
                "UPDATE scim_resources SET version = ?, doc = json_set(doc, '$.meta', json(?)), "
                "sdoc = json_set(sdoc, '$.meta', json(?)) WHERE rid = ?",
                (version, meta, storable_json(search["meta"], "SQLiteStore"), rid),
            )
            if removed:
                self._members.remove(db, rid, [positions[value] for value in removed])
                db.executemany(
                    "DELETE FROM scim_lookup WHERE key = ? AND value = ? AND rid = ?",
                    [(key, value, rid) for value in removed],
                )
            if added:
                self._members.write(
                    db,
                    rid,
                    wire["members"],
                    search["members"],
                    first=self._members.next_seq(db, rid),
                )
            if new_keys:
                db.executemany(
                    "INSERT OR IGNORE INTO scim_lookup (key, value, rid) VALUES (?, ?, ?)",
                    [(key, value, rid) for value in new_keys],
                )
            db.execute(*self._layout.row(name, rid, search))
            return small.meta  # type: ignore[no-any-return]

    def quick_memberships(self, group_model: type[Any]) -> bool:
        """Whether :meth:`memberships` reads an index (``members.value`` is a lookup, as
        by default): one seek an id, so the service runs it on the event loop."""
        name = self._name(group_model)
        return ("members", "value") in self.config.lookups[name].values()

    def memberships(
        self, group_model: type[Any], member_ids: Sequence[str]
    ) -> dict[str, list[tuple[str, str | None]]]:
        """The groups that list each of ``member_ids`` in ``members``: member id →
        ``[(group id, displayName)]`` in creation order (computed ``User.groups``).

        With ``members.value`` among the lookups (the default) this is one index
        seek per id, reading no member list; otherwise it searches.

        >>> from scimcore.models import Group, GroupMember, User
        >>> store = SQLiteStore(":memory:")
        >>> user = store.create(User(user_name="bjensen"))
        >>> group = store.create(Group(display_name="Staff", members=[GroupMember(value=user.id)]))
        >>> store.memberships(Group, [user.id]) == {user.id: [(group.id, "Staff")]}
        True
        >>> store.close()
        """
        found: dict[str, list[tuple[str, str | None]]] = {m: [] for m in member_ids}
        key, target = self._member_lookup(group_model)
        if key is None or target is None or not member_ids:
            return search_memberships(self, group_model, member_ids)
        wanted: dict[Any, list[str]] = {}
        for member_id in member_ids:
            wanted.setdefault(comparable(member_id, target), []).append(member_id)
        values = list(wanted)
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            rows = self._database.fetch(
                "SELECT l.value, r.id, json_extract(r.doc, '$.displayName') "
                "FROM scim_lookup AS l JOIN scim_resources AS r ON r.rid = l.rid "
                f"WHERE l.key = ? AND l.value IN ({', '.join('?' * len(chunk))}) "
                "ORDER BY r.rid",
                (key, *chunk),
            )
            for value, group_id, display in rows:
                for member_id in wanted.get(value, ()):
                    if all(g != group_id for g, _ in found[member_id]):
                        found[member_id].append((group_id, display))
        return found
