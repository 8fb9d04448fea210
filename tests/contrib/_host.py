"""A host application's own user table, as a SaaS product has it, and its attribute map."""

from __future__ import annotations

import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from scimcore.contrib.sqlalchemy import folded
from scimcore.mapping import AttributeMap
from scimcore.models import User

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class Base(DeclarativeBase):
    """The host's declarative base."""


class Account(Base):
    """The host's accounts: a work and a home email column, no SCIM in sight."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(200))
    last_name: Mapped[str | None] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    home_email: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool | None]
    employee_number: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    login_count: Mapped[int] = mapped_column(Integer, default=0)  # the host's own, not SCIM's


#: userName is unique case-insensitively: the host's index on scimcore_fold(username).
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
        'emails[type eq "home"].value': "home_email",
        "active": "is_active",
        f"{ENTERPRISE}:employeeNumber": "employee_number",
    },
    version="version",
    created="created_at",
    last_modified="updated_at",
)
