"""What every store's search shares: the evaluator's predicate, the policy, the SQL ``WHERE``,
and the SQL of a search cached per filter shape (:class:`ShapeCache`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from scimcore.errors import ScimError
from scimcore.filter import And, Compare, Filter, Not, Or, Present, Transformer, ValuePath
from scimcore.policy import Policy
from scimcore.storage._query import Query

if TYPE_CHECKING:
    from scimcore.stores._skeleton._config import StoreConfig
    from scimcore.stores.sql._compiler import Slot

__all__ = ["ShapeCache", "predicate", "remembered", "search_policy", "where_sql"]

R = TypeVar("R")

#: What was made lately for a filter: by the node's identity (parse_filter returns
#: the same node for the same text) and the rest of the key; each entry keeps its node
#: alive. Not by equality: ``active eq true`` and ``active eq 1`` are equal nodes.
_MADE: dict[tuple[Any, ...], tuple[Any, Any]] = {}


def remembered(node: Any, key: tuple[Any, ...], make: Callable[[], R]) -> R:
    """``make()``, remembered for ``node`` (by identity) and ``key`` (the last 512)."""
    full_key = (id(node), *key)
    cached = _MADE.get(full_key)
    if cached is not None and cached[0] is node:
        return cached[1]  # type: ignore[no-any-return]
    made = make()
    if len(_MADE) >= 512:
        _MADE.clear()
    _MADE[full_key] = (node, made)
    return made


def predicate(node: Any, model: type[Any], policy: Policy) -> Callable[[Any], bool]:
    """The evaluator's predicate for a filter on a model (``scimcore.filter.compile_filter``).

    Compiling it also validates the filter for the model: a SQL store compiles
    it before its own SQL, so that both refuse the same filters.

    >>> from scimcore.filter import parse_filter
    >>> from scimcore.models import User
    >>> predicate(parse_filter('userName eq "BJENSEN"'), User, Policy())(User(user_name="bjensen"))
    True
    """
    from scimcore.filter import compile_filter

    return remembered(
        node, ("predicate", model, policy), lambda: compile_filter(node, model, policy=policy)
    )


def search_policy(query: Query) -> Policy:
    """The policy a search runs under: a search over several types treats unknown as absent."""
    if len(query.models) > 1 and query.policy.unknown_filter_attribute != "matches_nothing":
        return attrs.evolve(query.policy, unknown_filter_attribute="matches_nothing")
    return query.policy


def where_sql(
    config: StoreConfig,
    query: Query,
    params: dict[str, Any],
    placeholder: Callable[[str], str],
    condition: Callable[[type[Any], str, str, Policy], str],
) -> str:
    """The ``WHERE`` of a SQL search (``r`` is the row): for each resource type of the
    query, the row's type test, and with a filter ``condition(model, name, type test,
    policy)``, the SQL of the filter joined to it; the types' conditions are OR-ed.

    The filter is compiled by the evaluator first (:func:`predicate`), which
    refuses what it cannot honour exactly as a search in memory would.
    """
    policy = search_policy(query)
    parts = []
    for model in query.models:
        name = config.name(model)
        type_param = f"t{len(params)}"
        params[type_param] = name
        test = f"r.resource_type = {placeholder(type_param)}"
        if query.filter is not None:
            predicate(query.filter, model, policy)
            test = condition(model, name, test, policy)
        parts.append(f"({test})")
    return " OR ".join(parts)


#: A search's SQL: ``WHERE``, sort key (``None``: no ``sortBy``) and parameters.
SearchSql = tuple[str, str | None, dict[str, Any]]


class ShapeCache:
    """The SQL of a store's searches, cached per filter *shape*.

    A filter's SQL depends on its shape (its tree, paths, operators and the
    types of its values), the resource types, the policy and the sort, never on
    a value: values are parameters. So a filter of a shape seen before (the
    ``userName eq "…"`` an identity provider sends before each create, the
    ``members.value eq "<id>"`` of every read of a user) only binds its values.

    ``compile(params, slots)`` makes the SQL of a query, filling ``params`` and
    recording in ``slots`` (:class:`~scimcore.stores.sql._compiler.Slot`) the
    parameter of each comparison value; ``reusable`` says whether the filter's
    SQL may be kept (a store that rewrites some values first says no for those).
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._cached: dict[tuple[Any, ...], tuple[str, str | None, dict[str, Any], Any]] = {}

    def sql(
        self,
        query: Query,
        compile: Callable[[dict[str, Any], list[Slot]], tuple[str, str | None]],
        *,
        reusable: Callable[[Sequence[Compare]], bool] = lambda leaves: True,
    ) -> SearchSql:
        """The ``WHERE``, sort key and parameters of ``query``."""
        shape, leaves = _Shape.of(query.filter) if query.filter is not None else (None, [])
        cache_key = (shape, query.models, query.policy, query.sort_by)
        cached = self._cached.get(cache_key)
        if cached is not None and reusable(leaves):
            where, key, base, binds = cached
            params = dict(base)
            try:
                for name, index, bind in binds:
                    params[name] = bind(leaves[index].value)
            except ScimError:
                pass  # a value this shape cannot take: compiled below, which explains it
            else:
                return where, key, params
        params = {}
        slots: list[Slot] = []
        where, key = compile(params, slots)
        position = {id(leaf): index for index, leaf in enumerate(leaves)}
        # A node object used twice cannot be rebound, nor one the store rewrote.
        rebindable = len(position) == len(leaves) and all(id(s.node) in position for s in slots)
        if rebindable and reusable(leaves):
            binds = tuple((s.name, position[id(s.node)], s.bind) for s in slots)
            if len(self._cached) >= self.size:
                self._cached.clear()
            self._cached[cache_key] = (where, key, dict(params), binds)
        return where, key, params


class _Shape(Transformer[Any]):
    """A filter with each value replaced by its type: what its SQL text depends on. Its
    comparisons (``leaves``) are collected in the order the compiler meets them."""

    def __init__(self) -> None:
        self.leaves: list[Compare] = []

    @classmethod
    def of(cls, node: Filter) -> tuple[Any, list[Compare]]:
        """The shape of ``node`` and its comparisons."""
        if type(node) is Compare:  # the commonest filter (a lookup), on every search
            return (node.path, node.op, type(node.value)), [node]
        shape = cls()
        return shape.visit(node), shape.leaves

    def compare(self, node: Compare) -> Any:
        self.leaves.append(node)
        return (node.path, node.op, type(node.value))

    def present(self, node: Present) -> Any:
        return node

    def and_(self, node: And) -> Any:
        return (And, tuple(self.visit(operand) for operand in node.operands))

    def or_(self, node: Or) -> Any:
        return (Or, tuple(self.visit(operand) for operand in node.operands))

    def not_(self, node: Not) -> Any:
        return (Not, self.visit(node.operand))

    def value_path(self, node: ValuePath) -> Any:
        return (ValuePath, node.path, self.visit(node.filter))
