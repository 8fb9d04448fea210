"""Walking the filter AST: :class:`Transformer`, :class:`Rewriter` and :func:`walk`.

Every pass over a filter (the evaluator's compiler, both SQL dialects, the
SCIM 1.1 translation, the stores' rewrites, a host's own ORM translation) is a
subclass of :class:`Transformer`: one method per node kind, dispatched by the
node's type in one place, so that a new node kind is a new method here rather
than an ``isinstance`` chain in ten modules. The style is the standard
library's :class:`ast.NodeVisitor`: a method receives the node and calls
:meth:`Transformer.visit` on the children it wants, in the order it wants (a SQL
compiler binds parameters as it goes, so it must not visit a child it drops).

:class:`Rewriter` is the filter-to-filter case (:class:`ast.NodeTransformer`):
every method defaults to rebuilding its node from its rewritten children, and
returns the very same node when nothing changed, so a rewrite that touches
nothing keeps caches keyed by node identity warm.

Inside a :class:`ValuePath`, paths are relative to the bracketed attribute; a
transformer that resolves paths handles that in :meth:`Transformer.value_path`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar

from scimcore.filter._ast import And, Compare, Filter, Not, Or, Present, ValuePath

__all__ = ["Rewriter", "Transformer", "walk"]

T = TypeVar("T")

#: The method that handles each node kind.
_METHODS: dict[type[Any], str] = {
    Compare: "compare",
    Present: "present",
    And: "and_",
    Or: "or_",
    Not: "not_",
    ValuePath: "value_path",
}

_Handler: TypeAlias = Callable[[Any, Any], Any]


def _handler_table(cls: type[Any]) -> dict[type[Any], _Handler]:
    """Node kind -> ``cls``'s method for it, looked up once per class, not once per node."""
    return {kind: getattr(cls, name) for kind, name in _METHODS.items()}


