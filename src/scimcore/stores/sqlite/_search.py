"""The SQLite store's searches: filters and sorts in SQL, cached per filter shape; page rows.

A search scans ``scim_search`` (``r``), whose columns hold the comparable
value of every singular simple attribute; a condition that needs the search
document reads it by ``rid`` (:data:`SEARCH_DOCUMENT`). The SQL of a filter depends
on its *shape* (its tree, paths, operators and the types of its values), the
resource types, the policy and the sort, never on a value: values are
parameters, so a filter of a shape seen before only binds its values
(:class:`~scimcore.stores._skeleton.ShapeCache`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from typing import Any

from scimcore.policy import Policy
from scimcore.storage._cursor import SortKey
from scimcore.storage._query import Query, registry_of, resolve_sorts, resource_type_of
from scimcore.stores._skeleton import Found, Rows, ShapeCache, StoreConfig, sort_key, where_sql
from scimcore.stores.sql._compiler import FilterCompiler, Slot
from scimcore.stores.sql._dialect import SQLiteDialect
from scimcore.stores.sqlite._members import MemberRows
from scimcore.stores.sqlite._schema import Layout

__all__ = ["SEARCH_DOCUMENT", "Searches", "Statement", "key_of", "rows_fetcher"]

#: The search document of the row being filtered (``r`` is ``scim_search``).
SEARCH_DOCUMENT = "(SELECT sdoc FROM scim_resources WHERE rid = r.rid)"

#: One read statement: SQL text and its parameters.
Statement = tuple[str, Any]


class Searches:
    """The SQL of a store's searches: ``WHERE`` and sort key, cached per filter shape."""

    def __init__(
        self,
        config: StoreConfig,
        layout: Layout,
        members: MemberRows,
        seeks: dict[str, dict[str, str]],
    ) -> None:
        self.config = config
        self.layout = layout
        self.members = members
        self.seeks = seeks
        self._dialect = SQLiteDialect()
        self._cache = ShapeCache()

    def sql(self, query: Query) -> tuple[str, str | None, dict[str, Any]]:
        """The WHERE, the sort key and their parameters.

        A filter of a shape seen before only binds its values (``members.value eq
        "<id>"`` on every read of a user).
        """

        def compile(params: dict[str, Any], slots: list[Slot]) -> tuple[str, str | None]:
            return self.where(query, params, slots), self.sort_key(query, params)

        return self._cache.sql(query, compile)

    def where(self, query: Query, params: dict[str, Any], slots: list[Slot] | None = None) -> str:
        """The ``WHERE`` of a search; with ``slots``, where each value was bound."""

        def condition(model: type[Any], name: str, is_type: str, policy: Policy) -> str:
            assert query.filter is not None
            compiler = FilterCompiler(
                resource_type_of(model),
                registry_of(model),
                dialect=self._dialect,
                policy=policy,
                lookups=self.config.lookups[name],
                seeks=self.seeks[name],
                columns=self.layout.columns[name],
                document=SEARCH_DOCUMENT,
                element_tables=self.members.element_tables(name, "r.rid"),
            )
            sql = compiler.compile(query.filter, params, slots=slots).sql
            # SQLite tests the terms of an AND in order: a test of columns alone is
            # cheaper than the type's text comparison, and rules out more rows; one
            # that reads the search document comes after it.
            return f"{is_type} AND {sql}" if SEARCH_DOCUMENT in sql else f"{sql} AND {is_type}"

        return where_sql(self.config, query, params, self._dialect.param, condition)

    def sort_key(self, query: Query, params: dict[str, Any]) -> str | None:
        """The SQL value a row sorts by (``NULL``: none), or ``None`` without ``sortBy``."""
        sorts = resolve_sorts(query)
        if not sorts:
            return None
        cases = []
        for model, ref in sorts.items():
            if ref is None:
                continue
            name = self.config.name(model)
            compiler = FilterCompiler(
                resource_type_of(model),
                registry_of(model),
                columns=self.layout.columns[name],
                document=SEARCH_DOCUMENT,
                element_tables=self.members.element_tables(name, "r.rid"),
            )
            key = compiler.sort_key(ref, params)
            type_param = f"t{len(params)}"
            params[type_param] = name
            cases.append((type_param, key))
        if len(cases) == 1 and len(query.models) == 1:
            return f"NULLIF({cases[0][1]}, '')"
        whens = " ".join(f"WHEN :{t} THEN {key}" for t, key in cases)
        return f"NULLIF(CASE r.resource_type {whens} END, '')"


