"""The memory store: :class:`MemoryStore`, the reference every other store is checked against.

- :mod:`._store`: the store: rows behind one lock, uniqueness claims, the protocol;
- :mod:`._table`: a resource type's rows, by ``id`` and in creation order, with
  hash columns of their search documents for fast scans;
- :mod:`._search`: hash-column narrowing, sort values, the rows the pager asks for;
- :mod:`._copies`: the copies it hands out (models and wire documents).

>>> from scimcore.models import User
>>> store = MemoryStore()
>>> store.get(User, store.create(User(user_name="bjensen")).id).user_name
'bjensen'
"""

from scimcore.stores.memory._store import MemoryStore

__all__ = ["MemoryStore"]
