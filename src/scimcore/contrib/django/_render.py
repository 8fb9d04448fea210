"""A :class:`~scimcore.mapping.Plan` as a Django ORM ``Q`` object on a host model.

The semantics are :mod:`scimcore.contrib.sqlalchemy`'s: ``scimcore_fold()``
(:class:`~scimcore.contrib.django.Fold`; ``Lower`` with ``folding="ascii"``)
against a value case-folded in Python for ``caseExact: false``; ``contains``,
``startswith`` and ``endswith`` lookups (Django escapes ``%`` and ``_``), or,
for a case-exact one on SQLite (whose ``LIKE`` ignores ASCII case),
``StrIndex``/``Left``/``Right``; text ordered by code point (``COLLATE "C"``
on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Coalesce, Collate, Left, Lower, NullIf, Right, StrIndex
from django.db.models.lookups import (
    Contains,
    EndsWith,
    Exact,
    GreaterThan,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    LessThanOrEqual,
    StartsWith,
)

from scimcore.contrib.django._fold import Fold
from scimcore.mapping import All, Any_, Const, Filled, Folding, Negate, Plan, SortPlan, Test

__all__ = ["QRenderer"]

_ORDER = {
    "gt": GreaterThan,
    "ge": GreaterThanOrEqual,
    "lt": LessThan,
    "le": LessThanOrEqual,
}
_PATTERNS = {"co": Contains, "sw": StartsWith, "ew": EndsWith}


class QRenderer:
    """Renders plans over a Django model's fields for a database vendor."""

    def __init__(self, model: type[Any], vendor: str, folding: Folding = "unicode") -> None:
        self.model = model
        self.vendor = vendor
        self.folding = folding

    def fold(self, expression: Any) -> Any:
        """The case fold of a text expression (see the module)."""
        return Fold(expression) if self.folding == "unicode" else Lower(expression)

    def text_field(self, name: str) -> bool:
        """Whether a field keeps text."""
        field = self.model._meta.get_field(name)
        return field.get_internal_type() in ("CharField", "TextField", "EmailField", "SlugField")

    def render(self, plan: Plan) -> Q:
        """The ``Q`` of a plan without constants (:class:`Const` is the caller's)."""
        if isinstance(plan, Test):
            return self.test(plan)
        if isinstance(plan, Filled):
            found = Q(IsNull(F(plan.column), False))
            if plan.text and self.text_field(plan.column):  # an integer key is never ""
                found &= ~Q(Exact(F(plan.column), ""))
            return found
        if isinstance(plan, All | Any_):
            parts = [self.render(part) for part in plan.parts]
            combined = parts[0]
            for part in parts[1:]:
                combined = combined & part if isinstance(plan, All) else combined | part
            return combined
        if isinstance(plan, Negate):
            return ~self.render(plan.part)
        assert not isinstance(plan, Const), "constants are folded before rendering"
        raise TypeError(plan)  # pragma: no cover

    def test(self, plan: Test) -> Q:
        """``column op value``, the column not null."""
        subject: Any = F(plan.column)
        if plan.key and not self.text_field(plan.column):
            subject = Cast(subject, CharField())
        if plan.folded:
            subject = self.fold(subject)
        value, op = plan.value, plan.op
        if op == "eq":
            condition: Any = Exact(subject, value)
        elif op in _PATTERNS:
            condition = self.pattern(subject, op, value, plan.folded)
        else:
            if isinstance(value, str) and self.vendor == "postgresql":
                subject = Collate(subject, "C")
            condition = _ORDER[op](subject, value)
        not_null = Q(IsNull(F(plan.column), False))
        return not_null if condition is None else not_null & Q(condition)

    def pattern(self, subject: Any, op: str, value: str, folded: bool) -> Any:
        """``co``/``sw``/``ew``; ``None`` when any value matches (the empty string)."""
        if value == "":
            return None
        if self.vendor == "sqlite" and not folded:
            if op == "co":
                return GreaterThan(StrIndex(subject, Value(value)), 0)
            cut = Left if op == "sw" else Right
            return Exact(cut(subject, len(value)), value)
        return _PATTERNS[op](subject, value)

    def sort_value(self, plan: SortPlan) -> Any:
        """The value a row sorts by: the first filled column, ``NULL`` when none is."""
        parts: list[Any] = []
        for name in plan.columns:
            column: Any = F(name)
            if plan.key and not self.text_field(name):
                column = Cast(column, CharField())
            if plan.text:
                column = NullIf(column, Value(""))
            if plan.folded:
                column = self.fold(column)
            parts.append(column)
        value = parts[0] if len(parts) == 1 else Coalesce(*parts)
        if plan.text and self.vendor == "postgresql":
            value = Collate(value, "C")
        return value