def rows_fetcher(
    where: str, key: str | None, params: dict[str, Any], *, offsets: bool, document: str
) -> Callable[[Rows], Generator[Statement, list[Any], Found[Any]]]:
    """The pager's ``fetch``: the statements that find :class:`~scimcore.stores._skeleton.Rows`.

    A row found is ``(rid, resource type, sort value)``. For ``offsets`` paging
    (``startIndex``), a counted request is one statement: a window over every
    match gives the total, and the page's wire documents are joined after the
    ``LIMIT`` (a row is then followed by the total and its wire document). For
    cursors, the total is a count of its own: a window would sort every match,
    where a page after a cursor sorts only the rows it takes. ``document`` is the SQL
    of a wire document of ``scim_resources AS d`` (:meth:`MemberRows.assembled`).
    """

    def fetch(ask: Rows) -> Generator[Statement, list[Any], Found[Any]]:
        total = 0
        if offsets and ask.counted and ask.limit != 0:
            rows = yield _select(where, key, params, ask, with_total=True, document=document)
            if rows:
                total = rows[0][3]
            elif ask.offset > 0:  # nothing from there on: count them all
                total = (yield _count(where, params))[0][0]
        else:
            if ask.counted:
                total = (yield _count(where, params))[0][0]
                if ask.limit == 0:
                    return total, []
            rows = yield _select(where, key, params, ask, with_total=False, document=document)
        return total, rows

    return fetch


def key_of(row: tuple[Any, ...]) -> SortKey:
    """The sort key of a row found: ``(rid, resource type, sort value, …)``."""
    return sort_key(row[2], row[0])


def _count(where: str, params: dict[str, Any]) -> Statement:
    return f"SELECT count(*) FROM scim_search AS r WHERE {where}", params


def _select(
    where: str,
    key: str | None,
    params: dict[str, Any],
    ask: Rows,
    *,
    with_total: bool,
    document: str,
) -> Statement:
    """The matching rows in order (reversed when descending), strictly after a sort key."""
    bound = {**params, "limit": -1 if ask.limit is None else ask.limit, "offset": ask.offset}
    if ask.after is not None:
        missing, value, rid = ask.after
        bound.update(pm=1 if missing else 0, pk=None if missing else value, pr=rid)
    after = ask.after is not None
    return _select_text(where, key, ask.descending, after, with_total, document), bound


@functools.lru_cache(maxsize=512)
def _select_text(
    where: str, key: str | None, descending: bool, after: bool, with_total: bool, document: str
) -> str:
    """The SQL of :func:`_select` (a search's shape gives the same text: built once)."""
    direction = "DESC" if descending else "ASC"
    inner = (
        f"SELECT r.rid AS rid, r.resource_type AS resource_type, "
        f"{key or 'NULL'} AS k FROM scim_search AS r WHERE {where}"
    )
    condition = "WHERE " + _keyset(descending) if after else ""
    if key is None:
        order = "{t}.rid " + direction
    else:
        order = f"({{t}}.k IS NULL) {direction}, {{t}}.k {direction}, {{t}}.rid {direction}"
    total = ", count(*) OVER () AS total" if with_total else ""
    sql = (
        f"SELECT s.rid, s.resource_type, s.k{total} FROM ({inner}) AS s {condition} "
        f"ORDER BY {order.format(t='s')} LIMIT :limit OFFSET :offset"
    )
    if with_total:
        # The page's wire documents in the same statement (so that no transaction is
        # needed around two), joined after the LIMIT: only the page's rows are read.
        sql = (
            f"SELECT p.rid, p.resource_type, p.k, p.total, {document} FROM ({sql}) AS p "
            f"JOIN scim_resources AS d ON d.rid = p.rid ORDER BY {order.format(t='p')}"
        )
    return sql


def _keyset(descending: bool) -> str:
    """Rows strictly after the sort key ``(:pm, :pk, :pr)`` in the order (k missing last,
    k, rid), reversed if descending."""
    gt = "<" if descending else ">"
    return (
        f"((s.k IS NULL) {gt} :pm OR ((s.k IS NULL) = :pm AND "
        f"(s.k {gt} :pk OR (s.k IS :pk AND s.rid {gt} :pr))))"
    )
