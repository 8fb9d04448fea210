"""A Django project's own accounts model served over SCIM (docs/own-table.md).

In a project, the model goes in an app's ``models.py`` and the patterns in ``urls.py``::

    from accounts.scim import scim_service
    from scimcore.contrib.django import scim_urls

    urlpatterns = [path("admin/", admin.site.urls), *scim_urls(scim_service("default", TOKEN))]

Import this module once Django is set up (the model needs the app registry).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from scimcore.contrib.django import DjangoStore, Fold
from scimcore.mapping import AttributeMap
from scimcore.models import Role, User
from scimcore.service import Hooks, ScimService


class Account(models.Model):  # type: ignore[misc]
    """The project's accounts, as they were before SCIM."""

    username = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, null=True)
    first_name = models.CharField(max_length=100, null=True)
    last_name = models.CharField(max_length=100, null=True)
    display_name = models.CharField(max_length=200, null=True)
    email = models.CharField(max_length=200, null=True)
    role = models.CharField(max_length=50, null=True)
    employee_number = models.CharField(max_length=50, null=True)
    is_active = models.BooleanField(null=True)
    created_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(null=True)
    version = models.IntegerField(default=1)

    class Meta:
        app_label = "accounts"
        db_table = "example_accounts"
        # userName is unique in any case, and a `userName eq` lookup uses this index (on
        # PostgreSQL, the migration that adds it runs InstallFold() first: docs/own-table.md).
        constraints = (models.UniqueConstraint(Fold("username"), name="example_username"),)


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


def accounts_store(using: str) -> DjangoStore:
    """The SCIM store of the accounts kept in the database ``using``."""
    return DjangoStore(Account, ACCOUNTS, using=using)


def scim_service(using: str, token: str) -> ScimService:
    """The SCIM service of the accounts kept in the database ``using``."""
    store = accounts_store(using)
    return ScimService(store, resource_types=[User], hooks=DefaultRole(), tokens=[token])
