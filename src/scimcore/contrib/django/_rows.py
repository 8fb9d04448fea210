"""How :class:`~scimcore.contrib.django.DjangoStore` reads host rows.

Theory of operation: the attribute map reads a row with ``getattr`` of its
columns (:meth:`~scimcore.mapping.AttributeMap.read_columns`). When those are
all concrete columns of the model and the map has no computed getters, a row
is a plain object holding just them, fetched with ``values_list`` (no model
instance, none of the model's other columns); otherwise it is the model
itself, which a getter may use as it likes.

Django compiles a queryset to SQL each time it runs one, and for a one-row
lookup that costs several times what the database does. A lookup by key is
the same statement every time but for its key, so :meth:`Reader.by_key`
compiles it with Django's own compiler once per connection (the first time
that connection runs it), keeps the SQL and the converters the compiler
chose for its columns (the backend's and the fields', as ``values_list``
applies them), and afterwards runs only the cursor, the key made a database
value by its field as the ``exact`` lookup makes it. A statement whose one
parameter is not that value is not kept: the queryset runs as usual.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import attrs
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import IntegerField

from scimcore.mapping import AttributeMap

__all__ = ["Reader"]


@attrs.frozen
class _Lookup:
    """A lookup by key as one connection runs it: its SQL and its columns' converters."""

    sql: str
    converters: tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


class Reader:
    """The rows of ``model`` the map reads, on the database alias ``using`` (see the module)."""

    def __init__(self, model: type[Any], attribute_map: AttributeMap, using: str) -> None:
        self.model = model
        self.using = using
        self.key = attribute_map.id.name
        self.key_field = model._meta.get_field(self.key)
        self.integer = isinstance(self.key_field, IntegerField)
        concrete = tuple(field.attname for field in model._meta.concrete_fields)
        wanted = attribute_map.read_columns()
        #: Whether rows are plain objects (else model instances).
        self.plain = not attribute_map.computed and set(wanted) <= set(concrete)
        #: The columns a row holds, in the order they are selected.
        self.names = wanted if self.plain else concrete
        self._lookups: weakref.WeakKeyDictionary[Any, _Lookup | None] = weakref.WeakKeyDictionary()
        self._adding = threading.Lock()

    def rows(
        self, queryset: Any, extra: Sequence[str] = (), start: int = 0, stop: int | None = None
    ) -> list[Any]:
        """The rows of ``queryset[start:stop]``, with its annotations ``extra`` as attributes."""
        if not self.plain:
            return list(queryset[start:stop])
        names = (*self.names, *extra)
        return [self._plain(names, values) for values in queryset.values_list(*names)[start:stop]]

    def by_key(self, key: Any) -> Any | None:
        """The row whose key column is ``key``, ``None`` if there is none (or ``key`` is not a
        value of that column)."""
        connection = connections[self.using]
        try:
            value = self.key_field.get_db_prep_value(key, connection)
        except (ValidationError, ValueError, TypeError):
            return None
        lookup = self._lookups.get(connection)
        if self._fits(key, connection):
            if lookup is None and connection not in self._lookups:
                lookup = self._compile(connection, key, value)
                with self._adding:  # each thread adds its own connection's
                    self._lookups[connection] = lookup
        else:
            lookup = None  # Django answers it without asking the database (no row)
        if lookup is None:
            manager = self.model._default_manager.db_manager(self.using)
            found = self.rows(manager.filter(**{self.key: key}), stop=1)
            return found[0] if found else None
        with connection.cursor() as cursor:
            cursor.execute(lookup.sql, [value])
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for position, functions, expression in lookup.converters:
            found_value = values[position]
            for function in functions:
                found_value = function(found_value, expression, connection)
            values[position] = found_value
        if self.plain:
            return self._plain(self.names, values)
        return self.model.from_db(self.using, self.names, values)

    def _fits(self, key: Any, connection: Any) -> bool:
        """Whether an integer key is in its column's range (Django's ``exact`` finds no row
        for one that is not, without running the statement)."""
        if not self.integer or not isinstance(key, int):
            return True
        low, high = connection.ops.integer_field_range(self.key_field.get_internal_type())
        return (low is None or key >= low) and (high is None or key <= high)

    def _compile(self, connection: Any, key: Any, value: Any) -> _Lookup | None:
        queryset = (
            self.model._default_manager.db_manager(self.using)
            .filter(**{self.key: key})
            .values_list(*self.names)
        )
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if list(params) != [value]:
            return None
        selected = [column for column, _, _ in compiler.select[: compiler.col_count]]
        converters = compiler.get_converters(selected)
        return _Lookup(
            sql,
            tuple(
                (position, tuple(functions), expression)
                for position, (functions, expression) in converters.items()
            ),
        )

    @staticmethod
    def _plain(names: Sequence[str], values: Sequence[Any]) -> Any:
        return SimpleNamespace(**dict(zip(names, values, strict=True)))
