"""PostgresStore: several SCIM servers, one PostgreSQL database, nothing lost.

Theory of operation
-------------------

Tables (in the store's ``schema``; ``scimcore db init`` and ``db upgrade`` create and migrate them):

- ``scim_resources (rid, resource_type, id, version, doc, sdoc)``: one row per
  resource. ``rid`` is the creation sequence (the final tie-break of every
  order and of RFC 9865 cursors); ``doc`` is ``encode(resource, full=True)`` as
  ``jsonb``; ``sdoc`` is the *search document* (:mod:`scimcore.stores.sql`): the
  same values in comparable form, strings of ``caseExact: false`` attributes
  folded **in Python** (NFC + Unicode casefold, the evaluator's rule;
  PostgreSQL's ``lower()`` is not a case fold: ``lower('STRASSE') <> lower('straße')``).
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
- Expression indexes: a UNIQUE index per uniqueness rule on the folded value
  (``(sdoc #>> '{username}')`` where ``resource_type = 'user'``): the
  *database* refuses a second ``BJensen``, whichever server asks; and sort
  indexes (``userName``, ``displayName``) whose expressions are exactly the
  ``ORDER BY`` the store writes, so a sorted page of 100 is an index scan.
- ``scim_version``: a sequence; every write takes the next value (``W/"n"``).

Concurrency: a write locks its row (``SELECT … FOR UPDATE``), checks
``expected_version``, writes and commits: two servers never lose each
other's changes. :meth:`PostgresStore.update` runs a change (a PATCH) on the
locked row, so concurrent PATCHes are serialised by the database rather than
retried; the delta attributes are written as the difference between the
locked state and the changed one. A search reads its count and its page in one
``REPEATABLE READ`` snapshot.

Every operation is written once, as a generator of SQL statements
(``_Ops``); :class:`PostgresStore` drives it on a psycopg connection pool and
:class:`AsyncPostgresStore` on an async pool. Statements are bound
client-side (psycopg's ``ClientCursor``): values stay parameters for the code
that writes SQL, and the server sees constants, which it needs to match
expression and partial indexes.
"""

from __future__ import annotations

import collections
import contextlib
import decimal
import hashlib
import json
import re
import secrets
import unicodedata
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from scimcore._json import compact
from scimcore.errors import (
    InternalServerError,
    InvalidValue,
    NotFound,
    PreconditionFailed,
    ScimError,
    Uniqueness,
)
from scimcore.filter import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath
from scimcore.schema import AttributeRef
from scimcore.storage._cursor import CursorCodec, Position, SortKey
from scimcore.storage._query import Page, Query, registry_of, resolve_sorts, resource_type_of
from scimcore.storage._values import versions_match
from scimcore.stores._common import (
    DEFAULT_LOOKUPS,
    Clock,
    UniqueRule,
    check_models,
    lookup_refs,
    new_id,
    stamp,
    unique_rules,
    unknown_model,
    utcnow,
)
from scimcore.stores._memory import default_models, predicate, search_policy
from scimcore.stores.sql._compiler import FilterCompiler, kind_of
from scimcore.stores.sql._document import document_keys, search_document, search_values
from scimcore.stores.sql._postgres import PostgresDialect

__all__ = [
    "DEFAULT_DELTA",
    "DEFAULT_SORTS",
    "SCHEMA_VERSION",
    "AsyncPostgresStore",
    "PostgresStore",
]

R = TypeVar("R")
T = TypeVar("T")

#: The version of the table layout this code writes; ``scimcore db upgrade`` migrates older ones.
SCHEMA_VERSION = 1

#: Multi-valued attributes kept one element per row and written as deltas.
DEFAULT_DELTA: Mapping[str, tuple[str, ...]] = {"Group": ("members",)}

#: Attributes with a sort index (resource type → attribute paths).
DEFAULT_SORTS: Mapping[str, tuple[str, ...]] = {"User": ("userName",), "Group": ("displayName",)}

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

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

_CONSTRAINT_ID = "scim_resources_id"


@attrs.frozen
class _Sql:
    """One statement an operation asks its driver to run; the driver sends back the rows."""

    text: str
    params: Any = None


Ops = Generator[_Sql, list[tuple[Any, ...]], T]


@attrs.frozen
class _Parts:
    """A resource split for its tables: the row's documents and the delta elements."""

    doc: dict[str, Any]
    sdoc: dict[str, Any]
    elements: dict[str, list[tuple[dict[str, Any], Any]]]  # wire attr → [(doc, sdoc)]
    lookups: set[tuple[str, str]]


@attrs.frozen
class _Locked:
    """A row read under its lock: documents, the next version, the delta elements."""

    rid: int
    version: int
    doc: dict[str, Any]
    sdoc: dict[str, Any]
    next_version: int
    elements: dict[str, list[tuple[int, dict[str, Any]]]]  # attr → [(seq, doc)]


