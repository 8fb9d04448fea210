"""A resource split for the PostgreSQL tables: the row's documents and the delta elements.

A resource's wire document goes to ``scim_resources.doc`` and its search
document to ``sdoc``, except the *delta attributes* (default ``Group.members``):
their elements go to ``scim_values``, one row each with its own wire and
search document, so that a PATCH adding one member to a group of 100,000
inserts one row. A read joins them back (:func:`wire_expr`, :func:`search_expr`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from scimcore.storage._query import registry_of, resource_type_of
from scimcore.stores._skeleton import storable_json
from scimcore.stores.postgres._config import PostgresConfig
from scimcore.stores.sql._document import search_document, search_values

__all__ = [
    "Parts",
    "element_lookups",
    "element_search_documents",
    "json_text",
    "lookups_of",
    "parts",
    "search_expr",
    "wire_expr",
]


def json_text(document: Any) -> str:
    """The JSON text of a document for ``jsonb``, which holds no U+0000 and no lone
    surrogate: every document is written through it, so a resource holding one is
    refused (:class:`~scimcore.errors.InvalidValue`), and its transaction rolled back."""
    return storable_json(document, "PostgreSQL")


@attrs.frozen
class Parts:
    """A resource split for its tables: the row's documents and the delta elements."""

    wire: dict[str, Any]
    search: dict[str, Any]
    elements: dict[str, list[tuple[dict[str, Any], Any]]]  # wire attr → [(wire, search)]
    lookups: set[tuple[str, str]]


def parts(config: PostgresConfig, name: str, wire: dict[str, Any]) -> Parts:
    """A resource's wire document split into the row's documents and the delta elements."""
    model = config.by_name[name]
    resource_type = resource_type_of(model)
    registry = registry_of(model)
    full = search_document(wire, resource_type, registry)
    lookups = lookups_of(config, name, full)
    delta = config.delta[name]
    if not delta:
        return Parts(wire, full, {}, lookups)
    base = {k: v for k, v in wire.items() if k.casefold() not in delta}
    search_base = {k: v for k, v in full.items() if k not in delta}
    elements: dict[str, list[tuple[dict[str, Any], Any]]] = {}
    for key, value in wire.items():
        folded = key.casefold()
        if folded not in delta or not isinstance(value, list):
            continue
        searches = full.get(folded, [])
        if len(searches) != len(value):
            searches = [
                search_document({key: [v]}, resource_type, registry).get(folded, [{}])[0]
                for v in value
            ]
        elements[delta[folded]] = list(zip(value, searches, strict=True))
    return Parts(base, search_base, elements, lookups)


def element_search_documents(
    config: PostgresConfig, name: str, attr: str, wires: list[dict[str, Any]]
) -> list[Any]:
    """The search documents of new elements of a delta attribute."""
    if not wires:
        return []
    model = config.by_name[name]
    resource_type, registry = resource_type_of(model), registry_of(model)
    searches: list[Any] = search_document({attr: wires}, resource_type, registry).get(
        attr.casefold(), []
    )
    if len(searches) != len(wires):
        searches = [
            search_document({attr: [w]}, resource_type, registry).get(attr.casefold(), [{}])[0]
            for w in wires
        ]
    return searches


def lookups_of(
    config: PostgresConfig, name: str, search: Mapping[str, Any]
) -> set[tuple[str, str]]:
    """The lookup values of a row's own search document: ``(lookup key, value)``."""
    return {
        (key, value)
        for key, keys in config.lookups[name].items()
        for value in search_values(search, keys)
        if isinstance(value, str)
    }


def element_lookups(
    config: PostgresConfig, name: str, elements: Iterable[tuple[str, Any]]
) -> dict[tuple[str, tuple[str, ...]], set[str]]:
    """The lookup values of delta elements (attr, search document): (lookup key,
    search-document keys) → values."""
    out: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for key, keys in config.lookups[name].items():
        for attr, search in elements:
            if keys[0] == attr.casefold() and len(keys) > 1:
                for value in search_values(search, keys[1:]):
                    if isinstance(value, str):
                        out.setdefault((key, keys), set()).add(value)
    return out


def wire_expr(config: PostgresConfig, members: bool, alias: str = "r") -> str:
    """The SQL of a row's wire document, with its delta elements when ``members``."""
    if not members or not any(config.delta.values()):
        return f"{alias}.doc"
    return (
        f"({alias}.doc || COALESCE((SELECT jsonb_object_agg(x.attr, x.docs) FROM (SELECT "
        f"v.attr, jsonb_agg(v.doc ORDER BY v.seq) AS docs FROM scim_values AS v WHERE "
        f"v.rid = {alias}.rid GROUP BY v.attr) AS x), '{{}}'::jsonb))"
    )


def search_expr() -> str:
    """The SQL of the row ``r``'s search document, with its delta elements."""
    return (
        "(r.sdoc || COALESCE((SELECT jsonb_object_agg(lower(x.attr), x.sdocs) FROM (SELECT "
        "v.attr, jsonb_agg(v.sdoc ORDER BY v.seq) AS sdocs FROM scim_values AS v WHERE "
        "v.rid = r.rid GROUP BY v.attr) AS x), '{}'::jsonb))"
    )
