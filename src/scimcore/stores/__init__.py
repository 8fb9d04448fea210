"""The stores shipped with scimcore: :class:`MemoryStore`, :class:`SQLiteStore` and
:class:`PostgresStore` (with its async twin, :class:`AsyncPostgresStore`).

All implement :class:`scimcore.storage.ResourceStore` (and the optional
:class:`~scimcore.storage.SupportsUpdate`) and pass
:class:`scimcore.testing.StoreContract`. ``MemoryStore`` is the reference: it
filters with the evaluator. ``SQLiteStore`` and ``PostgresStore`` run filters
and sorts in SQL (:mod:`scimcore.stores.sql`), with the same results.

Each store is a package (:mod:`~scimcore.stores.memory`,
:mod:`~scimcore.stores.sqlite`, :mod:`~scimcore.stores.postgres`) built on the
store skeleton (``scimcore.stores._skeleton``): the configuration, naming,
uniqueness and lookup rules, the U+0000 and lone-surrogate checks and the one
page and cursor assembly they share. That assembly is public for a host's
own store: :func:`paging` makes the page a :class:`~scimcore.storage.Query` asks
for from the :class:`Rows` a store ``fetch``-es, with RFC 9865 cursors both ways
(:func:`sort_key` is a row's key); :mod:`scimcore.contrib.sqlalchemy` uses it.

>>> from scimcore.models import User
>>> store = MemoryStore()
>>> store.get(User, store.create(User(user_name="bjensen")).id).user_name
'bjensen'
"""

from scimcore.stores._skeleton import DEFAULT_LOOKUPS, Found, Rows, paging, sort_key
from scimcore.stores.memory import MemoryStore
from scimcore.stores.postgres import AsyncPostgresStore, PostgresStore  # psycopg: on first use
from scimcore.stores.sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = [
    "DEFAULT_LOOKUPS",
    "SCHEMA_VERSION",
    "AsyncPostgresStore",
    "Found",
    "MemoryStore",
    "PostgresStore",
    "Rows",
    "SQLiteStore",
    "paging",
    "sort_key",
]
