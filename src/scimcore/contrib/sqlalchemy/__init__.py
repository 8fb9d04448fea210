"""SCIM on a SQLAlchemy 2.x mapped class: :class:`MappedStore`, and :class:`AsyncMappedStore`
on an async engine (the ``sqlalchemy`` extra).

>>> from sqlalchemy import create_engine, Integer, String
>>> from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
>>> from scimcore.mapping import AttributeMap
>>> from scimcore.models import User
>>> class Base(DeclarativeBase): ...
>>> class Account(Base):
...     __tablename__ = "accounts"
...     id: Mapped[int] = mapped_column(primary_key=True)
...     username: Mapped[str] = mapped_column(String(100), unique=True)
...     version: Mapped[int] = mapped_column(Integer, default=1)
>>> engine = create_engine("sqlite://")
>>> install_fold(engine)  # scimcore_fold(), which case-insensitive filters compare with
>>> Base.metadata.create_all(engine)
>>> accounts = AttributeMap(User, {"userName": "username"}, version="version")
>>> store = MappedStore(engine, Account, accounts)
>>> user = store.create(User(user_name="bjensen"))
>>> user.id, user.meta.version
('1', 'W/"1"')
>>> from scimcore.storage import Query
>>> page = store.search(Query(models=User, filter='userName eq "BJENSEN"'))
>>> [u.user_name for u in page.resources]
['bjensen']
>>> _ = store.create(User(user_name="Straße"))
>>> page = store.search(Query(models=User, filter='userName sw "STRASS"'))
>>> [u.user_name for u in page.resources]
['Straße']

On an async engine (here aiosqlite's), :class:`AsyncMappedStore` runs the same
operations, awaited; a service serves it with ``handle_async`` (ASGI):

>>> import asyncio
>>> from sqlalchemy.ext.asyncio import create_async_engine
>>> async def main():
...     engine = create_async_engine("sqlite+aiosqlite://")
...     async with engine.begin() as connection:
...         await connection.run_sync(Base.metadata.create_all)
...     store = AsyncMappedStore(engine, Account, accounts)
...     user = await store.create(User(user_name="bjensen"))
...     found = await store.search(Query(models=User, filter='userName eq "BJENSEN"'))
...     await engine.dispose()
...     return user.meta.version, [u.id for u in found.resources]
>>> asyncio.run(main())
('W/"1"', ['1'])
"""

from scimcore.contrib.sqlalchemy._fold import folded, install_fold
from scimcore.contrib.sqlalchemy._render import Renderer
from scimcore.contrib.sqlalchemy._store import AsyncMappedStore, MappedStore

__all__ = ["AsyncMappedStore", "MappedStore", "Renderer", "folded", "install_fold"]
