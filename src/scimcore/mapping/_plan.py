"""Filters planned onto a host's columns: the :class:`Plan` nodes, and the planner.

Theory of operation: :meth:`AttributeMap.plan` walks the canonical AST with the
filter visitor (:class:`~scimcore.filter.Transformer`) and gives a tree of five
host-neutral nodes over column *names*; a backend (SQLAlchemy, Django) renders
each node in a few lines, so the semantics live here once:

- :class:`Test` ``column op value``: the column is not null and compares so;
  ``folded`` compares the column's case fold (the database function
  ``scimcore_fold``, :func:`~scimcore.mapping.fold_ddl`) with a value already
  case-folded (``caseExact: false``); ``op`` is ``eq co sw ew gt ge lt le`` (``ne`` is
  planned as ``not eq``, as the evaluator reads it);
- :class:`Filled` ``column``: not null (and not ``""`` for text): ``pr``;
- :class:`Const`: known without looking at a row (an element's fixed ``type``,
  an attribute the schema lacks under ``Policy.interop()``);
- :class:`All`, :class:`Any_`, :class:`Negate`: ``and``, ``or``, ``not``.

Every node is two-valued (a :class:`Test` holds only where its column is not
null), so ``not`` is plain negation and agrees with the evaluator on nulls. A
multi-valued attribute kept as fixed elements (``emails[type eq "work"].value``
in column ``email``) matches when one of its elements exists and satisfies the
whole comparison or ``[…]`` filter (a valuePath binds to one element). A path
the map does not keep is :class:`~scimcore.errors.InvalidFilter`, never a
broader result.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs

from scimcore.errors import InvalidFilter
from scimcore.filter import (
    And,
    AttrPath,
    Compare,
    Not,
    Or,
    Present,
    Transformer,
    ValuePath,
    compile_value_filter,
    fold,
)
from scimcore.filter._evaluate import _datetime
from scimcore.policy import Policy
from scimcore.schema import TEXT_TYPES, Attribute, AttributeType

if TYPE_CHECKING:
    from scimcore.mapping._map import AttributeMap, Element, Single

__all__ = ["All", "Any_", "Const", "Filled", "Negate", "Plan", "SortPlan", "Test", "plan_filter"]


@attrs.frozen
class Test:
    """``column op value``, and the column is not null (see the module)."""

    column: str
    op: str
    value: Any
    folded: bool = False
    key: bool = False

    def __str__(self) -> str:
        return f"{self.column} {'i' if self.folded else ''}{self.op} {self.value!r}"


@attrs.frozen
class Filled:
    """The column is not null, and for ``text`` not ``""`` either."""

    column: str
    text: bool = True

    def __str__(self) -> str:
        return f"{self.column} filled"


@attrs.frozen
class Const:
    """A condition known without reading a row."""

    value: bool

    def __str__(self) -> str:
        return "true" if self.value else "false"


@attrs.frozen
class All:
    """Every part holds."""

    parts: tuple[Plan, ...]

    def __str__(self) -> str:
        return f"all({', '.join(map(str, self.parts))})"


@attrs.frozen
class Any_:  # noqa: N801 - ``Any`` is typing's
    """Some part holds."""

    parts: tuple[Plan, ...]

    def __str__(self) -> str:
        return f"any({', '.join(map(str, self.parts))})"


@attrs.frozen
class Negate:
    """The part does not hold."""

    part: Plan

    def __str__(self) -> str:
        return f"not({self.part})"


#: A planned filter: one of the five node kinds.
Plan: TypeAlias = Test | Filled | Const | All | Any_ | Negate


@attrs.frozen
class SortPlan:
    """What a ``sortBy`` orders by: the first filled of ``columns`` (the primary element
    first), case-folded when ``folded``; ``""`` sorts as a missing value."""

    columns: tuple[str, ...]
    folded: bool = False
    text: bool = True
    key: bool = False


def _flat(parts: Iterable[Plan], kind: type[All | Any_]) -> Iterable[Plan]:
    for part in parts:
        if isinstance(part, kind):
            yield from part.parts
        else:
            yield part


def all_of(parts: Iterable[Plan]) -> Plan:
    """``All``, with known parts folded away."""
    kept: list[Plan] = []
    for part in _flat(parts, All):
        if isinstance(part, Const):
            if not part.value:
                return part
            continue
        if part not in kept:
            kept.append(part)
    if not kept:
        return Const(True)
    return kept[0] if len(kept) == 1 else All(tuple(kept))


def any_of(parts: Iterable[Plan]) -> Plan:
    """``Any_``, with known parts folded away."""
    kept: list[Plan] = []
    for part in _flat(parts, Any_):
        if isinstance(part, Const):
            if part.value:
                return part
            continue
        if part not in kept:
            kept.append(part)
    if not kept:
        return Const(False)
    return kept[0] if len(kept) == 1 else Any_(tuple(kept))


def negate(part: Plan) -> Plan:
    """``Negate``, a known part negated at once."""
    if isinstance(part, Const):
        return Const(not part.value)
    if isinstance(part, Negate):
        return part.part
    return Negate(part)


def host_value(value: Any, target: Attribute) -> Any:
    """A filter value in the form a column is compared with (values the evaluator accepted)."""
    kind = target.type
    if kind in TEXT_TYPES:
        return value if target.case_exact else fold(value)
    if kind is AttributeType.BOOLEAN and isinstance(value, str):
        return value.lower() == "true"
    if kind is AttributeType.DATETIME:
        return _datetime(value)
    return value


def _folded(target: Attribute) -> bool:
    return target.type in TEXT_TYPES and not target.case_exact


def not_kept(path: object) -> InvalidFilter:
    """The error for a filter on an attribute the host does not keep."""
    return InvalidFilter(f"'{path}' is not kept by this server, so it cannot be filtered on.")


class _Planner(Transformer[Plan]):
    """The plan of a filter over the resource (``element is None``) or one element."""

    def __init__(self, mapping: AttributeMap, policy: Policy, element: Element | None = None):
        self.map = mapping
        self.policy = policy
        self.element = element

    def and_(self, node: And) -> Plan:
        return all_of(self.visit(operand) for operand in node.operands)

    def or_(self, node: Or) -> Plan:
        return any_of(self.visit(operand) for operand in node.operands)

    def not_(self, node: Not) -> Plan:
        return negate(self.visit(node.operand))

    # -- resolution ------------------------------------------------------------------------

    def _resolve(self, path: AttrPath) -> Single | tuple[list[Element], str | None] | None:
        """A singular column, or (the elements, the sub-attribute named), or ``None``."""
        found = self.map.locate(path)
        if found is None:
            self._unknown(path)
            return None
        return found

    def _unknown(self, path: AttrPath) -> Plan:
        """A path the schema lacks: refused, or no match, as the policy says."""
        if self.policy.unknown_filter_attribute == "error":
            raise InvalidFilter(f"Unknown attribute '{path}'.")
        return Const(False)

    def _derived(self, node: Compare | Present) -> Plan | None:
        """A filter on what the map derives rather than keeps: ``meta.resourceType`` (every
        row's), ``schemas`` (an extension's URN is listed when one of its columns is not
        null) and ``meta.version`` (every row has one; compared only with ``pr`` and
        ``null``); ``None`` for any other path."""
        ref = self.map.registry.resolve(str(node.path), resource_type=self.map.resource_type)
        if ref is None or not ref.common:
            return None
        dotted = ".".join(attribute.name for attribute in ref.chain)
        if dotted not in ("schemas", "meta.resourceType", "meta.version"):
            return None
        if dotted == "meta.version" and isinstance(node, Compare) and node.value is not None:
            raise InvalidFilter(
                "'meta.version' can only be tested with pr (or null) by this server: "
                "send the version in If-Match instead."
            )
        return self.map.derived_plan(node)

    def present(self, node: Present) -> Plan:
        if self.element is not None:
            return self._sub_filled(self.element, node.path.name, node.path)
        derived = self._derived(node)
        if derived is not None:
            return derived
        found = self._resolve(node.path)
        if found is None:
            return Const(False)
        if not isinstance(found, tuple):
            return Filled(found.column.name, found.attribute.type in TEXT_TYPES)
        elements, sub = found
        if sub is None:
            return any_of(element.exists() for element in elements)
        return any_of(
            all_of((element.exists(), self._sub_filled(element, sub, node.path)))
            for element in elements
        )

    def compare(self, node: Compare) -> Plan:
        if self.element is not None:
            return self._element_compare(self.element, node.path.name, node)
        derived = self._derived(node)
        if derived is not None:
            return derived
        found = self._resolve(node.path)
        if found is None:
            return Const(False)
        if isinstance(found, tuple):
            elements, sub = found
            name = "value" if sub is None else sub
            return self._nulls(
                node,
                lambda: any_of(
                    all_of((element.exists(), self._element_compare(element, name, node, True)))
                    for element in elements
                ),
                lambda: any_of(
                    all_of((element.exists(), self._sub_filled(element, name, node.path)))
                    for element in elements
                ),
            )
        column, target = found.column.name, found.attribute
        return self._nulls(
            node,
            lambda: Test(
                column,
                "eq" if node.op == "ne" else node.op,
                host_value(node.value, target),
                folded=_folded(target),
                key=found.key,
            ),
            lambda: Filled(column, target.type in TEXT_TYPES),
        )

    def _nulls(self, node: Compare, test: Any, filled: Any) -> Plan:
        """``eq null`` is ``not pr``, ``ne null`` is ``pr``, ``ne`` is ``not eq``."""
        if node.value is None:
            if node.op == "eq":
                return negate(filled())
            return filled() if node.op == "ne" else Const(False)
        planned: Plan = test()
        return negate(planned) if node.op == "ne" else planned

    def value_path(self, node: ValuePath) -> Plan:
        found = self._resolve(node.path)
        if found is None:
            return Const(False)
        if not isinstance(found, tuple) or found[1] is not None:
            raise not_kept(node.path)  # the evaluator refuses the other shapes first
        return any_of(
            all_of((element.exists(), _Planner(self.map, self.policy, element).visit(node.filter)))
            for element in found[0]
        )

    # -- one element -----------------------------------------------------------------------

    def _element_compare(
        self, element: Element, name: str, node: Compare, whole: bool = False
    ) -> Plan:
        """``node`` on the sub-attribute ``name`` of one element (``whole``: the ``ne`` and
        ``null`` cases are the caller's, across every element)."""
        sub = element.attribute.sub_attribute(name) if element.attribute.is_complex else None
        if element.attribute.is_complex and sub is None:
            return self._unknown(node.path)
        target = sub if sub is not None else element.attribute
        if not whole:
            return self._nulls(
                node,
                lambda: self._element_compare(element, name, node, True),
                lambda: self._sub_filled(element, name, node.path),
            )
        op = "eq" if node.op == "ne" else node.op
        constant = element.constant(name)
        if constant is not None:
            probe = Compare(AttrPath(None, target.name, None), op, node.value)
            return Const(compile_value_filter(probe, element.attribute)(element.sample))
        column = element.column(name)
        if column is None:
            raise not_kept(node.path)
        return Test(column.name, op, host_value(node.value, target), folded=_folded(target))

    def _sub_filled(self, element: Element, name: str, path: AttrPath) -> Plan:
        if element.attribute.is_complex and element.attribute.sub_attribute(name) is None:
            return self._unknown(path)
        constant = element.constant(name)
        if constant is not None:
            return Const(constant not in ("", []))
        column = element.column(name)
        if column is None:
            raise not_kept(path)
        sub = element.attribute.sub_attribute(name) if element.attribute.is_complex else None
        target = sub if sub is not None else element.attribute
        return Filled(column.name, target.type in TEXT_TYPES)


def plan_filter(mapping: AttributeMap, node: Any, policy: Policy) -> Plan:
    """The plan of a (validated) filter node over ``mapping``'s columns."""
    return _Planner(mapping, policy).visit(node)