class Transformer(Generic[T]):
    """Turn a filter into a ``T``: override one method per node kind.

    :meth:`visit` (or calling the transformer) dispatches on the node's type to
    :meth:`compare`, :meth:`present`, :meth:`and_`, :meth:`or_`, :meth:`not_` or
    :meth:`value_path`; a kind the subclass does not handle raises
    :class:`NotImplementedError` naming it, so a pass that meets a node it was
    not written for fails loudly instead of guessing.

    A method visits the children it uses, in the order it wants. A pass that
    needs context (the attribute a ``[…]`` filters) keeps it on the instance and
    visits ``node.filter`` with a new instance, as the evaluator and the SQL
    compilers do.

    >>> from scimcore.filter import parse_filter
    >>> class Depth(Transformer[int]):
    ...     def compare(self, node): return 1
    ...     def present(self, node): return 1
    ...     def and_(self, node): return 1 + max(map(self.visit, node.operands))
    ...     def or_(self, node): return 1 + max(map(self.visit, node.operands))
    ...     def not_(self, node): return 1 + self.visit(node.operand)
    ...     def value_path(self, node): return 1 + self.visit(node.filter)
    >>> Depth()(parse_filter('a pr and (b pr or not (c pr))'))
    4
    """

    _handlers: ClassVar[dict[type[Any], _Handler]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = _handler_table(cls)

    def visit(self, node: Filter) -> T:
        """The transform of ``node``: the method for its kind, applied to it.

        The kind is the node's exact class; anything else (a string, a
        ``PatchPath``, a subclass of a node class) is a :class:`TypeError`.
        """
        try:
            handler = self._handlers[type(node)]
        except KeyError:
            raise TypeError(f"not a filter node: {node!r}") from None
        result: T = handler(self, node)
        return result

    def __call__(self, node: Filter) -> T:
        """Same as :meth:`visit`."""
        return self.visit(node)

    def _missing(self, node: Filter) -> T:
        raise NotImplementedError(f"{type(self).__name__} does not handle {type(node).__name__}")

    def compare(self, node: Compare) -> T:
        """``path op value``."""
        return self._missing(node)

    def present(self, node: Present) -> T:
        """``path pr``."""
        return self._missing(node)

    def and_(self, node: And) -> T:
        """``a and b and …``."""
        return self._missing(node)

    def or_(self, node: Or) -> T:
        """``a or b or …``."""
        return self._missing(node)

    def not_(self, node: Not) -> T:
        """``not (f)``."""
        return self._missing(node)

    def value_path(self, node: ValuePath) -> T:
        """``path[filter]``: paths inside ``node.filter`` are relative to ``node.path``."""
        return self._missing(node)


Transformer._handlers = _handler_table(Transformer)


class Rewriter(Transformer[Filter]):
    """A filter-to-filter :class:`Transformer`: by default, every node as it is.

    Override the methods for the nodes to change; the others rebuild their node
    from the rewritten children (the same node object when no child changed).
    The children of a :class:`ValuePath` are rewritten too; override
    :meth:`value_path` to treat its relative paths differently.

    >>> import attrs
    >>> from scimcore.filter import parse_filter
    >>> class Upper(Rewriter):
    ...     def compare(self, node):
    ...         return attrs.evolve(node, value=node.value.upper())
    >>> print(Upper()(parse_filter('title eq "a" or not (emails[value eq "b"])')))
    title eq "A" or not (emails[value eq "B"])
    >>> node = parse_filter('title pr')
    >>> Upper()(node) is node
    True
    """

    def compare(self, node: Compare) -> Filter:
        return node

    def present(self, node: Present) -> Filter:
        return node

    def and_(self, node: And) -> Filter:
        operands = tuple(self.visit(operand) for operand in node.operands)
        if all(new is old for new, old in zip(operands, node.operands, strict=True)):
            return node
        return And(operands)

    def or_(self, node: Or) -> Filter:
        operands = tuple(self.visit(operand) for operand in node.operands)
        if all(new is old for new, old in zip(operands, node.operands, strict=True)):
            return node
        return Or(operands)

    def not_(self, node: Not) -> Filter:
        operand = self.visit(node.operand)
        return node if operand is node.operand else Not(operand)

    def value_path(self, node: ValuePath) -> Filter:
        inner = self.visit(node.filter)
        return node if inner is node.filter else ValuePath(node.path, inner)


def walk(node: Filter, *, into_value_paths: bool = True) -> Iterator[Filter]:
    """Every node of a filter, parents before children, left to right.

    With ``into_value_paths=False`` the filter inside a ``[…]`` is not entered
    (its paths are relative to the bracketed attribute).

    >>> from scimcore.filter import parse_filter
    >>> [str(n) for n in walk(parse_filter('a pr and emails[type eq "w"]'))]
    ['a pr and emails[type eq "w"]', 'a pr', 'emails[type eq "w"]', 'type eq "w"']
    >>> sum(1 for _ in walk(parse_filter('emails[type eq "w"]'), into_value_paths=False))
    1
    """
    stack: list[Filter] = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, And | Or):
            stack.extend(reversed(current.operands))
        elif isinstance(current, Not):
            stack.append(current.operand)
        elif isinstance(current, ValuePath) and into_value_paths:
            stack.append(current.filter)


def equality_terms(node: Filter) -> tuple[Compare, ...] | None:
    """The terms of a filter made only of ``name eq value`` joined by ``and``, else ``None``.

    That is a value filter that describes one element by its sub-attributes
    (``emails[type eq "work"]``): the element PATCH creates when such a filter
    matches nothing, or a SCIM 1.1 partial resource names. ``null``, qualified
    names and every other shape are ``None``.

    >>> from scimcore.filter import parse_filter
    >>> [str(t) for t in equality_terms(parse_filter('type eq "work" and primary eq true'))]
    ['type eq "work"', 'primary eq true']
    >>> equality_terms(parse_filter('type eq "work" or primary eq true')) is None
    True
    """
    found: list[Compare] = []
    for term in node.operands if isinstance(node, And) else (node,):
        if not isinstance(term, Compare) or term.op != "eq" or term.value is None:
            return None
        if term.path.urn is not None or term.path.sub is not None:
            return None
        found.append(term)
    return tuple(found)
