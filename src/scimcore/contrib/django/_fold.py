"""``scimcore_fold`` in a Django project's databases (see :mod:`scimcore.mapping._fold`).

SQLite connections get the function as Django opens them (the ``connection_created``
signal, connected when this package is imported); PostgreSQL gets it from a migration
(:class:`InstallFold`) or :func:`install_fold`.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.backends.signals import connection_created
from django.db.migrations.operations.base import Operation
from django.db.models import Func, TextField
from django.utils.deconstruct import deconstructible

from scimcore.mapping import FOLD_FUNCTION, fold_ddl, register_fold

__all__ = ["Fold", "InstallFold", "install_fold", "register_open"]


@deconstructible(path="scimcore.contrib.django.Fold")
class Fold(Func):  # type: ignore[misc]
    """``scimcore_fold(expression)``: for the host's unique constraint or index (a migration
    names it by its public path).

    >>> Fold("username").deconstruct()
    ('scimcore.contrib.django.Fold', ('username',), {})
    """

    function = FOLD_FUNCTION
    output_field = TextField()


def _on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        register_fold(connection.connection)


connection_created.connect(_on_connection, dispatch_uid="scimcore.contrib.django.fold")


def register_open(using: str) -> None:
    """Register the function on the connection of ``using`` this thread already has open
    (those Django opens later get it from the signal)."""
    wrapper = connections[using]
    if wrapper.vendor == "sqlite" and wrapper.connection is not None:
        register_fold(wrapper.connection)


def _create(schema_editor: Any) -> None:
    schema_editor.execute("SELECT pg_advisory_xact_lock(hashtext('scimcore_fold'))", None)
    schema_editor.execute(fold_ddl(), None)


def install_fold(using: str = "default") -> None:
    """Make ``scimcore_fold`` known to the database ``using``, before its tables use it:
    on SQLite, registered on each connection; on PostgreSQL, created (as the migration
    operation :class:`InstallFold` does)."""
    wrapper = connections[using]
    if wrapper.vendor == "postgresql":
        with wrapper.schema_editor() as editor:
            _create(editor)
    else:
        wrapper.ensure_connection()
        register_open(using)


class InstallFold(Operation):  # type: ignore[misc]
    """A migration operation creating ``scimcore_fold`` on PostgreSQL (nothing on SQLite,
    whose connections get it from this package). Put it before the operations of a
    constraint or index on :class:`Fold`::

        operations = [InstallFold(), migrations.AddConstraint(...)]
    """

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label: str, state: Any) -> None:
        """No model changes."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        """``CREATE OR REPLACE FUNCTION scimcore_fold`` on PostgreSQL."""
        if schema_editor.connection.vendor == "postgresql":
            _create(schema_editor)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        """``DROP FUNCTION scimcore_fold`` on PostgreSQL."""
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {FOLD_FUNCTION}(text)", None)

    def describe(self) -> str:
        """What ``migrate`` prints."""
        return f"Create the {FOLD_FUNCTION}() function (PostgreSQL)"


InstallFold.__module__ = "scimcore.contrib.django"  # the path a squashed migration writes
