"""The host's accounts as a Django model (import after :func:`tests._django.configure`)."""

from __future__ import annotations

from django.db import models

from scimcore.contrib.django import Fold


class Account(models.Model):  # type: ignore[misc]
    """The same accounts table as tests.contrib._host, kept by Django."""

    username = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, null=True)
    first_name = models.CharField(max_length=200, null=True)
    last_name = models.CharField(max_length=200, null=True)
    display_name = models.CharField(max_length=200, null=True)
    email = models.CharField(max_length=200, null=True)
    home_email = models.CharField(max_length=200, null=True)
    is_active = models.BooleanField(null=True)
    employee_number = models.CharField(max_length=50, null=True)
    created_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField(null=True)
    version = models.IntegerField(default=1)
    login_count = models.IntegerField(default=0)

    class Meta:
        app_label = "scimcore_host"
        db_table = "accounts"
        constraints = (models.UniqueConstraint(Fold("username"), name="accounts_username_folded"),)
