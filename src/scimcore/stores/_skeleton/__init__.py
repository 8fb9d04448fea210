"""The store skeleton: what MemoryStore, SQLiteStore and PostgresStore are built on.

Each shipped store is its own package (:mod:`~scimcore.stores.memory`,
:mod:`~scimcore.stores.sqlite`, :mod:`~scimcore.stores.postgres`); what they
share is written once, here:

- :mod:`._config`: :class:`StoreConfig`, the constructor arguments every store
  takes (models, unique attributes, indexed lookups, clock, cursor timeout),
  the folded resource type names a store keys by (:meth:`StoreConfig.name`),
  the errors for an unknown model or ``id``, and the index digest of a SQL store;
- :mod:`._rules`: uniqueness rules and lookups, read from the schema;
- :mod:`._writing`: a written resource's ``id`` and ``meta``
  (:func:`stamp`), and the JSON text a SQL store keeps, refusing U+0000 and
  lone surrogates (:func:`storable_json`);
- :mod:`._search`: the evaluator's predicate, cached per filter node, which every
  store compiles first (the SQL stores to validate a filter), the policy of a
  search over several types, the ``WHERE`` of a SQL search, and its SQL cached per
  filter shape (:class:`ShapeCache`);
- :mod:`._paging`: the one page and cursor assembly (:func:`paging`): offset
  pages with their total, RFC 9865 keyset cursors both ways;
- :mod:`._update`: the protocol's ``update`` (:class:`NativeUpdate`), for a store
  that changes a resource under its own lock or transaction, and the member delta a
  ``PatchResult`` makes (:func:`member_delta`), for ``update_members``, and the rows a
  whole-list rewrite keeps (:func:`rows_to_rewrite`), for the stores that keep a list's
  elements in rows (SQLite's members, PostgreSQL's delta attributes).

The update contract (a ``PatchResult`` or a function; nothing changed, nothing
written) is :mod:`scimcore.storage._change`, shared with
:func:`scimcore.storage.update`.
"""

from scimcore.stores._skeleton._config import (
    DEFAULT_LOOKUPS,
    Clock,
    StoreConfig,
    default_models,
    per_type,
    utcnow,
)
from scimcore.stores._skeleton._paging import Found, Rows, paging, sort_key
from scimcore.stores._skeleton._rules import (
    UniqueRule,
    attribute_ref,
    lookup_refs,
    shown,
    unique_rules,
    unique_values,
)
from scimcore.stores._skeleton._search import (
    ShapeCache,
    predicate,
    remembered,
    search_policy,
    where_sql,
)
from scimcore.stores._skeleton._update import (
    MemberDelta,
    NativeUpdate,
    element_key,
    member_delta,
    rows_to_rewrite,
)
from scimcore.stores._skeleton._writing import has_nul, new_id, stamp, storable_json

__all__ = [
    "DEFAULT_LOOKUPS",
    "Clock",
    "Found",
    "MemberDelta",
    "NativeUpdate",
    "Rows",
    "ShapeCache",
    "StoreConfig",
    "UniqueRule",
    "attribute_ref",
    "default_models",
    "element_key",
    "has_nul",
    "lookup_refs",
    "member_delta",
    "new_id",
    "paging",
    "per_type",
    "predicate",
    "remembered",
    "rows_to_rewrite",
    "search_policy",
    "shown",
    "sort_key",
    "stamp",
    "storable_json",
    "unique_rules",
    "unique_values",
    "utcnow",
    "where_sql",
]
