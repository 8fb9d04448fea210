"""A :class:`~scimcore.mapping.Plan` as a SQLAlchemy 2.x expression on a mapped class.

Case-insensitive comparisons are ``scimcore_fold(column)`` (the evaluator's
case folding in SQL, :func:`~scimcore.contrib.sqlalchemy.install_fold`) against
a value folded in Python; with ``folding="ascii"`` they are ``lower(column)``,
exact only while the host's text is ASCII. ``co``, ``sw`` and ``ew`` are
``LIKE`` with ``%`` and ``_`` escaped (on folded text SQLite's ``LIKE``, which
ignores ASCII case, meets no ASCII capital); a case-exact one on SQLite is
``instr``/``substr`` instead. Text orders by code point: PostgreSQL compares
with ``COLLATE "C"``.
"""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, false, func, not_, or_, true
from sqlalchemy.sql.elements import literal

from scimcore.contrib.sqlalchemy._fold import folded
from scimcore.mapping import All, Any_, Const, Filled, Folding, Negate, Plan, SortPlan, Test

__all__ = ["Renderer"]


class Renderer:
    """Renders plans over ``mapped_class`` for a database dialect (``sqlite``, ``postgresql``…)."""

    def __init__(self, mapped_class: type[Any], dialect: str, folding: Folding = "unicode") -> None:
        self.mapped_class = mapped_class
        self.dialect = dialect
        self.folding = folding

    def fold(self, expression: Any) -> Any:
        """The case fold of a text expression (see the module)."""
        return folded(expression) if self.folding == "unicode" else func.lower(expression)

    def column(self, name: str) -> Any:
        """The mapped class's attribute ``name`` (a column expression)."""
        return getattr(self.mapped_class, name)

    def python_type(self, name: str) -> type[Any] | None:
        """The Python type of a column's values, ``None`` when the type does not say."""
        try:
            found: type[Any] = self.column(name).type.python_type
        except (NotImplementedError, AttributeError):
            return None
        return found

    def naive(self, name: str) -> bool:
        """Whether a dateTime column keeps naive (UTC) values."""
        kind = self.column(name).type
        return not getattr(kind, "timezone", False) or self.dialect == "sqlite"

    def render(self, plan: Plan) -> ColumnElement[bool]:
        """The ``WHERE`` expression of a plan."""
        if isinstance(plan, Test):
            return self.test(plan)
        if isinstance(plan, Filled):
            column = self.column(plan.column)
            if plan.text and self.python_type(plan.column) in (str, None):  # an integer key: no ""
                return and_(column.is_not(None), column != "")
            return column.is_not(None)  # type: ignore[no-any-return]
        if isinstance(plan, Const):
            return true() if plan.value else false()
        if isinstance(plan, All):
            return and_(*(self.render(part) for part in plan.parts))
        if isinstance(plan, Any_):
            return or_(*(self.render(part) for part in plan.parts))
        assert isinstance(plan, Negate)
        return not_(self.render(plan.part))

    def value(self, name: str, value: Any) -> Any:
        """A filter value as the column keeps it (dateTimes naive UTC where the column is)."""
        if isinstance(value, datetime.datetime) and self.naive(name):
            return value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value

    def test(self, plan: Test) -> ColumnElement[bool]:
        """``column op value``, the column not null."""
        column = self.column(plan.column)
        subject = column
        if plan.key and self.python_type(plan.column) is not str:
            subject = cast(column, String)
        if plan.folded:
            subject = self.fold(subject)
        value = self.value(plan.column, plan.value)
        op = plan.op
        text = isinstance(value, str)
        if op == "eq":
            condition = subject == value
        elif op in ("co", "sw", "ew"):
            condition = self.substring(subject, op, value, plan.folded)
        else:
            if text and self.dialect == "postgresql":
                subject = subject.collate("C")
            if op == "gt":
                condition = subject > value
            elif op == "ge":
                condition = subject >= value
            elif op == "lt":
                condition = subject < value
            else:
                condition = subject <= value
        return and_(column.is_not(None), condition)

    def substring(self, subject: Any, op: str, value: str, folded: bool) -> ColumnElement[bool]:
        """``co``/``sw``/``ew``: ``LIKE`` with wildcards escaped, or exact on SQLite."""
        if self.dialect == "sqlite" and not folded:
            size = len(value)
            if op == "co":
                return func.instr(subject, value) > 0
            if op == "sw":
                return func.substr(subject, 1, size) == value
            return func.substr(subject, func.length(subject) - size + 1) == literal(value)
        if op == "co":
            return subject.contains(value, autoescape=True)  # type: ignore[no-any-return]
        if op == "sw":
            return subject.startswith(value, autoescape=True)  # type: ignore[no-any-return]
        return subject.endswith(value, autoescape=True)  # type: ignore[no-any-return]

    def sort_value(self, plan: SortPlan) -> Any:
        """The value a row sorts by: the first filled column, ``NULL`` when none is."""
        parts = []
        for name in plan.columns:
            column = self.column(name)
            if plan.key and self.python_type(name) is not str:
                column = cast(column, String)
            if plan.text:
                column = func.nullif(column, "")
            if plan.folded:
                column = self.fold(column)
            parts.append(column)
        value = parts[0] if len(parts) == 1 else func.coalesce(*parts)
        if plan.text and self.dialect == "postgresql":
            value = value.collate("C")
        return value

    @staticmethod
    def missing(value: Any) -> Any:
        """1 where a row has no sort value, else 0."""
        return case((value.is_(None), 1), else_=0)
