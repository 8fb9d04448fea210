"""The stores shipped with scimcore: :class:`MemoryStore`, :class:`SQLiteStore` and
:class:`PostgresStore` (with its async twin, :class:`AsyncPostgresStore`).

All implement :class:`scimcore.storage.ResourceStore` (and the optional
:class:`~scimcore.storage.SupportsUpdate`) and pass
:class:`scimcore.testing.StoreContract`. ``MemoryStore`` is the reference: it
filters with the evaluator. ``SQLiteStore`` runs filters and sorts in SQL
(:mod:`scimcore.stores.sql`), with the same results.

>>> from scimcore.models import User
>>> store = MemoryStore()
>>> store.get(User, store.create(User(user_name="bjensen")).id).user_name
'bjensen'
"""

from scimcore.stores._common import DEFAULT_LOOKUPS
from scimcore.stores._memory import MemoryStore
from scimcore.stores._postgres import AsyncPostgresStore, PostgresStore  # psycopg: on first use
from scimcore.stores._sqlite import SCHEMA_VERSION, SQLiteStore

__all__ = [
    "DEFAULT_LOOKUPS",
    "SCHEMA_VERSION",
    "AsyncPostgresStore",
    "MemoryStore",
    "PostgresStore",
    "SQLiteStore",
]
