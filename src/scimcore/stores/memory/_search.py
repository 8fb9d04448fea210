"""How the memory store searches: hash-column narrowing, sort values, rows for the pager.

The evaluator decides every match (:func:`~scimcore.stores._skeleton.predicate`);
:func:`narrowed` only passes over rows that cannot match, and
:func:`rows_in_memory` answers the skeleton's :class:`~scimcore.stores._skeleton.Rows`
from the sorted matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

from scimcore.filter import And, Compare, Not, Or, Present, Transformer, ValuePath
from scimcore.schema import TEXT_TYPES, AttributeRef, AttributeType
from scimcore.storage._cursor import SortKey
from scimcore.storage._query import registry_of, resource_type_of
from scimcore.storage._values import comparable
from scimcore.stores._skeleton import Found, Rows, remembered
from scimcore.stores.memory._table import Row, Table, probe_for
from scimcore.stores.sql._document import document_keys

__all__ = ["narrowed", "narrows", "order_key", "rows_in_memory", "sort_value"]


def narrowed(table: Table, node: Any, model: type[Any]) -> Iterable[Row]:
    """The rows that can match ``node``, found with a column scan of their search
    documents; the evaluator still decides each of them.

    A filter that holds only where a singular text attribute equals a string
    (``title eq "x"``, alone or as a term of an ``and``) can only match rows whose
    search document holds that string's comparable form there (the evaluator folds
    exactly as :func:`~scimcore.storage.comparable` does), so the other rows are
    passed over by one scan of a hash column (:meth:`Table.candidates`)
    instead of a run of the evaluator each.
    """
    narrowing = remembered(node, ("narrowing", model), lambda: _narrowing(node, model))
    if narrowing is None:
        return table.rows()
    return table.candidates(*narrowing)


def narrows(node: Any, model: type[Any]) -> bool:
    """Whether :func:`narrowed` finds the rows that can match ``node`` with a column scan
    (so that the evaluator runs on a few rows, not on every one)."""
    return remembered(node, ("narrowing", model), lambda: _narrowing(node, model)) is not None


def _narrowing(node: Any, model: type[Any]) -> tuple[tuple[str, ...], re.Pattern[bytes]] | None:
    """The search-document keys and the probe for the value a match must hold there."""
    found = _EqualityTerm(model).visit(node)
    if found is None:
        return None
    term, ref = found
    needle = comparable(term.value, ref.target)
    return document_keys(ref, resource_type_of(model)), probe_for(needle)


class _EqualityTerm(Transformer["tuple[Compare, AttributeRef] | None"]):
    """An ``eq`` of a singular text attribute with a string that a filter needs to hold
    (the filter itself, or a term of an ``and``) and the attribute it names; ``None``
    for a filter that needs none (``or``, ``not``, ``pr``, a ``[…]``)."""

    def __init__(self, model: type[Any]) -> None:
        self.model = model

    def and_(self, node: And) -> tuple[Compare, AttributeRef] | None:
        terms = (self.visit(operand) for operand in node.operands)
        return next((term for term in terms if term is not None), None)

    def compare(self, node: Compare) -> tuple[Compare, AttributeRef] | None:
        if node.op != "eq" or not isinstance(node.value, str):
            return None
        model = self.model
        ref = registry_of(model).resolve(str(node.path), resource_type=resource_type_of(model))
        if (
            ref is None
            or ref.target.type not in TEXT_TYPES
            or ref.target.is_complex
            or any(attribute.multi_valued for attribute in ref.chain)
        ):
            return None
        return node, ref

    def or_(self, node: Or) -> None:
        return None

    def not_(self, node: Not) -> None:
        return None

    def present(self, node: Present) -> None:
        return None

    def value_path(self, node: ValuePath) -> None:
        return None


def sort_value(document: Mapping[str, Any], ref: AttributeRef, keys: tuple[str, ...]) -> Any:
    """The value a resource sorts by, read from its search document; ``None`` if none.

    A multi-valued attribute sorts by the primary element, else the first
    (RFC 7644 §3.4.2.3). ``""`` counts as no value, as it does for ``pr``.
    """
    top = ref.chain[0]
    offset = len(keys) - len(ref.chain)
    value: Any = document
    for key in keys[: offset + 1]:
        value = value.get(key) if isinstance(value, Mapping) else None
    if top.multi_valued:
        if not isinstance(value, list) or not value:
            return None
        element = value[0]
        if len(ref.chain) > 1:
            primary = top.sub_attribute("primary")
            if primary is not None and primary.type is AttributeType.BOOLEAN:
                element = next(
                    (e for e in value if isinstance(e, Mapping) and e.get("primary") is True),
                    element,
                )
        value = element
    for key in keys[offset + 1 :]:
        value = value.get(key) if isinstance(value, Mapping) else None
    if isinstance(value, Mapping | list) or value == "" or value is None:
        return None
    return value


def order_key(key: SortKey) -> tuple[Any, ...]:
    """A Python-comparable form of a sort key, in SQLite's order (numbers before text).

    >>> sorted([(False, "b", 1), (True, None, 2), (False, 3, 3)], key=order_key)
    [(False, 3, 3), (False, 'b', 1), (True, None, 2)]
    """
    missing, value, seq = key
    if missing or value is None:
        return (1, 0, 0, seq)
    if isinstance(value, bool | int | float):
        return (0, 0, value, seq)
    return (0, 1, value, seq)


def rows_in_memory(
    rows: list[tuple[SortKey, Row]], descending: bool
) -> Callable[[Rows], Generator[None, None, Found[tuple[SortKey, Row]]]]:
    """The pager's ``fetch`` over every match with its sort key, sorted by
    :func:`order_key` (reversed when ``descending``): nothing to perform, the rows
    are at hand."""

    def fetch(ask: Rows) -> Generator[None, None, Found[tuple[SortKey, Row]]]:
        yield from ()
        ordered = rows if ask.descending == descending else rows[::-1]
        if ask.after is not None:
            anchor = order_key(ask.after)
            if ask.descending:
                ordered = [pair for pair in ordered if order_key(pair[0]) < anchor]
            else:
                ordered = [pair for pair in ordered if order_key(pair[0]) > anchor]
        stop = None if ask.limit is None else ask.offset + ask.limit
        return len(rows), ordered[ask.offset : stop]

    return fetch
