"""A FastAPI app that serves SCIM from its own SQLAlchemy accounts table (docs/own-table.md).

Run it with ``uvicorn docs.examples.fastapi_sqlalchemy:app``; ``DATABASE_URL`` (default a
SQLite file) and ``SCIM_TOKEN`` configure it. Every user created through SCIM gets the role
``member`` (a lifecycle hook).
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy import DateTime, Engine, Index, Integer, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import scimcore.asgi
from scimcore.contrib.sqlalchemy import MappedStore, folded, install_fold
from scimcore.mapping import AttributeMap
from scimcore.models import Role, User
from scimcore.service import Hooks, ScimService


class Base(DeclarativeBase):
    """The application's declarative base."""


class Account(Base):
    """The application's accounts, as they were before SCIM."""

    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(50))
    employee_number: Mapped[str | None] = mapped_column(String(50))
    is_active: Mapped[bool | None]
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


#: userName is unique in any case, and a `userName eq` lookup uses this index.
Index("accounts_username_folded", folded(Account.username), unique=True)

ACCOUNTS = AttributeMap(
    User,
    {
        "userName": "username",
        "externalId": "external_id",
        "name.givenName": "first_name",
        "name.familyName": "last_name",
        "displayName": "display_name",
        'emails[type eq "work"].value': "email",
        'roles[type eq "app"].value': "role",
        "active": "is_active",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": (
            "employee_number"
        ),
    },
    version="version",
    created="created_at",
    last_modified="updated_at",
)


class DefaultRole(Hooks):
    """Every user created through SCIM is a member."""

    def before_create(self, ctx: Any, resource: Any) -> Any:
        if isinstance(resource, User) and not resource.roles:
            resource.roles.append(Role(value="member", type="app"))
        return resource


def accounts_store(engine: Engine) -> MappedStore:
    """The SCIM store of the accounts table (made, with ``scimcore_fold``, if missing)."""
    install_fold(engine)  # before the tables: the index on userName uses it
    Base.metadata.create_all(engine)
    return MappedStore(engine, Account, ACCOUNTS)


def create_app(engine: Engine, token: str) -> FastAPI:
    """The application, its SCIM endpoint under ``/scim/v2``."""
    store = accounts_store(engine)
    service = ScimService(store, resource_types=[User], hooks=DefaultRole(), tokens=[token])
    app = FastAPI()
    app.mount("/scim/v2", scimcore.asgi.create_app(service))
    return app


if os.environ.get("SCIM_TOKEN"):  # under uvicorn; the tests call create_app themselves
    app = create_app(
        create_engine(os.environ.get("DATABASE_URL", "sqlite:///accounts.sqlite3")),
        os.environ["SCIM_TOKEN"],
    )
