"""The PostgreSQL store's searches: filter, sort and page in SQL, from one snapshot.

A search reads the search document of ``scim_resources`` (``r.sdoc``), or, when
its filter or sort reads a delta attribute, that document merged with the
delta elements (:func:`~._documents.search_expr`). Its count and its page come
from one snapshot: the page alone when its rows tell the total (all the matches,
or fewer than asked: a lookup), else one statement with both (a lateral join);
the page's rows carry their wire documents, with the delta elements only when
the response can show them.
"""

from __future__ import annotations

import decimal
from collections.abc import Generator, Mapping, Sequence
from typing import Any

import attrs

from scimcore.errors import InvalidValue
from scimcore.filter import And, AttrPath, Compare, Filter, Not, Present, Rewriter, ValuePath, walk
from scimcore.policy import Policy
from scimcore.storage._cursor import CursorCodec, SortKey
from scimcore.storage._query import Page, Query, registry_of, resolve_sorts, resource_type_of
from scimcore.stores._skeleton import Found, Rows, ShapeCache, paging, sort_key, where_sql
from scimcore.stores.postgres._config import PostgresConfig
from scimcore.stores.postgres._documents import search_expr, wire_expr
from scimcore.stores.postgres._schema import array_literal, literal, plain_sort_key
from scimcore.stores.postgres._statement import Ops, Statement
from scimcore.stores.postgres._writes import decode
from scimcore.stores.sql._compiler import FilterCompiler, Slot, kind_of
from scimcore.stores.sql._postgres import PostgresDialect

__all__ = ["search"]


def search(
    config: PostgresConfig, query: Query, codec: CursorCodec, cache: ShapeCache | None = None
) -> Ops[Page[Any]]:
    """Filter, sort and page in SQL, count and page from one snapshot; the SQL of a filter
    of a shape seen before is taken from ``cache``."""
    for model in query.models:
        config.name(model)
    merged = _needs_elements(config, query)
    document = "d.sdoc" if merged else "r.sdoc"
    source = "scim_resources AS r"
    if merged:
        source += f" CROSS JOIN LATERAL (SELECT {search_expr()} AS sdoc) AS d"

    def compile(params: dict[str, Any], slots: list[Slot]) -> tuple[str, str | None]:
        where = _where(config, query, params, document, slots)
        key = _sort_key(config, query, params, document)
        return _inline(where, key, params, keep=[slot.name for slot in slots])

    if cache is None:
        params: dict[str, Any] = {}
        where, key = compile(params, [])
    else:
        where, key, params = cache.sql(query, compile, reusable=_without_nul)
    wire = wire_expr(config, _wants_elements(config, query), "s_r")

    def load(rows: list[_Row]) -> list[Any]:
        return [decode(config, name, wire) for _, name, wire, _ in rows]

    fetch = _Fetch(source, where, key, params, wire)
    return (yield from paging(query, codec, fetch, _key_of, load))


def _without_nul(leaves: Sequence[Compare]) -> bool:
    """Whether no compared string holds U+0000 (:class:`_WithoutNul` rewrites those)."""
    return not any(isinstance(leaf.value, str) and "\x00" in leaf.value for leaf in leaves)


def _paths(node: Filter) -> list[AttrPath]:
    """The paths a filter names at its top level (a ``[…]`` by its own path only)."""
    return [
        n.path
        for n in walk(node, into_value_paths=False)
        if isinstance(n, Compare | Present | ValuePath)
    ]


def _is_delta(config: PostgresConfig, model: type[Any], path: str) -> bool:
    ref = registry_of(model).resolve(path, resource_type=resource_type_of(model))
    delta = config.delta[config.name(model)]
    return ref is not None and not ref.common and ref.chain[0].name.casefold() in delta


def _needs_elements(config: PostgresConfig, query: Query) -> bool:
    """Whether the filter or the sort reads a delta attribute (then the merged document)."""
    for model in query.models:
        if not config.delta[config.name(model)]:
            continue
        if query.sort_by is not None and _is_delta(config, model, query.sort_by):
            return True
        if query.filter is not None and any(
            _is_delta(config, model, str(path)) for path in _paths(query.filter)
        ):
            return True
    return False


