"""What every store's search shares: the evaluator's predicate, the policy, the SQL ``WHERE``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from scimcore.policy import Policy
from scimcore.storage._query import Query

if TYPE_CHECKING:
    from scimcore.stores._skeleton._config import StoreConfig

__all__ = ["predicate", "remembered", "search_policy", "where_sql"]

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