def _without_meta(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "meta"}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _dumps(value: Any) -> str:
    text = compact(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValue("A string holds a lone surrogate, which is not valid Unicode.") from None
    return text


def _element_key(doc: Any) -> Any:
    """A hashable key equal for equal elements, whatever their key order."""
    if isinstance(doc, dict):
        try:
            return frozenset(doc.items())
        except TypeError:
            pass
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _diff(old: Sequence[tuple[int, Any]], new: Sequence[Any]) -> tuple[list[int], list[Any]]:
    """A multiset difference: the ``seq`` of the old elements to delete, the new ones to add.

    The common prefix is skipped first (compared in C): a PATCH that appends
    members to a large group compares, and hashes nothing.
    """
    prefix = 0
    for (_, element), candidate in zip(old, new, strict=False):
        if element != candidate:
            break
        prefix += 1
    wanted = collections.Counter(_element_key(d) for d in new[prefix:])
    gone = []
    for seq, element in old[prefix:]:
        key = _element_key(element)
        if wanted[key] > 0:
            wanted[key] -= 1
        else:
            gone.append(seq)
    fresh = []
    for element in new[prefix:]:
        key = _element_key(element)
        if wanted[key] > 0:
            wanted[key] -= 1
            fresh.append(element)
    return gone, fresh


def _plain(value: Any) -> Any:
    """A sort value read from PostgreSQL, as the cursor codec (JSON) and Python compare it."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# -- filters: what PostgreSQL text cannot hold ---------------------------------------------


def _without_nul(
    node: Filter, known: Callable[[AttrPath, AttrPath | None], bool], parent: AttrPath | None = None
) -> Filter:
    """The filter with every compared string free of U+0000, which PostgreSQL cannot bind.

    No stored string holds U+0000 (the store refuses it), so for a needle
    ``p + "\x00" + rest`` on a ``known`` attribute: ``eq``, ``co``, ``sw``, ``ew``
    match nothing (written ``pr and not pr``, so that ``ne`` and ``not`` negate
    it as the evaluator does); ``gt``/``ge`` are ``gt p``; ``lt``/``le`` are
    ``le p``. An unknown attribute's comparison is false whatever its value (the
    compiler binds nothing for it), so it is left as it is.
    """
    if isinstance(node, And):
        return And(tuple(_without_nul(o, known, parent) for o in node.operands))
    if isinstance(node, Or):
        return Or(tuple(_without_nul(o, known, parent) for o in node.operands))
    if isinstance(node, Not):
        return Not(_without_nul(node.operand, known, parent))
    if isinstance(node, ValuePath):
        return ValuePath(node.path, _without_nul(node.filter, known, node.path))
    if (
        isinstance(node, Compare)
        and isinstance(node.value, str)
        and "\x00" in node.value
        and known(node.path, parent)
    ):
        prefix = node.value[: node.value.index("\x00")]
        if node.op in ("gt", "ge"):
            return Compare(node.path, "gt", prefix)
        if node.op in ("lt", "le"):
            return Compare(node.path, "le", prefix)
        never = And((Present(node.path), Not(Present(node.path))))
        return Not(never) if node.op == "ne" else never
    return node


def _known(model: type[Any]) -> Callable[[AttrPath, AttrPath | None], bool]:
    """Whether a filter path names an attribute of ``model`` (inside ``parent[…]`` if given)."""
    registry, resource_type = registry_of(model), resource_type_of(model)

    def known(path: AttrPath, parent: AttrPath | None) -> bool:
        if parent is None:
            return registry.resolve(str(path), resource_type=resource_type) is not None
        if path.urn is not None or path.sub is not None:
            return False
        owner = registry.resolve(str(parent), resource_type=resource_type)
        if owner is None:
            return False
        if not owner.target.is_complex:
            return path.name.casefold() == "value"
        return owner.target.sub_attribute(path.name) is not None

    return known


def _paths(node: Filter) -> Iterable[Any]:
    if isinstance(node, And | Or):
        for operand in node.operands:
            yield from _paths(operand)
    elif isinstance(node, Not):
        yield from _paths(node.operand)
    elif isinstance(node, Compare | Present | ValuePath):
        yield node.path


class _Ops:
    """Everything but I/O: configuration, and each operation as a generator of statements."""

    def __init__(
        self,
        schema: str | None,
        models: Iterable[type[Any]] | None,
        unique: Mapping[str, Sequence[str]] | None,
        lookups: Mapping[str, Sequence[str]] | None,
        delta: Mapping[str, Sequence[str]] | None,
        sorts: Mapping[str, Sequence[str]] | None,
        clock: Clock,
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema must be a lower-case SQL identifier, not {schema!r}")
        self.schema = schema
        self.models = tuple(models) if models is not None else default_models()
        self._by_name = check_models(self.models)
        extra = {k.casefold(): tuple(v) for k, v in (unique or {}).items()}
        self._rules: dict[str, tuple[UniqueRule, ...]] = {
            name: unique_rules(model, extra.get(name, ())) for name, model in self._by_name.items()
        }
        wanted = {k.casefold(): tuple(v) for k, v in (lookups or DEFAULT_LOOKUPS).items()}
        self._lookups: dict[str, dict[str, tuple[str, ...]]] = {
            name: lookup_refs(model, wanted.get(name, ())) for name, model in self._by_name.items()
        }
        for name, model in self._by_name.items():
            for path in wanted.get(name, ()):
                ref = registry_of(model).resolve(path, resource_type=resource_type_of(model))
                if ref is not None and kind_of(ref.target) != "text":
                    raise ValueError(
                        f"{model.__name__}.{path}: PostgresStore indexes text lookups only"
                    )
        deltas = {
            k.casefold(): tuple(v) for k, v in (DEFAULT_DELTA if delta is None else delta).items()
        }
        self._delta: dict[str, dict[str, str]] = {}  # type → folded attr → wire name
        for name, model in self._by_name.items():
            found: dict[str, str] = {}
            schema_ = model.__scim_schema__
            for path in deltas.get(name, ()):
                attribute = schema_.attribute(path)
                if attribute is None or not attribute.multi_valued:
                    raise ValueError(f"{model.__name__}.{path} is not a multi-valued attribute")
                found[attribute.name.casefold()] = attribute.name
            self._delta[name] = found
        wanted_sorts = {
            k.casefold(): tuple(v) for k, v in (DEFAULT_SORTS if sorts is None else sorts).items()
        }
        self._sorts: dict[str, tuple[AttributeRef, ...]] = {}
        for name, model in self._by_name.items():
            refs = []
            for path in wanted_sorts.get(name, ()):
                ref = registry_of(model).resolve(path, resource_type=resource_type_of(model))
                if ref is None or any(a.multi_valued for a in ref.chain) or ref.target.is_complex:
                    raise ValueError(
                        f"{model.__name__}.{path}: a sort index needs a singular, simple attribute"
                    )
                refs.append(ref)
            self._sorts[name] = tuple(refs)
        self._unique_names: dict[str, UniqueRule] = {}
        for rules in self._rules.values():
            for rule in rules:
                if any(a.multi_valued for a in rule.ref.chain):
                    raise ValueError(
                        f"{rule.name}: PostgresStore enforces uniqueness of singular "
                        "attributes only"
                    )
                self._unique_names[self._index_name("scim_unique", rule.key)] = rule
        self._clock = clock

    @staticmethod
    def _index_name(prefix: str, key: str) -> str:
        return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:16]}"

    # -- names and errors ------------------------------------------------------------------

    def _name(self, model: type[Any]) -> str:
        name = resource_type_of(model).name.casefold()
        if self._by_name.get(name) is not model:
            raise unknown_model(model)
        return name

    def unique_error(self, constraint: str | None, detail: str) -> ScimError:
        """The Uniqueness error for a violated unique index or constraint."""
        if constraint == _CONSTRAINT_ID:
            return Uniqueness("id is already taken.")
        rule = self._unique_names.get(constraint or "")
        if rule is not None:
            found = re.search(r"=\((.*)\) already exists", detail or "")
            value = found.group(1) if found else "the value"
            return Uniqueness(f"{rule.name} {value!r} is already taken.")
        return Uniqueness("A unique value is already taken.")

    # -- schema ----------------------------------------------------------------------------

    def _index_digest(self) -> str:
        data = {
            "unicode": unicodedata.unidata_version,
            "lookups": {name: sorted(keys) for name, keys in self._lookups.items()},
            "delta": {name: sorted(d) for name, d in self._delta.items()},
            "documents": 1,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def _index_ddl(self) -> list[str]:
        """The expression indexes: one UNIQUE per uniqueness rule, one per sort index."""
        statements = []
        for name, rules in self._rules.items():
            for rule in rules:
                value = f"(sdoc #>> {_array_literal(rule.keys)})"
                index = self._index_name("scim_unique", rule.key)
                statements.append(
                    f"CREATE UNIQUE INDEX IF NOT EXISTS {index} "
                    f"ON scim_resources ({value}) WHERE resource_type = {_literal(name)} "
                    f"AND {value} <> ''"
                )
        for name, refs in self._sorts.items():
            model = self._by_name[name]
            for ref in refs:
                key = self._plain_sort_key(model, ref, "sdoc")
                statements.append(
                    f"CREATE INDEX IF NOT EXISTS "
                    f"{self._index_name('scim_sort', name + '/' + ref.dotted.casefold())} "
                    f"ON scim_resources (({key} IS NULL), ({key}), rid) "
                    f"WHERE resource_type = {_literal(name)}"
                )
        return statements

    def setup(self, *, create: bool = True, upgrade: bool = False) -> Ops[bytes]:
        """Check the tables, creating (``create``) or migrating (``upgrade``) them if asked.

        Returns the cursor secret. Runs under an advisory lock, so that servers
        starting together do not race to create the same tables.
        """
        lock = f"scimcore:{self.schema or ''}"
        yield _Sql("SELECT pg_advisory_xact_lock(hashtext(%(k)s))", {"k": lock})
        if self.schema is not None:
            yield _Sql(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
        exists = yield _Sql("SELECT to_regclass('scim_meta') IS NOT NULL")
        meta: dict[str, str] = {}
        if exists[0][0]:
            meta = dict((yield _Sql("SELECT key, value FROM scim_meta")))
        if not meta and not create:
            raise InternalServerError(
                "The database has no scimcore tables: run 'scimcore db init'."
            )
        version = int(meta.get("schema_version", SCHEMA_VERSION))
        if version > SCHEMA_VERSION:
            raise InternalServerError(
                f"The database has layout {version}; this scimcore knows {SCHEMA_VERSION}."
            )
        if version < SCHEMA_VERSION and not upgrade:
            raise InternalServerError(
                f"The database has layout {version}: run 'scimcore db upgrade'."
            )
        for statement in _TABLES:
            yield _Sql(statement)
        while version < SCHEMA_VERSION:
            for statement in MIGRATIONS[version]:
                yield _Sql(statement)
            version += 1
        yield _Sql(
            "INSERT INTO scim_meta VALUES ('schema_version', %(v)s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            {"v": str(version)},
        )
        yield _Sql(
            "INSERT INTO scim_meta VALUES ('cursor_secret', %(s)s) ON CONFLICT (key) DO NOTHING",
            {"s": secrets.token_hex(32)},
        )
        for statement in self._index_ddl():
            yield _Sql(statement)
        digest = self._index_digest()
        if meta.get("index_digest") != digest:
            yield from self._reindex()
            yield _Sql(
                "INSERT INTO scim_meta VALUES ('index_digest', %(d)s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                {"d": digest},
            )
        rows = yield _Sql("SELECT value FROM scim_meta WHERE key = 'cursor_secret'")
        return bytes.fromhex(rows[0][0])

    def _reindex(self, batch: int = 1000) -> Ops[None]:
        """Rebuild search documents, delta rows and lookups from the stored documents.

        Rows are read ``batch`` at a time (in ``rid`` order), so a large table
        never sits in memory at once.
        """
        last = 0
        while True:
            rows = yield _Sql(
                f"SELECT r.rid, r.resource_type, {self._doc_expr(True)} FROM scim_resources AS r "
                "WHERE r.rid > %(last)s ORDER BY r.rid LIMIT %(n)s",
                {"last": last, "n": batch},
            )
            if not rows:
                return
            last = rows[-1][0]
            rids = [rid for rid, _, _ in rows]
            yield _Sql("DELETE FROM scim_lookup WHERE rid = ANY(%(r)s)", {"r": rids})
            yield _Sql("DELETE FROM scim_values WHERE rid = ANY(%(r)s)", {"r": rids})
            for rid, name, doc in rows:
                if name not in self._by_name:
                    continue
                parts = self._parts(name, doc)
                yield _Sql(
                    "UPDATE scim_resources SET doc = %(doc)s::jsonb, sdoc = %(sdoc)s::jsonb "
                    "WHERE rid = %(rid)s",
                    {"doc": _dumps(parts.doc), "sdoc": _dumps(parts.sdoc), "rid": rid},
                )
                yield from self._insert_children(rid, parts.elements, parts.lookups)

    # -- documents -------------------------------------------------------------------------

    def _parts(self, name: str, doc: dict[str, Any]) -> _Parts:
        model = self._by_name[name]
        resource_type = resource_type_of(model)
        registry = registry_of(model)
        full = search_document(doc, resource_type, registry)
        if _has_nul(full):
            raise InvalidValue("PostgreSQL cannot store U+0000 in a string.")
        lookups = self._lookups_of(name, full)
        delta = self._delta[name]
        if not delta:
            return _Parts(doc, full, {}, lookups)
        base = {k: v for k, v in doc.items() if k.casefold() not in delta}
        sbase = {k: v for k, v in full.items() if k not in delta}
        elements: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        for key, value in doc.items():
            folded = key.casefold()
            if folded not in delta or not isinstance(value, list):
                continue
            sdocs = full.get(folded, [])
            if len(sdocs) != len(value):
                sdocs = [
                    search_document({key: [v]}, resource_type, registry).get(folded, [{}])[0]
                    for v in value
                ]
            elements[delta[folded]] = list(zip(value, sdocs, strict=True))
        return _Parts(base, sbase, elements, lookups)

    def _doc_expr(self, members: bool, alias: str = "r") -> str:
        """The resource's wire document, with its delta elements when ``members``."""
        if not members or not any(self._delta.values()):
            return f"{alias}.doc"
        return (
            f"({alias}.doc || COALESCE((SELECT jsonb_object_agg(x.attr, x.docs) FROM (SELECT "
            f"v.attr, jsonb_agg(v.doc ORDER BY v.seq) AS docs FROM scim_values AS v WHERE "
            f"v.rid = {alias}.rid GROUP BY v.attr) AS x), '{{}}'::jsonb))"
        )

    def _sdoc_expr(self) -> str:
        return (
            "(r.sdoc || COALESCE((SELECT jsonb_object_agg(lower(x.attr), x.sdocs) FROM (SELECT "
            "v.attr, jsonb_agg(v.sdoc ORDER BY v.seq) AS sdocs FROM scim_values AS v WHERE "
            "v.rid = r.rid GROUP BY v.attr) AS x), '{}'::jsonb))"
        )

    def _decode(self, name: str, doc: dict[str, Any]) -> Any:
        from scimcore.codecs.v2 import decode

        return decode(doc, self._by_name[name])

    def _encode(self, resource: Any) -> dict[str, Any]:
        from scimcore.codecs.v2 import encode

        doc: dict[str, Any] = encode(resource, full=True)
        return doc

    def _insert_children(
        self,
        rid: int,
        elements: Mapping[str, Sequence[tuple[dict[str, Any], Any]]],
        lookups: Iterable[tuple[str, str]],
    ) -> Ops[None]:
        """Insert delta elements and lookup values: one statement each, however many."""
        attrs_, docs, sdocs = [], [], []
        for attr, items in elements.items():
            for doc, sdoc in items:
                attrs_.append(attr)
                docs.append(_dumps(doc))
                sdocs.append(_dumps(sdoc))
        if docs:
            yield _Sql(
                "INSERT INTO scim_values (rid, attr, doc, sdoc) SELECT %(rid)s, u.attr, u.doc, "
                "u.sdoc FROM unnest(%(attr)s::text[], %(doc)s::jsonb[], %(sdoc)s::jsonb[]) "
                "WITH ORDINALITY AS u(attr, doc, sdoc, n) ORDER BY u.n",
                {"rid": rid, "attr": attrs_, "doc": docs, "sdoc": sdocs},
            )
        found = sorted(lookups)
        if found:
            yield _Sql(
                "INSERT INTO scim_lookup (key, value, rid) SELECT u.key, u.value, %(rid)s FROM "
                "unnest(%(key)s::text[], %(value)s::text[]) AS u(key, value) "
                "ON CONFLICT DO NOTHING",
                {"rid": rid, "key": [k for k, _ in found], "value": [v for _, v in found]},
            )

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> Ops[R]:
        """Insert a new resource (see :class:`~scimcore.storage.ResourceStore`)."""
        name = self._name(type(resource))
        resource_id = getattr(resource, "id", None) or new_id()
        rows = yield _Sql("SELECT nextval('scim_version')")
        version = rows[0][0]
        stored = stamp(
            resource, resource_id=resource_id, version=f'W/"{version}"', now=self._clock()
        )
        doc = self._encode(stored)
        parts = self._parts(name, doc)
        rows = yield _Sql(
            "INSERT INTO scim_resources (resource_type, id, version, doc, sdoc) VALUES "
            "(%(t)s, %(id)s, %(v)s, %(doc)s::jsonb, %(sdoc)s::jsonb) RETURNING rid",
            {
                "t": name,
                "id": resource_id,
                "v": version,
                "doc": _dumps(parts.doc),
                "sdoc": _dumps(parts.sdoc),
            },
        )
        yield from self._insert_children(rows[0][0], parts.elements, parts.lookups)
        return self._decode(name, doc)  # type: ignore[no-any-return]

    def create_many(self, resources: Iterable[Any], chunk: int = 1000) -> Ops[list[Any]]:
        """Insert many new resources, a few statements per ``chunk``; return the stored copies."""
        created: list[Any] = []
        pending: list[Any] = []
        for resource in resources:
            pending.append(resource)
            if len(pending) >= chunk:
                created.extend((yield from self._create_chunk(pending)))
                pending = []
        if pending:
            created.extend((yield from self._create_chunk(pending)))
        return created

    def _create_chunk(self, resources: Sequence[Any]) -> Ops[list[Any]]:
        rows = yield _Sql(
            "SELECT nextval('scim_version') FROM generate_series(1, %(n)s)", {"n": len(resources)}
        )
        now = self._clock()
        names, ids, versions, docs, sdocs, all_parts, full = [], [], [], [], [], [], []
        for resource, (version,) in zip(resources, rows, strict=True):
            name = self._name(type(resource))
            resource_id = getattr(resource, "id", None) or new_id()
            stored = stamp(resource, resource_id=resource_id, version=f'W/"{version}"', now=now)
            doc = self._encode(stored)
            parts = self._parts(name, doc)
            full.append(doc)
            names.append(name)
            ids.append(resource_id)
            versions.append(version)
            docs.append(_dumps(parts.doc))
            sdocs.append(_dumps(parts.sdoc))
            all_parts.append(parts)
        rids = yield _Sql(
            "INSERT INTO scim_resources (resource_type, id, version, doc, sdoc) "
            "SELECT u.t, u.id, u.v, u.doc, u.sdoc FROM "
            "unnest(%(t)s::text[], %(id)s::text[], %(v)s::bigint[], %(doc)s::jsonb[], "
            "%(sdoc)s::jsonb[]) WITH ORDINALITY AS u(t, id, v, doc, sdoc, n) ORDER BY n "
            "RETURNING rid, resource_type, id",
            {"t": names, "id": ids, "v": versions, "doc": docs, "sdoc": sdocs},
        )
        values: dict[str, list[Any]] = {"rid": [], "attr": [], "doc": [], "sdoc": []}
        lookups: dict[str, list[Any]] = {"key": [], "value": [], "rid": []}
        rid_of = {(name, resource_id): rid for rid, name, resource_id in rids}
        for name, resource_id, parts in zip(names, ids, all_parts, strict=True):
            rid = rid_of[(name, resource_id)]
            for attr, items in parts.elements.items():
                for element, sdoc in items:
                    values["rid"].append(rid)
                    values["attr"].append(attr)
                    values["doc"].append(_dumps(element))
                    values["sdoc"].append(_dumps(sdoc))
            for key, value in parts.lookups:
                lookups["key"].append(key)
                lookups["value"].append(value)
                lookups["rid"].append(rid)
        if values["rid"]:
            yield _Sql(
                "INSERT INTO scim_values (rid, attr, doc, sdoc) SELECT * FROM unnest("
                "%(rid)s::bigint[], %(attr)s::text[], %(doc)s::jsonb[], %(sdoc)s::jsonb[])",
                values,
            )
        if lookups["rid"]:
            yield _Sql(
                "INSERT INTO scim_lookup (key, value, rid) SELECT * FROM unnest("
                "%(key)s::text[], %(value)s::text[], %(rid)s::bigint[])",
                lookups,
            )
        return [self._decode(name, doc) for name, doc in zip(names, full, strict=True)]

    def get(self, model: type[R], resource_id: str) -> Ops[R]:
        """The resource of this model with this ``id``."""
        name = self._name(model)
        rows = yield _Sql(
            f"SELECT {self._doc_expr(True)} FROM scim_resources AS r "
            "WHERE r.resource_type = %(t)s AND r.id = %(id)s",
            {"t": name, "id": resource_id},
        )
        if not rows:
            raise NotFound(f"{model.__name__} {resource_id!r} not found.")
        return self._decode(name, rows[0][0])  # type: ignore[no-any-return]

    def _locked(self, name: str, resource_id: str | None) -> Ops[_Locked]:
        """Lock the row, then read its delta elements (a statement of its own: a fresh
        snapshot, taken after the lock, so it sees what the last writer committed)."""
        rows = yield _Sql(
            "SELECT rid, version, doc, sdoc, nextval('scim_version') FROM scim_resources "
            "WHERE resource_type = %(t)s AND id = %(id)s FOR UPDATE",
            {"t": name, "id": resource_id or ""},
        )
        if not rows:
            raise NotFound(f"{self._by_name[name].__name__} {resource_id!r} not found.")
        rid, version, doc, sdoc, next_version = rows[0]
        elements: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        if self._delta[name]:
            found = yield _Sql(
                "SELECT attr, seq, doc FROM scim_values WHERE rid = %(rid)s ORDER BY attr, seq",
                {"rid": rid},
            )
            for attr, seq, element in found:
                elements.setdefault(attr, []).append((seq, element))
        return _Locked(rid, version, doc, sdoc, next_version, elements)

    def _lookups_of(self, name: str, sdoc: Mapping[str, Any]) -> set[tuple[str, str]]:
        return {
            (key, value)
            for key, keys in self._lookups[name].items()
            for value in search_values(sdoc, keys)
            if isinstance(value, str)
        }

    def write(
        self,
        model: type[R],
        resource_id: str | None,
        change: Callable[[Any], Any],
        expected_version: str | None,
        *,
        skip_unchanged: bool,
    ) -> Ops[R]:
        """Lock, check the version, change, and write only what changed.

        The delta elements are diffed (as multisets) between the locked state
        and the changed resource: kept rows stay as they are, removed ones are
        deleted, new ones inserted; search documents are computed for the new
        elements only.
        """
        from scimcore.patch import PatchResult

        name = self._name(model)
        locked = yield from self._locked(name, resource_id)
        if not versions_match(expected_version, f'W/"{locked.version}"'):
            raise PreconditionFailed()
        full = dict(locked.doc)
        for attr, items in locked.elements.items():
            full[attr] = [element for _, element in items]
        current = self._decode(name, full)
        meta = current.meta
        new = change(current)
        if isinstance(new, PatchResult):
            if not new.changed:
                return self._decode(name, full)  # type: ignore[no-any-return]
            new = new.resource
        stored = stamp(
            new,
            resource_id=str(current.id),
            version=f'W/"{locked.next_version}"',
            now=self._clock(),
            created=meta.created,
        )
        new_doc = self._encode(stored)
        if skip_unchanged and _without_meta(new_doc) == _without_meta(full):
            return self._decode(name, full)  # type: ignore[no-any-return]
        model_ = self._by_name[name]
        resource_type, registry = resource_type_of(model_), registry_of(model_)
        delta = self._delta[name]
        base = {k: v for k, v in new_doc.items() if k.casefold() not in delta}
        sbase = search_document(base, resource_type, registry)
        if _has_nul(sbase):
            raise InvalidValue("PostgreSQL cannot store U+0000 in a string.")
        final = dict(base)
        removed: list[int] = []
        added: dict[str, list[tuple[dict[str, Any], Any]]] = {}
        for folded, attr in delta.items():
            old_items = locked.elements.get(attr, [])
            new_items: list[Any] = next(
                (v for k, v in new_doc.items() if k.casefold() == folded), []
            )
            if not isinstance(new_items, list):
                raise InvalidValue(f"'{attr}' must be a list.")
            gone, fresh_docs = _diff(old_items, new_items)
            removed.extend(gone)
            added[attr] = list(
                zip(fresh_docs, self._element_sdocs(name, attr, fresh_docs), strict=True)
            )
            if new_items:
                dropped = set(gone)
                kept = [element for seq, element in old_items if seq not in dropped]
                final[attr] = kept + fresh_docs
        yield _Sql(
            "UPDATE scim_resources SET version = %(v)s, doc = %(doc)s::jsonb, "
            "sdoc = %(sdoc)s::jsonb WHERE rid = %(rid)s",
            {
                "v": locked.next_version,
                "doc": _dumps(base),
                "sdoc": _dumps(sbase),
                "rid": locked.rid,
            },
        )
        # Lookups of the row's own attributes: the difference of two small sets.
        old_lookups = self._lookups_of(name, locked.sdoc)
        new_lookups = self._lookups_of(name, sbase)
        if old_lookups - new_lookups:
            yield from self._unlookup(locked.rid, old_lookups - new_lookups)
        # Lookups of delta elements: a removed element's value goes unless another keeps it.
        if removed:
            rows = yield _Sql(
                "DELETE FROM scim_values WHERE rid = %(rid)s AND seq = ANY(%(seqs)s) "
                "RETURNING attr, sdoc",
                {"rid": locked.rid, "seqs": removed},
            )
            for (key, keys), candidates in self._element_lookups(name, rows).items():
                yield _Sql(
                    "DELETE FROM scim_lookup AS l WHERE l.rid = %(rid)s AND l.key = %(key)s "
                    "AND l.value = ANY(%(values)s) AND NOT EXISTS (SELECT 1 FROM scim_values "
                    f"AS v WHERE v.rid = l.rid AND v.attr = %(attr)s AND "
                    f"(v.sdoc #>> {_array_literal(keys[1:])}) = l.value)",
                    {
                        "rid": locked.rid,
                        "key": key,
                        "values": sorted(candidates),
                        "attr": delta[keys[0]],
                    },
                )
        fresh_lookups = self._element_lookups(
            name, [(attr, sdoc) for attr, items in added.items() for _, sdoc in items]
        )
        yield from self._insert_children(
            locked.rid,
            added,
            (new_lookups - old_lookups)
            | {(key, value) for (key, _), values in fresh_lookups.items() for value in values},
        )
        return self._decode(name, final)  # type: ignore[no-any-return]

    def _element_lookups(
        self, name: str, elements: Iterable[tuple[str, Any]]
    ) -> dict[tuple[str, tuple[str, ...]], set[str]]:
        """The lookup values of delta elements: (lookup key, document keys) → values."""
        out: dict[tuple[str, tuple[str, ...]], set[str]] = {}
        for key, keys in self._lookups[name].items():
            for attr, sdoc in elements:
                if keys[0] == attr.casefold() and len(keys) > 1:
                    for value in search_values(sdoc, keys[1:]):
                        if isinstance(value, str):
                            out.setdefault((key, keys), set()).add(value)
        return out

    def _unlookup(self, rid: int, gone: set[tuple[str, str]]) -> Ops[None]:
        yield _Sql(
            "DELETE FROM scim_lookup WHERE rid = %(rid)s AND (key, value) IN "
            "(SELECT * FROM unnest(%(keys)s::text[], %(values)s::text[]))",
            {"rid": rid, "keys": [k for k, _ in gone], "values": [v for _, v in gone]},
        )

    def _element_sdocs(self, name: str, attr: str, docs: list[dict[str, Any]]) -> list[Any]:
        """The search documents of new elements of a delta attribute."""
        if not docs:
            return []
        model = self._by_name[name]
        resource_type, registry = resource_type_of(model), registry_of(model)
        sdocs: list[Any] = search_document({attr: docs}, resource_type, registry).get(
            attr.casefold(), []
        )
        if len(sdocs) != len(docs):
            sdocs = [
                search_document({attr: [d]}, resource_type, registry).get(attr.casefold(), [{}])[0]
                for d in docs
            ]
        if _has_nul(sdocs):
            raise InvalidValue("PostgreSQL cannot store U+0000 in a string.")
        return sdocs

    def delete(self, model: type[Any], resource_id: str, expected_version: str | None) -> Ops[None]:
        """Delete one resource (its elements and lookups go with it)."""
        name = self._name(model)
        rows = yield _Sql(
            "SELECT rid, version FROM scim_resources WHERE resource_type = %(t)s "
            "AND id = %(id)s FOR UPDATE",
            {"t": name, "id": resource_id},
        )
        if not rows:
            raise NotFound(f"{model.__name__} {resource_id!r} not found.")
        if not versions_match(expected_version, f'W/"{rows[0][1]}"'):
            raise PreconditionFailed()
        yield _Sql("DELETE FROM scim_resources WHERE rid = %(rid)s", {"rid": rows[0][0]})

    # -- search ----------------------------------------------------------------------------

    def _needs_elements(self, query: Query) -> bool:
        """Whether the filter or the sort reads a delta attribute (then the merged document)."""
        for model in query.models:
            delta = self._delta[self._name(model)]
            if not delta:
                continue
            if query.sort_by is not None:
                ref = registry_of(model).resolve(
                    query.sort_by, resource_type=resource_type_of(model)
                )
                if ref is not None and not ref.common and ref.chain[0].name.casefold() in delta:
                    return True
            if query.filter is not None:
                for path in _paths(query.filter):
                    ref = registry_of(model).resolve(
                        str(path), resource_type=resource_type_of(model)
                    )
                    if ref is not None and not ref.common and ref.chain[0].name.casefold() in delta:
                        return True
        return False

    def _wants_elements(self, query: Query) -> bool:
        """Whether the response can show a delta attribute (``attributes`` is a hint)."""
        names = {w for model in query.models for w in self._delta[self._name(model)]}
        if not names:
            return False

        def top(path: str) -> str:
            return path.casefold().rsplit(":", 1)[-1]

        if query.attributes:
            return any(top(p).split(".", 1)[0] in names for p in query.attributes)
        excluded = {top(p) for p in query.excluded_attributes}  # "members", not "members.display"
        return not names <= excluded

    def _compiler(self, model: type[Any], document: str, **kwargs: Any) -> FilterCompiler:
        return FilterCompiler(
            resource_type_of(model),
            registry_of(model),
            dialect=PostgresDialect(document),
            document=document,
            **kwargs,
        )

    def _where(self, query: Query, params: dict[str, Any], document: str) -> str:
        policy = search_policy(query)
        parts = []
        for model in query.models:
            name = self._name(model)
            type_param = f"t{len(params)}"
            params[type_param] = name
            condition = f"r.resource_type = %({type_param})s"
            if query.filter is not None:
                predicate(query.filter, model, policy)  # the evaluator's validation, first
                node = _without_nul(query.filter, _known(model))
                compiler = self._compiler(
                    model,
                    document,
                    policy=policy,
                    lookups=self._lookups[name],
                    # ``id eq`` (Entra asks it of groups) is a seek on the row's own key.
                    columns={f"{name}/id": "r.id"},
                )
                condition += " AND " + compiler.compile(node, params).sql
            parts.append(f"({condition})")
        return " OR ".join(parts)

    def _plain_sort_key(self, model: type[Any], ref: AttributeRef, document: str) -> str:
        """A singular attribute's sort key with its JSON path written as a constant."""
        keys = document_keys(ref, resource_type_of(model))
        kind = kind_of(ref.target)
        dialect = PostgresDialect(document)
        value = dialect.extract(document, _array_literal(keys), kind)
        return f"NULLIF({value}, '')" if kind == "text" else value

    def _sort_key(self, query: Query, params: dict[str, Any], document: str) -> str | None:
        sorts = resolve_sorts(query)
        if not sorts:
            return None
        cases = []
        kinds = set()
        for model, ref in sorts.items():
            if ref is None:
                continue
            kinds.add(kind_of(ref.target))
            if not any(a.multi_valued for a in ref.chain):
                key = self._plain_sort_key(model, ref, document)
            else:
                key = self._compiler(model, document).sort_key(ref, params)
                if kind_of(ref.target) == "text":
                    key = f"NULLIF({key}, '')"
            cases.append((self._name(model), key))
        if len(kinds) > 1:
            raise InvalidValue(
                f"sortBy {query.sort_by!r} names attributes of different types in these "
                "resource types."
            )
        if len(cases) == 1 and len(query.models) == 1:
            return cases[0][1]
        whens = " ".join(f"WHEN {_literal(name)} THEN {key}" for name, key in cases)
        return f"(CASE r.resource_type {whens} END)"

    def search(self, query: Query, codec: CursorCodec) -> Ops[Page[Any]]:
        """Filter, sort and page in SQL, count and page from one snapshot."""
        for model in query.models:
            self._name(model)
        params: dict[str, Any] = {}
        merged = self._needs_elements(query)
        document = "d.sdoc" if merged else "r.sdoc"
        source = "scim_resources AS r"
        if merged:
            source += f" CROSS JOIN LATERAL (SELECT {self._sdoc_expr()} AS sdoc) AS d"
        where = self._where(query, params, document)
        key = self._sort_key(query, params, document)
        fingerprint = query.fingerprint()
        position = codec.decode(fingerprint, query.cursor) if query.cursor else None
        doc = self._doc_expr(self._wants_elements(query), "s_r")
        fetch = _Fetch(source, where, key, params, doc)
        if query.cursor is None:
            total, found = yield from fetch.counted(
                query.descending, None, query.count, query.start_index - 1
            )
            return Page(
                resources=self._resources(found), total=total, start_index=query.start_index
            )
        if query.count == 0:
            total, _ = yield from fetch.counted(query.descending, None, 0, 0)
            return Page(resources=[], total=total)
        limit = None if query.count is None else query.count + 1
        if position is None or position.direction == "next":
            total, found = yield from fetch.counted(query.descending, position, limit, 0)
            more_after = query.count is not None and len(found) > query.count
            found = found[: query.count]
            more_before = False
            if found and position is not None:
                anchor = Position("next", _key_of(found[0]))
                more_before = bool((yield from fetch(not query.descending, anchor, 1, 0)))
        else:
            total, found = yield from fetch.counted(not query.descending, position, limit, 0)
            more_before = query.count is not None and len(found) > query.count
            found = found[: query.count][::-1]
            last = Position("next", _key_of(found[-1])) if found else None
            more_after = last is not None and bool((yield from fetch(query.descending, last, 1, 0)))
        next_cursor = previous_cursor = None
        if found and more_after:
            next_cursor = codec.encode(fingerprint, Position("next", _key_of(found[-1])))
        if found and more_before:
            previous_cursor = codec.encode(fingerprint, Position("previous", _key_of(found[0])))
        return Page(
            resources=self._resources(found),
            total=total,
            next_cursor=next_cursor,
            previous_cursor=previous_cursor,
        )

    def _resources(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        return [self._decode(name, doc) for _, name, doc, _ in rows]


@attrs.frozen
class _Fetch:
    """Matching rows in order (reversed when descending), strictly after a position."""

    source: str
    where: str
    key: str | None
    params: Mapping[str, Any]
    doc: str

    def _sql(
        self, descending: bool, position: Position | None, limit: int | None, offset: int
    ) -> tuple[str, dict[str, Any], str]:
        params = dict(self.params)
        direction = "DESC" if descending else "ASC"
        condition = ""
        if position is not None:
            condition = "WHERE " + _keyset(descending, params, position.key)
        if self.key is None:
            order = "{t}.rid " + direction
        else:
            order = f"({{t}}.k IS NULL) {direction}, {{t}}.k {direction}, {{t}}.rid {direction}"
        params["limit"] = limit
        params["offset"] = offset
        sql = (
            f"SELECT s.rid, s.resource_type, {self.doc} AS doc, s.k FROM ("
            f"SELECT r.rid AS rid, r.resource_type AS resource_type, "
            f"{self.key or 'NULL::text'} AS k FROM {self.source} WHERE {self.where}) AS s "
            f"JOIN scim_resources AS s_r ON s_r.rid = s.rid {condition} "
            f"ORDER BY {order.format(t='s')} LIMIT %(limit)s OFFSET %(offset)s"
        )
        return sql, params, order

    def __call__(
        self, descending: bool, position: Position | None, limit: int | None, offset: int
    ) -> Ops[list[tuple[Any, ...]]]:
        sql, params, _ = self._sql(descending, position, limit, offset)
        rows = yield _Sql(sql, params)
        return [(rid, name, doc, _plain(k)) for rid, name, doc, k in rows]

    def counted(
        self, descending: bool, position: Position | None, limit: int | None, offset: int
    ) -> Ops[tuple[int, list[tuple[Any, ...]]]]:
        """The total and a page, in one statement (one snapshot, one round trip)."""
        sql, params, order = self._sql(descending, position, limit, offset)
        rows = yield _Sql(
            f"SELECT t.n, p.rid, p.resource_type, p.doc, p.k FROM (SELECT count(*) AS n FROM "
            f"{self.source} WHERE {self.where}) AS t LEFT JOIN LATERAL ({sql}) AS p ON true "
            f"ORDER BY {order.format(t='p')}",
            params,
        )
        total = rows[0][0]
        return total, [
            (rid, name, doc, _plain(k)) for _, rid, name, doc, k in rows if rid is not None
        ]


def _key_of(row: tuple[Any, ...]) -> SortKey:
    rid, _, _, k = row
    return (k is None, k, rid)


def _keyset(descending: bool, params: dict[str, Any], key: SortKey) -> str:
    """Rows strictly after ``key`` in the order (k missing last, k, rid), reversed if descending.

    Written as a row comparison on the sort index's columns, so that PostgreSQL
    starts the index scan at the cursor instead of sorting what precedes it.
    """
    missing, value, rid = key
    params["pk"] = None if missing else value
    params["pr"] = rid
    if not missing:
        gt = "<" if descending else ">"
        return f"((s.k IS NULL), s.k, s.rid) {gt} (false, %(pk)s, %(pr)s)"
    if descending:
        return "((s.k IS NULL) AND s.rid < %(pr)s OR s.k IS NOT NULL)"
    return "((s.k IS NULL) AND s.rid > %(pr)s)"


def _literal(text: str) -> str:
    """A SQL string constant (for DDL, where there are no parameters)."""
    if "\x00" in text:
        raise ValueError("U+0000 in an SQL constant")
    return "'" + text.replace("'", "''") + "'"


def _array_literal(keys: Sequence[str]) -> str:
    """A ``text[]`` constant: ``'{"username"}'::text[]``."""
    items = ",".join('"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"' for k in keys)
    return _literal("{" + items + "}") + "::text[]"


# -- the drivers ---------------------------------------------------------------------------


def _connect_kwargs(schema: str | None, asynchronous: bool) -> dict[str, Any]:
    import psycopg

    kwargs: dict[str, Any] = {
        "cursor_factory": psycopg.AsyncClientCursor if asynchronous else psycopg.ClientCursor,
        "autocommit": True,  # reads are single statements; writes open a transaction
    }
    if schema is not None:
        kwargs["options"] = f"-c search_path={schema}"
    return kwargs


def _retryable() -> tuple[type[BaseException], ...]:
    from psycopg import errors

    return (errors.SerializationFailure, errors.DeadlockDetected)


class PostgresStore:
    """A store in PostgreSQL (psycopg 3, the ``postgres`` extra); several servers can share it.

    ``dsn`` is a libpq connection string or URL. ``schema`` (a lower-case
    identifier) keeps the tables apart from others in one database; by default
    they go where the connection's ``search_path`` says. The tables are created
    on first use (``create=True``) or by ``scimcore db init``. ``models``,
    ``unique`` and ``lookups`` are as in :class:`~scimcore.stores.SQLiteStore`;
    ``delta`` names the multi-valued attributes kept one element per row and
    written as deltas (default ``Group.members``); ``sorts`` the attributes with
    a sort index (default ``userName``, Group ``displayName``). ``pool_size``
    bounds the connection pool. ``create=False`` refuses a database without
    the tables; ``upgrade=True`` migrates an older layout (``scimcore db
    upgrade`` does both from the command line).

    >>> import os, secrets
    >>> from scimcore.models import User
    >>> from scimcore.storage import Query
    >>> store = PostgresStore(os.environ.get("SCIMCORE_POSTGRES_DSN",
    ...     "postgresql://postgres@127.0.0.1:5432/test"), schema=f"doctest_{secrets.token_hex(4)}")
    >>> _ = store.create(User(user_name="Straße"))
    >>> store.search(Query(models=User, filter='userName eq "STRASSE"')).total
    1
    >>> store.drop(); store.close()
    """

    def __init__(
        self,
        dsn: str,
        models: Iterable[type[Any]] | None = None,
        *,
        schema: str | None = None,
        unique: Mapping[str, Sequence[str]] | None = None,
        lookups: Mapping[str, Sequence[str]] | None = None,
        delta: Mapping[str, Sequence[str]] | None = None,
        sorts: Mapping[str, Sequence[str]] | None = None,
        clock: Clock = utcnow,
        cursor_timeout: float | None = 3600.0,
        pool_size: int = 10,
        create: bool = True,
        upgrade: bool = False,
    ) -> None:
        from psycopg_pool import ConnectionPool

        self.dsn = dsn
        self._ops = _Ops(schema, models, unique, lookups, delta, sorts, clock)
        self.schema = schema
        self.models = self._ops.models
        self._pool = ConnectionPool(
            dsn,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs=_connect_kwargs(schema, False),
            open=True,
            name=f"scimcore-{schema or 'default'}",
        )
        try:
            secret = self._run(lambda: self._ops.setup(create=create, upgrade=upgrade))
        except BaseException:
            self._pool.close()
            raise
        self.cursors = CursorCodec(secret, timeout=cursor_timeout)

    def _run(self, op: Callable[[], Ops[T]], *, transaction: bool = True) -> T:
        from psycopg import errors

        for attempt in range(8):
            try:
                with (
                    self._pool.connection() as conn,
                    conn.transaction() if transaction else contextlib.nullcontext(),
                    conn.cursor() as cur,
                ):
                    gen = op()
                    value: Any = None
                    while True:
                        try:
                            statement = gen.send(value)
                        except StopIteration as stop:
                            result: T = stop.value
                            return result
                        cur.execute(statement.text, statement.params)
                        value = cur.fetchall() if cur.description is not None else []
            except errors.UniqueViolation as exc:
                raise self._ops.unique_error(
                    exc.diag.constraint_name, exc.diag.message_detail or ""
                ) from None
            except _retryable():
                if attempt == 7:
                    raise InternalServerError("The database kept refusing the write.") from None
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the protocol ----------------------------------------------------------------------

    def create(self, resource: R) -> R:
        """Store a new resource (see :class:`~scimcore.storage.ResourceStore`)."""
        return self._run(lambda: self._ops.create(resource))

    def create_many(self, resources: Iterable[R]) -> list[R]:
        """Store many new resources in one transaction: all of them, or none on an error.

        For imports: a few statements per thousand resources instead of several each.
        """
        return self._run(lambda: self._ops.create_many(resources))

    def get(self, model: type[R], resource_id: str) -> R:
        """The resource with this ``id``, or :class:`~scimcore.errors.NotFound`."""
        return self._run(lambda: self._ops.get(model, resource_id), transaction=False)

    def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """Replace the stored resource with ``resource.id``; delta attributes are diffed."""
        return self._run(
            lambda: self._ops.write(
                type(resource),
                getattr(resource, "id", None),
                lambda _: resource,
                expected_version,
                skip_unchanged=False,
            )
        )

    def update(
        self,
        model: type[R],
        resource_id: str,
        change: Callable[[R], Any],
        *,
        expected_version: str | None = None,
    ) -> R:
        """Run ``change`` on the locked resource and write what changed (store-native PATCH).

        ``change`` returns the new resource, or a :class:`~scimcore.patch.PatchResult`;
        when nothing changed, nothing is written and the version stays.
        """
        return self._run(
            lambda: self._ops.write(
                model, resource_id, change, expected_version, skip_unchanged=True
            )
        )

    def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """Delete the resource with this ``id``."""
        self._run(lambda: self._ops.delete(model, resource_id, expected_version))

    def search(self, query: Query) -> Page[Any]:
        """Filter, sort and page in SQL (see :class:`~scimcore.storage.Query`)."""
        return self._run(lambda: self._ops.search(query, self.cursors), transaction=False)

    def reindex(self) -> None:
        """Rebuild the search documents, elements and lookups (after a schema change)."""
        self._run(self._ops._reindex)

    def drop(self) -> None:
        """Drop this store's tables (its whole ``schema`` when it has one): for tests."""

        def op() -> Ops[None]:
            if self.schema is not None:
                yield _Sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            else:
                yield _Sql(
                    "DROP TABLE IF EXISTS scim_lookup, scim_values, scim_resources, "
                    "scim_meta CASCADE"
                )
                yield _Sql("DROP SEQUENCE IF EXISTS scim_version")

        self._run(op)

    def close(self) -> None:
        """Close the connection pool."""
        self._pool.close()


class AsyncPostgresStore:
    """The async twin of :class:`PostgresStore` (psycopg's async pool); same SQL, same rules.

    Open it with ``await AsyncPostgresStore.open(dsn, ...)`` (the tables are
    created then), and close it with ``await store.aclose()``.
    """

    def __init__(self, ops: _Ops, pool: Any, secret: bytes, cursor_timeout: float | None) -> None:
        self._ops = ops
        self._pool = pool
        self.schema = ops.schema
        self.models = ops.models
        self.cursors = CursorCodec(secret, timeout=cursor_timeout)

    @classmethod
    async def open(
        cls,
        dsn: str,
        models: Iterable[type[Any]] | None = None,
        *,
        schema: str | None = None,
        unique: Mapping[str, Sequence[str]] | None = None,
        lookups: Mapping[str, Sequence[str]] | None = None,
        delta: Mapping[str, Sequence[str]] | None = None,
        sorts: Mapping[str, Sequence[str]] | None = None,
        clock: Clock = utcnow,
        cursor_timeout: float | None = 3600.0,
        pool_size: int = 10,
        create: bool = True,
        upgrade: bool = False,
    ) -> AsyncPostgresStore:
        """Open the pool and create (or check) the tables."""
        from psycopg_pool import AsyncConnectionPool

        ops = _Ops(schema, models, unique, lookups, delta, sorts, clock)
        pool = AsyncConnectionPool(
            dsn,
            min_size=1,
            max_size=max(1, pool_size),
            kwargs=_connect_kwargs(schema, True),
            open=False,
        )
        await pool.open()
        try:
            secret = await _run_async(pool, ops, lambda: ops.setup(create=create, upgrade=upgrade))
        except BaseException:
            await pool.close()
            raise
        return cls(ops, pool, secret, cursor_timeout)

    async def create(self, resource: R) -> R:
        """See :meth:`PostgresStore.create`."""
        return await _run_async(self._pool, self._ops, lambda: self._ops.create(resource))

    async def create_many(self, resources: Iterable[R]) -> list[R]:
        """See :meth:`PostgresStore.create_many`."""
        return await _run_async(self._pool, self._ops, lambda: self._ops.create_many(resources))

    async def get(self, model: type[R], resource_id: str) -> R:
        """See :meth:`PostgresStore.get`."""
        return await _run_async(
            self._pool, self._ops, lambda: self._ops.get(model, resource_id), transaction=False
        )

    async def replace(self, resource: R, *, expected_version: str | None = None) -> R:
        """See :meth:`PostgresStore.replace`."""
        return await _run_async(
            self._pool,
            self._ops,
            lambda: self._ops.write(
                type(resource),
                getattr(resource, "id", None),
                lambda _: resource,
                expected_version,
                skip_unchanged=False,
            ),
        )

    async def update(
        self,
        model: type[R],
        resource_id: str,
        change: Callable[[R], Any],
        *,
        expected_version: str | None = None,
    ) -> R:
        """See :meth:`PostgresStore.update`."""
        return await _run_async(
            self._pool,
            self._ops,
            lambda: self._ops.write(
                model, resource_id, change, expected_version, skip_unchanged=True
            ),
        )

    async def delete(
        self, model: type[Any], resource_id: str, *, expected_version: str | None = None
    ) -> None:
        """See :meth:`PostgresStore.delete`."""
        await _run_async(
            self._pool, self._ops, lambda: self._ops.delete(model, resource_id, expected_version)
        )

    async def search(self, query: Query) -> Page[Any]:
        """See :meth:`PostgresStore.search`."""
        return await _run_async(
            self._pool, self._ops, lambda: self._ops.search(query, self.cursors), transaction=False
        )

    async def aclose(self) -> None:
        """Close the pool."""
        await self._pool.close()


async def _run_async(
    pool: Any, ops: _Ops, op: Callable[[], Ops[T]], *, transaction: bool = True
) -> T:
    from psycopg import errors

    for attempt in range(8):
        try:
            async with (
                pool.connection() as conn,
                conn.transaction() if transaction else contextlib.nullcontext(),
            ):
                cur = conn.cursor()
                gen = op()
                value: Any = None
                while True:
                    try:
                        statement = gen.send(value)
                    except StopIteration as stop:
                        result: T = stop.value
                        return result
                    await cur.execute(statement.text, statement.params)
                    value = await cur.fetchall() if cur.description is not None else []
        except errors.UniqueViolation as exc:
            raise ops.unique_error(
                exc.diag.constraint_name, exc.diag.message_detail or ""
            ) from None
        except _retryable():
            if attempt == 7:
                raise InternalServerError("The database kept refusing the write.") from None
    raise AssertionError("unreachable")  # pragma: no cover