def _wants_elements(config: PostgresConfig, query: Query) -> bool:
    """Whether the response can show a delta attribute (``attributes`` is a hint)."""
    names = {w for model in query.models for w in config.delta[config.name(model)]}
    if not names:
        return False

    def top(path: str) -> str:
        return path.casefold().rsplit(":", 1)[-1]

    if query.attributes:
        return any(top(p).split(".", 1)[0] in names for p in query.attributes)
    excluded = {top(p) for p in query.excluded_attributes}  # "members", not "members.display"
    return not names <= excluded


# -- filters: what PostgreSQL text cannot hold ---------------------------------------------


class _WithoutNul(Rewriter):
    """The filter with every compared string free of U+0000, which PostgreSQL cannot bind.

    No stored string holds U+0000 (the store refuses it), so for a needle
    ``p + "\\x00" + rest`` on a known attribute: ``eq``, ``co``, ``sw``, ``ew``
    match nothing (written ``pr and not pr``, so that ``ne`` and ``not`` negate
    it as the evaluator does); ``gt``/``ge`` are ``gt p``; ``lt``/``le`` are
    ``le p``. An unknown attribute's comparison is false whatever its value (the
    compiler binds nothing for it), so it is left as it is.
    """

    def __init__(self, model: type[Any]) -> None:
        self.registry = registry_of(model)
        self.resource_type = resource_type_of(model)
        self.parent: AttrPath | None = None  # inside ``parent[…]``

    def value_path(self, node: ValuePath) -> Filter:
        self.parent = node.path
        try:
            return super().value_path(node)
        finally:
            self.parent = None

    def compare(self, node: Compare) -> Filter:
        if not (isinstance(node.value, str) and "\x00" in node.value and self._known(node.path)):
            return node
        prefix = node.value[: node.value.index("\x00")]
        if node.op in ("gt", "ge"):
            return Compare(node.path, "gt", prefix)
        if node.op in ("lt", "le"):
            return Compare(node.path, "le", prefix)
        never = And((Present(node.path), Not(Present(node.path))))
        return Not(never) if node.op == "ne" else never

    def _known(self, path: AttrPath) -> bool:
        """Whether a filter path names an attribute of the model (inside ``parent[…]``)."""
        if self.parent is None:
            return self.registry.resolve(str(path), resource_type=self.resource_type) is not None
        if path.urn is not None or path.sub is not None:
            return False
        owner = self.registry.resolve(str(self.parent), resource_type=self.resource_type)
        if owner is None:
            return False
        if not owner.target.is_complex:
            return path.name.casefold() == "value"
        return owner.target.sub_attribute(path.name) is not None


# -- SQL -----------------------------------------------------------------------------------


def _compiler(model: type[Any], document: str, **kwargs: Any) -> FilterCompiler:
    return FilterCompiler(
        resource_type_of(model),
        registry_of(model),
        dialect=PostgresDialect(document),
        document=document,
        **kwargs,
    )


