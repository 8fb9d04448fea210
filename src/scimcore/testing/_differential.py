"""The differential check: a store's search against the evaluator's, and the expected order.

The expected order is computed from the typed resources, independently of any
store (RFC 7644 §3.4.2.3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scimcore.errors import InvalidFilter, ScimError
from scimcore.policy import Policy
from scimcore.schema import AttributeRef
from scimcore.storage import Query, ResourceStore
from scimcore.storage._values import comparable

__all__ = ["decode", "differential", "expected_order_key", "query_fields"]


def _container(resource: Any, ref: AttributeRef) -> Any:
    model = type(resource)
    if ref.common or ref.schema.id == model.__scim_resource_type__.schema:
        return resource
    return resource.extensions.get(ref.schema.id)


def expected_order_key(resource: Any, ref: AttributeRef | None) -> tuple[Any, ...]:
    """The key a resource sorts by (RFC 7644 §3.4.2.3), from the typed resource.

    Missing (``None``, ``""``) sorts after every value; numbers before strings; a
    multi-valued attribute sorts by its primary element, else its first.
    """
    if ref is None:
        return (1, 0, 0)
    container = _container(resource, ref)
    value = getattr(container, ref.chain[0].python_name, None) if container is not None else None
    if ref.chain[0].multi_valued:
        if not value:
            value = None
        else:
            element = value[0]
            if len(ref.chain) > 1:
                for item in value:
                    if getattr(item, "primary", None) is True:
                        element = item
                        break
            value = element
    if len(ref.chain) > 1 and value is not None:
        value = getattr(value, ref.chain[1].python_name, None)
    if value is None or value == "":
        return (1, 0, 0)
    value = comparable(value, ref.target)
    if isinstance(value, bool | int | float):
        return (0, 0, value)
    return (0, 1, value)


def decode(data: dict[str, Any], model: type[Any]) -> Any:
    from scimcore.codecs.v2 import decode

    return decode(data, model)


def _evaluate(text: str, model: type[Any], policy: Policy) -> Callable[[Any], bool]:
    from scimcore.filter import compile_filter, parse_filter

    return compile_filter(parse_filter(text), model, policy=policy)


def query_fields(query: Query) -> dict[str, Any]:
    return {
        "models": query.models,
        "filter": query.filter,
        "sort_by": query.sort_by,
        "sort_order": query.sort_order,
        "count": query.count,
        "policy": query.policy,
    }


def _names(resources: list[Any]) -> list[str]:
    return sorted(str(getattr(r, "user_name", None) or r.display_name) for r in resources)


def differential(
    store: ResourceStore,
    models: tuple[type[Any], ...],
    resources: list[Any],
    text: str,
    sort_by: str | None,
    order: str,
) -> str | None:
    """``None`` when the store selects and orders what the evaluator says; else why not."""
    from scimcore.filter import parse_filter
    from scimcore.storage._query import resolve_sort

    policy = Policy() if len(models) == 1 else Policy(unknown_filter_attribute="matches_nothing")
    try:
        node = parse_filter(text)
        tests = {model: _evaluate(text, model, policy) for model in models}
        expected = [r for r in resources if tests[type(r)](r)]
        expected_error: type[ScimError] | None = None
    except ScimError as exc:
        expected, expected_error = [], type(exc)
    try:
        page = store.search(
            Query(
                models=models,
                filter=node if expected_error is None else text,
                sort_by=sort_by,
                sort_order=order,
                policy=policy,
            )
        )
    except ScimError as exc:
        if expected_error is not None and isinstance(exc, InvalidFilter):
            return None
        return f"{text!r} sort={sort_by}: store raised {exc!r}, evaluator did not"
    if expected_error is not None:
        return f"{text!r}: evaluator raised {expected_error.__name__}, store did not"
    got = list(page.resources)
    if sorted(r.id for r in got) != sorted(r.id for r in expected):
        return f"{text!r}: store {_names(got)} != evaluator {_names(expected)}"
    if page.total != len(expected):
        return f"{text!r}: total {page.total} != {len(expected)}"
    if sort_by is not None:
        keys = [expected_order_key(r, resolve_sort(sort_by, type(r))) for r in got]
        wanted = sorted(keys, reverse=order == "descending")
        if keys != wanted:
            return f"{text!r} sort={sort_by} {order}: out of order"
    return None
