"""What a filter costs to test against one resource: :func:`filter_cost`.

A store tests a filter row by row unless an index answers it, so the work of a
search is about *cost × rows examined*. The rows are the store's to bound (the
service gives every search a deadline, :class:`~scimcore.storage.Deadline`);
the cost is known from the filter alone, before any row is read, and the
service refuses a filter whose cost is over its budget
(``ScimService(max_filter_cost=…)``) with 400 ``invalidFilter``.

The cost counts the value tests one row can need:

- a comparison or ``pr`` on a singular attribute: 1;
- on a multi-valued attribute (``emails.value``), :data:`FANOUT` (the values a
  resource typically holds there); for each further multi-valued attribute on
  the path, that many again;
- ``attr[filter]``: the fan-out of ``attr`` times the cost of ``filter`` on
  one value;
- ``and``, ``or``, ``not``: the sum of their operands; but the ``eq`` terms of
  an ``or`` that compare one attribute with strings cost as one: a set lookup
  (the evaluator and the SQL stores test them so), which keeps the ``id eq …``
  filter that a condition on ``groups`` becomes as cheap as it is.

>>> from scimcore.models import User
>>> filter_cost('userName eq "bjensen" and emails.value co "@example.com"', User)
5
>>> filter_cost('id eq "1" or id eq "2" or id eq "3"', User)
1
>>> filter_cost('emails[type eq "work" and value co "@x"]', User)
8
"""

from __future__ import annotations

from typing import Any

from scimcore.filter._ast import And, Compare, Filter, Not, Or, Present, ValuePath, set_member
from scimcore.filter._parser import parse_filter
from scimcore.filter._visit import Transformer

__all__ = ["FANOUT", "filter_cost"]

#: The values a multi-valued attribute is taken to hold per resource.
FANOUT = 4


def filter_cost(filter: Filter | str, model: type[Any]) -> int:
    """The value tests ``filter`` can need per ``model`` resource (see the module text)."""
    node = parse_filter(filter) if isinstance(filter, str) else filter
    return _Cost(model, None).visit(node)


class _Cost(Transformer[int]):
    """The cost of a filter on a ``model`` resource, or on one value of ``within``."""

    def __init__(self, model: type[Any], within: Any) -> None:
        self.model = model
        self.within = within  # the attribute a ``[…]`` filters, inside one

    def _fanout(self, path: Any) -> int:
        if self.within is not None:  # a sub-attribute of one value: singular
            return 1
        registry = getattr(self.model, "scim_registry", None)
        resource_type = getattr(self.model, "__scim_resource_type__", None)
        if registry is None or resource_type is None:
            return 1
        ref = registry().resolve(str(path), resource_type=resource_type)
        if ref is None:
            return 1
        return int(FANOUT ** sum(1 for attribute in ref.chain if attribute.multi_valued))

    def compare(self, node: Compare) -> int:
        return self._fanout(node.path)

    def present(self, node: Present) -> int:
        return self._fanout(node.path)

    def and_(self, node: And) -> int:
        return sum(self.visit(operand) for operand in node.operands)

    def or_(self, node: Or) -> int:
        total = 0
        sets: set[str] = set()
        for operand in node.operands:
            key = set_member(operand)
            if key is not None:
                if key in sets:
                    continue
                sets.add(key)
            total += self.visit(operand)
        return total

    def not_(self, node: Not) -> int:
        return self.visit(node.operand)

    def value_path(self, node: ValuePath) -> int:
        return self._fanout(node.path) * max(1, _Cost(self.model, node.path).visit(node.filter))
