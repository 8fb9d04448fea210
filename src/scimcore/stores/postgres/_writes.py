"""The PostgreSQL store's reads and writes of one resource, each a generator of statements.

Concurrency: a write locks its row (``SELECT … FOR UPDATE``), checks
``expected_version``, writes and commits: two servers never lose each
other's changes. :func:`write` runs a change (a PATCH) on the locked row, so
concurrent PATCHes are serialised by the database rather than retried; the
delta attributes are written as the difference between the locked state and
the changed one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from scimcore.errors import InvalidValue
from scimcore.patch import PatchResult
from scimcore.storage._change import Change, apply_change, check_version, same_but_meta
from scimcore.storage._query import registry_of, resource_type_of
from scimcore.storage._values import comparable
from scimcore.stores._skeleton import member_delta, new_id, rows_to_rewrite, stamp
from scimcore.stores.postgres._config import PostgresConfig
from scimcore.stores.postgres._documents import (
    element_lookups,
    element_search_documents,
    json_text,
    lookups_of,
    parts,
    wire_expr,
)
from scimcore.stores.postgres._schema import array_literal
from scimcore.stores.postgres._statement import Ops, Statement
from scimcore.stores.sql._document import search_document

__all__ = [
    "create",
    "create_many",
    "decode",
    "delete",
    "get",
    "reindex",
    "update_members",
    "write",
]

R = TypeVar("R")


@attrs.frozen
class _Locked:
    """A row read under its lock: documents, the next version, the delta elements."""

    rid: int
    version: int
    wire: dict[str, Any]
    search: dict[str, Any]
    next_version: int
    elements: dict[str, list[tuple[int, dict[str, Any]]]]  # attr → [(seq, wire)]


def decode(config: PostgresConfig, name: str, wire: dict[str, Any]) -> Any:
    """The resource a wire document holds."""
    from scimcore.codecs.v2 import decode

    return decode(wire, config.by_name[name])


def _encode(resource: Any) -> dict[str, Any]:
    from scimcore.codecs.v2 import encode

    wire: dict[str, Any] = encode(resource, full=True)
    return wire


def _insert_children(
    rid: int,
    elements: Mapping[str, Sequence[tuple[dict[str, Any], Any]]],
    lookups: Iterable[tuple[str, str]],
) -> Ops[None]:
    """Insert delta elements and lookup values: one statement each, however many."""
    attrs_, wires, searches = [], [], []
    for attr, items in elements.items():
        for wire, search in items:
            attrs_.append(attr)
            wires.append(json_text(wire))
            searches.append(json_text(search))
    if wires:
        yield Statement(
            "INSERT INTO scim_values (rid, attr, doc, sdoc) SELECT %(rid)s, u.attr, u.doc, "
            "u.sdoc FROM unnest(%(attr)s::text[], %(doc)s::jsonb[], %(sdoc)s::jsonb[]) "
            "WITH ORDINALITY AS u(attr, doc, sdoc, n) ORDER BY u.n",
            {"rid": rid, "attr": attrs_, "doc": wires, "sdoc": searches},
        )
    found = sorted(lookups)
    if found:
        yield Statement(
            "INSERT INTO scim_lookup (key, value, rid) SELECT u.key, u.value, %(rid)s FROM "
            "unnest(%(key)s::text[], %(value)s::text[]) AS u(key, value) "
            "ON CONFLICT DO NOTHING",
            {"rid": rid, "key": [k for k, _ in found], "value": [v for _, v in found]},
        )


def create(config: PostgresConfig, resource: R) -> Ops[R]:
    """Insert a new resource (see :class:`~scimcore.storage.ResourceStore`)."""
    name = config.name(type(resource))
    resource_id = getattr(resource, "id", None) or new_id()
    rows = yield Statement("SELECT nextval('scim_version')")
    version = rows[0][0]
    stored = stamp(resource, resource_id=resource_id, version=f'W/"{version}"', now=config.clock())
    wire = _encode(stored)
    split = parts(config, name, wire)
    rows = yield Statement(
        "INSERT INTO scim_resources (resource_type, id, version, doc, sdoc) VALUES "
        "(%(t)s, %(id)s, %(v)s, %(doc)s::jsonb, %(sdoc)s::jsonb) RETURNING rid",
        {
            "t": name,
            "id": resource_id,
            "v": version,
            "sdoc": json_text(split.search),
            "doc": json_text(split.wire),
        },
    )
    yield from _insert_children(rows[0][0], split.elements, split.lookups)
    return decode(config, name, wire)  # type: ignore[no-any-return]


def create_many(
    config: PostgresConfig, resources: Iterable[Any], chunk: int = 1000
) -> Ops[list[Any]]:
    """Insert many new resources, a few statements per ``chunk``; return the stored copies."""
    created: list[Any] = []
    pending: list[Any] = []
    for resource in resources:
        pending.append(resource)
        if len(pending) >= chunk:
            created.extend((yield from _create_chunk(config, pending)))
            pending = []
    if pending:
        created.extend((yield from _create_chunk(config, pending)))
    return created


def _create_chunk(config: PostgresConfig, resources: Sequence[Any]) -> Ops[list[Any]]:
    rows = yield Statement(
        "SELECT nextval('scim_version') FROM generate_series(1, %(n)s)", {"n": len(resources)}
    )
    now = config.clock()
    names, ids, versions, wires, searches, all_parts, full = [], [], [], [], [], [], []
    for resource, (version,) in zip(resources, rows, strict=True):
        name = config.name(type(resource))
        resource_id = getattr(resource, "id", None) or new_id()
        stored = stamp(resource, resource_id=resource_id, version=f'W/"{version}"', now=now)
        wire = _encode(stored)
        split = parts(config, name, wire)
        full.append(wire)
        names.append(name)
        ids.append(resource_id)
        versions.append(version)
        searches.append(json_text(split.search))
        wires.append(json_text(split.wire))
        all_parts.append(split)
    rids = yield Statement(
        "INSERT INTO scim_resources (resource_type, id, version, doc, sdoc) "
        "SELECT u.t, u.id, u.v, u.doc, u.sdoc FROM "
        "unnest(%(t)s::text[], %(id)s::text[], %(v)s::bigint[], %(doc)s::jsonb[], "
        "%(sdoc)s::jsonb[]) WITH ORDINALITY AS u(t, id, v, doc, sdoc, n) ORDER BY n "
        "RETURNING rid, resource_type, id",
        {"t": names, "id": ids, "v": versions, "doc": wires, "sdoc": searches},
    )
    values: dict[str, list[Any]] = {"rid": [], "attr": [], "doc": [], "sdoc": []}
    lookups: dict[str, list[Any]] = {"key": [], "value": [], "rid": []}
    rid_of = {(name, resource_id): rid for rid, name, resource_id in rids}
    for name, resource_id, split in zip(names, ids, all_parts, strict=True):
        rid = rid_of[(name, resource_id)]
        for attr, items in split.elements.items():
            for element, search in items:
                values["rid"].append(rid)
                values["attr"].append(attr)
                values["doc"].append(json_text(element))
                values["sdoc"].append(json_text(search))
        for key, value in split.lookups:
            lookups["key"].append(key)
            lookups["value"].append(value)
            lookups["rid"].append(rid)
    if values["rid"]:
        yield Statement(
            "INSERT INTO scim_values (rid, attr, doc, sdoc) SELECT * FROM unnest("
            "%(rid)s::bigint[], %(attr)s::text[], %(doc)s::jsonb[], %(sdoc)s::jsonb[])",
            values,
        )
    if lookups["rid"]:
        yield Statement(
            "INSERT INTO scim_lookup (key, value, rid) SELECT * FROM unnest("
            "%(key)s::text[], %(value)s::text[], %(rid)s::bigint[])",
            lookups,
        )
    return [decode(config, name, wire) for name, wire in zip(names, full, strict=True)]


def get(config: PostgresConfig, model: type[R], resource_id: str) -> Ops[R]:
    """The resource of this model with this ``id``."""
    name = config.name(model)
    rows = yield Statement(
        f"SELECT {wire_expr(config, True)} FROM scim_resources AS r "
        "WHERE r.resource_type = %(t)s AND r.id = %(id)s",
        {"t": name, "id": resource_id},
        server=True,  # a seek on (resource_type, id): prepared once, never planned again
    )
    if not rows:
        raise config.not_found(name, resource_id)
    return decode(config, name, rows[0][0])  # type: ignore[no-any-return]


def _locked(
    config: PostgresConfig, name: str, resource_id: str | None, *, elements: bool = True
) -> Ops[_Locked]:
    """Lock the row, then read its delta elements (a statement of its own: a fresh
    snapshot, taken after the lock, so it sees what the last writer committed); without
    ``elements``, only the row (a member delta reads the few elements it needs)."""
    rows = yield Statement(
        "SELECT rid, version, doc, sdoc, nextval('scim_version') FROM scim_resources "
        "WHERE resource_type = %(t)s AND id = %(id)s FOR UPDATE",
        {"t": name, "id": resource_id or ""},
    )
    if not rows:
        raise config.not_found(name, resource_id)
    rid, version, wire, search, next_version = rows[0]
    found_elements: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    if elements and config.delta[name]:
        found = yield Statement(
            "SELECT attr, seq, doc FROM scim_values WHERE rid = %(rid)s ORDER BY attr, seq",
            {"rid": rid},
        )
        for attr, seq, element in found:
            found_elements.setdefault(attr, []).append((seq, element))
    return _Locked(rid, version, wire, search, next_version, found_elements)


def write(
    config: PostgresConfig,
    model: type[R],
    resource_id: str | None,
    change: Change[Any],
    expected_version: str | None,
    *,
    unless_same: bool,
) -> Ops[R]:
    """Lock, check the version, change, and write only what changed.

    ``change`` is a :class:`~scimcore.patch.PatchResult` or a function of the
    locked resource (:func:`scimcore.storage.update`); with ``unless_same`` (an
    update, not a replace), a new resource equal to the stored one but for
    ``meta`` writes nothing. The delta elements are diffed in order
    (:func:`~scimcore.stores._skeleton.rows_to_rewrite`) between the locked state and
    the changed resource: kept rows stay as they are, removed ones are deleted, the
    rest inserted after them, so the stored order is the new one; search documents
    are computed for the new elements only.
    """
    name = config.name(model)
    locked = yield from _locked(config, name, resource_id)
    check_version(expected_version, f'W/"{locked.version}"')
    full = dict(locked.wire)
    for attr, items in locked.elements.items():
        full[attr] = [element for _, element in items]
    current = decode(config, name, full)
    kept_id, created = str(current.id), current.meta.created  # before ``change`` sees it
    new = apply_change(change, current, None)
    if new is None:
        return decode(config, name, full)  # type: ignore[no-any-return]
    stored = stamp(
        new,
        resource_id=kept_id,
        version=f'W/"{locked.next_version}"',
        now=config.clock(),
        created=created,
    )
    new_wire = _encode(stored)
    if unless_same and same_but_meta(new_wire, full):
        return decode(config, name, full)  # type: ignore[no-any-return]
    model_ = config.by_name[name]
    resource_type, registry = resource_type_of(model_), registry_of(model_)
    delta = config.delta[name]
    base = {k: v for k, v in new_wire.items() if k.casefold() not in delta}
    search_base = search_document(base, resource_type, registry)
    base_text = json_text(search_base)
    final = dict(base)
    removed: list[int] = []
    added: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for folded, attr in delta.items():
        old_items = locked.elements.get(attr, [])
        new_items: list[Any] = next((v for k, v in new_wire.items() if k.casefold() == folded), [])
        if not isinstance(new_items, list):
            raise InvalidValue(f"'{attr}' must be a list.")
        gone, kept = rows_to_rewrite([element for _, element in old_items], new_items)
        removed.extend(old_items[index][0] for index in gone)
        fresh = new_items[kept:]
        searches = element_search_documents(config, name, attr, fresh)
        added[attr] = list(zip(fresh, searches, strict=True))
        if new_items:
            final[attr] = list(new_items)
    yield Statement(
        "UPDATE scim_resources SET version = %(v)s, doc = %(doc)s::jsonb, "
        "sdoc = %(sdoc)s::jsonb WHERE rid = %(rid)s",
        {"v": locked.next_version, "doc": json_text(base), "sdoc": base_text, "rid": locked.rid},
    )
    # Lookups of the row's own attributes: the difference of two small sets.
    old_lookups = lookups_of(config, name, locked.search)
    new_lookups = lookups_of(config, name, search_base)
    if old_lookups - new_lookups:
        yield from _unlookup(locked.rid, old_lookups - new_lookups)
    # Lookups of delta elements: a removed element's value goes unless another keeps it.
    if removed:
        rows = yield Statement(
            "DELETE FROM scim_values WHERE rid = %(rid)s AND seq = ANY(%(seqs)s) "
            "RETURNING attr, sdoc",
            {"rid": locked.rid, "seqs": removed},
        )
        for (key, keys), candidates in element_lookups(config, name, rows).items():
            yield Statement(
                "DELETE FROM scim_lookup AS l WHERE l.rid = %(rid)s AND l.key = %(key)s "
                "AND l.value = ANY(%(values)s) AND NOT EXISTS (SELECT 1 FROM scim_values "
                f"AS v WHERE v.rid = l.rid AND v.attr = %(attr)s AND "
                f"(v.sdoc #>> {array_literal(keys[1:])}) = l.value)",
                {
                    "rid": locked.rid,
                    "key": key,
                    "values": sorted(candidates),
                    "attr": delta[keys[0]],
                },
            )
    fresh_lookups = element_lookups(
        config, name, [(attr, search) for attr, items in added.items() for _, search in items]
    )
    yield from _insert_children(
        locked.rid,
        added,
        (new_lookups - old_lookups)
        | {(key, value) for (key, _), values in fresh_lookups.items() for value in values},
    )
    return decode(config, name, final)  # type: ignore[no-any-return]


def _unlookup(rid: int, gone: set[tuple[str, str]]) -> Ops[None]:
    yield Statement(
        "DELETE FROM scim_lookup WHERE rid = %(rid)s AND (key, value) IN "
        "(SELECT * FROM unnest(%(keys)s::text[], %(values)s::text[]))",
        {"rid": rid, "keys": [k for k, _ in gone], "values": [v for _, v in gone]},
    )


def delete(
    config: PostgresConfig, model: type[Any], resource_id: str, expected_version: str | None
) -> Ops[None]:
    """Delete one resource (its elements and lookups go with it)."""
    name = config.name(model)
    rows = yield Statement(
        "SELECT rid, version FROM scim_resources WHERE resource_type = %(t)s "
        "AND id = %(id)s FOR UPDATE",
        {"t": name, "id": resource_id},
    )
    if not rows:
        raise config.not_found(name, resource_id)
    check_version(expected_version, f'W/"{rows[0][1]}"')
    yield Statement("DELETE FROM scim_resources WHERE rid = %(rid)s", {"rid": rows[0][0]})


def reindex(config: PostgresConfig, batch: int = 1000) -> Ops[None]:
    """Rebuild search documents, delta rows and lookups from the stored wire documents.

    Rows are read ``batch`` at a time (in ``rid`` order), so a large table
    never sits in memory at once.
    """
    last = 0
    while True:
        rows = yield Statement(
            f"SELECT r.rid, r.resource_type, {wire_expr(config, True)} FROM scim_resources AS r "
            "WHERE r.rid > %(last)s ORDER BY r.rid LIMIT %(n)s",
            {"last": last, "n": batch},
        )
        if not rows:
            return
        last = rows[-1][0]
        rids = [rid for rid, _, _ in rows]
        yield Statement("DELETE FROM scim_lookup WHERE rid = ANY(%(r)s)", {"r": rids})
        yield Statement("DELETE FROM scim_values WHERE rid = ANY(%(r)s)", {"r": rids})
        for rid, name, wire in rows:
            if name not in config.by_name:
                continue
            split = parts(config, name, wire)
            yield Statement(
                "UPDATE scim_resources SET doc = %(doc)s::jsonb, sdoc = %(sdoc)s::jsonb "
                "WHERE rid = %(rid)s",
                {"doc": json_text(split.wire), "sdoc": json_text(split.search), "rid": rid},
            )
            yield from _insert_children(rid, split.elements, split.lookups)


def update_members(
    config: PostgresConfig,
    model: type[Any],
    resource_id: str,
    values: Collection[str],
    change: Callable[[Any], PatchResult[Any]],
    expected_version: str | None,
) -> Ops[Any]:
    """A member delta (:class:`~scimcore.storage.SupportsMemberUpdate`): lock the row, read
    only the ``members`` rows with those values, run ``change`` on them, delete and insert
    element rows. The new ``meta``, or ``None`` where a delta cannot be exact."""
    name = config.name(model)
    attr = config.delta[name].get("members")
    key = config.member_delta_key(name)
    ref = registry_of(model).resolve("members.value", resource_type=resource_type_of(model))
    if attr is None or key is None or ref is None:
        return None
    locked = yield from _locked(config, name, resource_id, elements=False)
    check_version(expected_version, f'W/"{locked.version}"')
    rid, base, search_base, next_version = (
        locked.rid,
        locked.wire,
        locked.search,
        locked.next_version,
    )
    wanted = sorted({comparable(v, ref.target) for v in values})
    rows = yield Statement(
        "SELECT count(*) FROM scim_lookup WHERE key = %(key)s AND value = ANY(%(values)s) "
        "AND rid = %(rid)s",
        {"key": key, "values": wanted, "rid": rid},
    )
    seqs: dict[str, int] = {}
    touched: list[dict[str, Any]] = []
    if rows[0][0]:  # some are members: find their rows (a scan of the group's, in SQL)
        found = yield Statement(
            "SELECT seq, doc, sdoc #>> '{value}' FROM scim_values WHERE rid = %(rid)s "
            "AND attr = %(attr)s AND (sdoc #>> '{value}') = ANY(%(values)s) ORDER BY seq",
            {"rid": rid, "attr": attr, "values": wanted},
        )
        for seq, element, folded in found:
            if folded in seqs:
                return None  # the same value twice: the whole-resource PATCH decides
            seqs[folded] = seq
            touched.append(element)
    current = decode(config, name, {**base, attr: touched})
    result = change(current)
    if not result.changed:
        return current.meta
    delta = member_delta(result, seqs, lambda value: comparable(value, ref.target))
    if delta is None:
        return None
    added, new_keys, removed = delta.added, delta.added_keys, delta.removed_keys
    small = stamp(
        attrs.evolve(result.resource, members=added),
        resource_id=resource_id,
        version=f'W/"{next_version}"',
        now=config.clock(),
        created=current.meta.created,
    )
    wire = _encode(small)
    new_base = {k: v for k, v in wire.items() if k.casefold() not in config.delta[name]}
    resource_type, registry = resource_type_of(model), registry_of(model)
    new_search = search_document(new_base, resource_type, registry)
    yield Statement(
        "UPDATE scim_resources SET version = %(v)s, doc = %(doc)s::jsonb, "
        "sdoc = %(sdoc)s::jsonb WHERE rid = %(rid)s",
        {"v": next_version, "doc": json_text(new_base), "sdoc": json_text(new_search), "rid": rid},
    )
    old_lookups = lookups_of(config, name, search_base)
    new_lookups = lookups_of(config, name, new_search)
    if old_lookups - new_lookups:
        yield from _unlookup(rid, old_lookups - new_lookups)
    if removed:
        yield Statement(
            "DELETE FROM scim_values WHERE rid = %(rid)s AND seq = ANY(%(seqs)s)",
            {"rid": rid, "seqs": [seqs[k] for k in removed]},
        )
        yield from _unlookup(rid, {(key, value) for value in removed})
    fresh: list[dict[str, Any]] = next(
        (v for k, v in wire.items() if k.casefold() == "members"), []
    )
    searches = element_search_documents(config, name, attr, fresh)
    yield from _insert_children(
        rid,
        {attr: list(zip(fresh, searches, strict=True))},
        (new_lookups - old_lookups) | {(key, value) for value in new_keys},
    )
    return small.meta