def _inline(
    where: str, key: str | None, params: dict[str, Any], *, keep: list[str]
) -> tuple[str, str | None]:
    """Write the parameters of a search that are not comparison values (resource types,
    JSON paths, lookup keys) into its SQL as constants, and remove them from ``params``.

    The SQL of a filter then depends on its shape alone, and its values are bound by the
    server: a statement of a shape seen before is prepared once per connection and never
    planned again (a lookup at a million users costs its execution, not a plan). The
    constants are what partial and expression indexes need to be matched.
    """
    for name in [n for n in params if n not in keep]:
        value = params[name]
        if isinstance(value, str):
            constant = literal(value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            constant = array_literal(value)
        else:
            continue
        marker = f"%({name})s"
        where = where.replace(marker, constant)
        key = None if key is None else key.replace(marker, constant)
        del params[name]
    return where, key


def _where(
    config: PostgresConfig,
    query: Query,
    params: dict[str, Any],
    document: str,
    slots: list[Slot],
) -> str:
    """The ``WHERE`` of a search; ``slots`` gets the parameters that hold comparison
    values (the rest are constants of the filter's shape)."""

    def condition(model: type[Any], name: str, is_type: str, policy: Policy) -> str:
        assert query.filter is not None
        node = _WithoutNul(model).visit(query.filter)
        compiler = _compiler(
            model,
            document,
            policy=policy,
            lookups=config.lookups[name],
            # ``id eq`` (Entra asks it of groups) is a seek on the row's own key.
            columns={f"{name}/id": "r.id"},
        )
        sql = compiler.compile(node, params, slots=slots).sql
        return f"{is_type} AND {sql}"

    return where_sql(config, query, params, PostgresDialect(document).param, condition)


def _sort_key(
    config: PostgresConfig, query: Query, params: dict[str, Any], document: str
) -> str | None:
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
            key = plain_sort_key(model, ref, document)
        else:
            key = _compiler(model, document).sort_key(ref, params)
            if kind_of(ref.target) == "text":
                key = f"NULLIF({key}, '')"
        cases.append((config.name(model), key))
    if len(kinds) > 1:
        raise InvalidValue(
            f"sortBy {query.sort_by!r} names attributes of different types in these resource types."
        )
    if len(cases) == 1 and len(query.models) == 1:
        return cases[0][1]
    whens = " ".join(f"WHEN {literal(name)} THEN {key}" for name, key in cases)
    return f"(CASE r.resource_type {whens} END)"


def _plain(value: Any) -> Any:
    """A sort value read from PostgreSQL, as the cursor codec (JSON) and Python compare it."""
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


#: A row found: ``(rid, resource type, wire document, sort value)``.
_Row = tuple[int, str, Any, Any]


def _key_of(row: _Row) -> SortKey:
    return sort_key(_plain(row[3]), row[0])


@attrs.frozen
class _Fetch:
    """The pager's ``fetch``: matching rows (:data:`_Row`) in order (reversed when
    descending), strictly after a sort key; counted, the total comes in the same
    statement (one snapshot, one round trip), unless the page alone shows it (all
    the matches, or fewer rows than asked: ``Rows.known_total``)."""

    source: str
    where: str
    key: str | None
    params: Mapping[str, Any]
    wire: str

    def __call__(self, ask: Rows) -> Generator[Statement, list[Any], Found[_Row]]:
        params = dict(self.params)
        direction = "DESC" if ask.descending else "ASC"
        condition = ""
        if ask.after is not None:
            condition = "WHERE " + _keyset(ask.descending, params, ask.after)
        if self.key is None:
            order = "{t}.rid " + direction
        else:
            order = f"({{t}}.k IS NULL) {direction}, {{t}}.k {direction}, {{t}}.rid {direction}"
        params["limit"] = ask.limit
        params["offset"] = ask.offset
        sql = (
            f"SELECT s.rid, s.resource_type, {self.wire} AS doc, s.k FROM ("
            f"SELECT r.rid AS rid, r.resource_type AS resource_type, "
            f"{self.key or 'NULL::text'} AS k FROM {self.source} WHERE {self.where}) AS s "
            f"JOIN scim_resources AS s_r ON s_r.rid = s.rid {condition} "
            f"ORDER BY {order.format(t='s')} LIMIT %(limit)s OFFSET %(offset)s"
        )
        total = 0
        if ask.counted and ask.after is None and ask.limit != 0:
            # The page alone first: all the rows (no ``count``: a lookup), or fewer than
            # asked, are the whole rest of the matches, so the total is known, from the
            # page's own snapshot, without a count or a lateral join (the statement
            # stays small, and prepared).
            rows = yield Statement(sql, params, server=True)
            known = ask.known_total(rows)
            if known is not None:
                return known, rows
        if ask.counted:
            rows = yield Statement(
                f"SELECT t.n, p.rid, p.resource_type, p.doc, p.k FROM (SELECT count(*) AS n "
                f"FROM {self.source} WHERE {self.where}) AS t LEFT JOIN LATERAL ({sql}) AS p "
                f"ON true ORDER BY {order.format(t='p')}",
                params,
                server=True,
            )
            total = rows[0][0]
            rows = [row[1:] for row in rows if row[1] is not None]
        else:
            rows = yield Statement(sql, params, server=True)
        return total, rows


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
