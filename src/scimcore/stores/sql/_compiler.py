"""Filter AST → SQL ``WHERE`` text over a search document, with bound parameters.

Theory of operation: every filter runs against the *search document* of a
resource (:mod:`._document`), whose values are already in comparable form
(folded, UTC). A comparison ``path op value`` becomes, by the shape the schema
gives the path:

- singular: a predicate on ``extract(doc, path)``;
- multi-valued (``emails.value``, ``schemas``): ``EXISTS`` over the elements,
  "any value matches" (RFC 7644 §3.4.2.2);
- ``a[f]`` (valuePath): ``EXISTS`` over the elements of ``a`` with all of ``f``
  evaluated on the same element;
- ``ne`` is ``NOT (eq)`` of the whole attribute (true when absent, false when any
  value is equal), ``eq null`` is ``NOT (pr)`` and ``ne null`` is ``pr``;
  ordering against ``null`` is false; ``not`` is ``NOT``;
- an attribute the schema does not define is *absent* (so ``eq`` is false and
  ``ne`` true), or an ``invalidFilter`` under ``Policy(unknown_filter_attribute="error")``.

Every leaf predicate is two-valued (``x IS NOT NULL AND …``), so ``NOT`` is
boolean negation and never meets SQL's unknown. Values and JSON paths are
always named parameters (``:p0``); the SQL text depends only on the filter's
shape and the schema, never on a value. ``co``/``sw``/``ew`` use the dialect's
exact substring tests (``instr``/``substr`` in SQLite): no ``LIKE``, no wildcard to
escape. A construct this compiler cannot express raises ``invalidFilter``; no
clause is ever dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import attrs

from scimcore.errors import InvalidFilter
from scimcore.filter import And, AttrPath, Compare, Filter, Not, Or, Present, ValuePath
from scimcore.policy import Policy
from scimcore.schema import Attribute, AttributeRef, AttributeType, ResourceType, SchemaRegistry
from scimcore.storage._values import fold, utc_text
from scimcore.stores.sql._dialect import Dialect, Kind, SQLiteDialect
from scimcore.stores.sql._document import document_keys

__all__ = ["FilterCompiler", "Fragment", "compile_where", "lookup_key"]

TRUE = "1"
FALSE = "0"
_ORDERING = frozenset({"gt", "ge", "lt", "le"})
_SUBSTRING = frozenset({"co", "sw", "ew"})
_SQL_OP = {"eq": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_TEXT_TYPES = frozenset({AttributeType.STRING, AttributeType.REFERENCE})


@attrs.frozen
class Fragment:
    """SQL text and the values of its named parameters."""

    sql: str
    params: Mapping[str, Any]


def kind_of(attribute: Attribute) -> Kind:
    """How an attribute's values come out of a JSON document."""
    if attribute.type in (AttributeType.INTEGER, AttributeType.DECIMAL):
        return "number"
    if attribute.type is AttributeType.BOOLEAN:
        return "boolean"
    if attribute.type is AttributeType.COMPLEX:
        return "json"
    return "text"


def lookup_key(resource_type: ResourceType, keys: tuple[str, ...]) -> str:
    """The name of an indexed lookup: ``user/emails/value``.

    >>> from scimcore.schema import USER_RESOURCE_TYPE
    >>> lookup_key(USER_RESOURCE_TYPE, ("username",))
    'user/username'
    """
    return "/".join((resource_type.name.casefold(), *keys))


class _Params:
    def __init__(self, dialect: Dialect, values: dict[str, Any]) -> None:
        self.dialect = dialect
        self.values = values
        self.aliases = 0

    def add(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return self.dialect.param(name)

    def alias(self) -> str:
        self.aliases += 1
        return f"e{self.aliases}"


@attrs.frozen
class _Element:
    """Inside ``a[…]``: the element's JSON object is ``obj``; its attribute is ``attribute``."""

    obj: str
    attribute: Attribute


class FilterCompiler:
    """Compiles filters on one resource type to SQL over its search documents.

    ``lookups`` names the indexed lookups (:func:`lookup_key`) that hold, in the
    table ``lookup_table (rid, key, value)``, every comparable value of that
    path: an ``eq`` on one of them becomes an index seek.

    >>> from scimcore.filter import AttrPath, Compare
    >>> from scimcore.schema import core_schemas, USER_RESOURCE_TYPE
    >>> compiler = FilterCompiler(USER_RESOURCE_TYPE, core_schemas())
    >>> fragment = compiler.compile(Compare(AttrPath(None, "title", None), "co", "50%_"))
    >>> fragment.sql
    '(json_extract(r.sdoc, :p0) IS NOT NULL AND (instr(json_extract(r.sdoc, :p0), :p1) > 0))'
    >>> dict(fragment.params)
    {'p0': '$."title"', 'p1': '50%_'}
    """

    def __init__(
        self,
        resource_type: ResourceType,
        registry: SchemaRegistry,
        *,
        dialect: Dialect | None = None,
        policy: Policy | None = None,
        lookups: Collection[str] = (),
        lookup_table: str = "scim_lookup",
        document: str = "r.sdoc",
        row: str = "r.rid",
    ) -> None:
        self.resource_type = resource_type
        self.registry = registry
        self.dialect: Dialect = dialect if dialect is not None else SQLiteDialect()
        self.policy = policy if policy is not None else Policy()
        self.lookups = frozenset(lookups)
        self.lookup_table = lookup_table
        self.document = document
        self.row = row

    # -- entry points ----------------------------------------------------------------------

    def compile(self, node: Filter, params: dict[str, Any] | None = None) -> Fragment:
        """The ``WHERE`` fragment for ``node``; parameters are added to ``params``."""
        values = params if params is not None else {}
        sql = self._node(node, _Params(self.dialect, values), None)
        return Fragment(sql, values)

    def sort_key(self, ref: AttributeRef, params: dict[str, Any]) -> str:
        """The SQL value a resource sorts by (RFC 7644 §3.4.2.3); NULL when it has none.

        A multi-valued attribute sorts by its primary element, else its first.
        """
        p = _Params(self.dialect, params)
        keys = document_keys(ref, self.resource_type)
        top, target = ref.chain[0], ref.chain[-1]
        d = self.dialect
        if not top.multi_valued:
            return d.extract(self.document, self._path(p, keys), kind_of(target))
        alias = p.alias()
        if len(ref.chain) == 1:
            elements = d.elements(self.document, self._path(p, keys), alias)
            return f"(SELECT {d.element(alias, kind_of(target))} FROM {elements} ORDER BY {alias}.ord LIMIT 1)"
        elements = d.elements(self.document, self._path(p, keys[:-1]), alias)
        value = d.extract(f"{alias}.value", self._path(p, keys[-1:]), kind_of(target))
        order = f"{alias}.ord"
        primary = top.sub_attribute("primary")
        if primary is not None and primary.type is AttributeType.BOOLEAN:
            flag = d.extract(f"{alias}.value", self._path(p, (primary.name.casefold(),)), "boolean")
            order = f"{d.is_true(flag)} DESC, {order}"
        return f"(SELECT {value} FROM {elements} ORDER BY {order} LIMIT 1)"

    # -- nodes -----------------------------------------------------------------------------

    def _node(self, node: Filter, p: _Params, element: _Element | None) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self._node(o, p, element) for o in node.operands) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self._node(o, p, element) for o in node.operands) + ")"
        if isinstance(node, Not):
            return f"(NOT {self._node(node.operand, p, element)})"
        if isinstance(node, Present):
            return self._present(node.path, p, element)
        if isinstance(node, Compare):
            if node.value is None:
                if node.op == "eq":
                    return f"(NOT {self._present(node.path, p, element)})"
                if node.op == "ne":
                    return self._present(node.path, p, element)
                return FALSE
            if node.op == "ne":
                eq = attrs.evolve(node, op="eq")
                return f"(NOT {self._compare(eq, p, element)})"
            return self._compare(node, p, element)
        if isinstance(node, ValuePath):
            if element is not None:
                raise InvalidFilter("A valuePath cannot hold another valuePath.")
            return self._value_path(node, p)
        raise InvalidFilter(f"Cannot compile {type(node).__name__} to SQL.")

    def _unknown(self, path: AttrPath) -> None:
        if self.policy.unknown_filter_attribute == "error":
            raise InvalidFilter(f"Unknown attribute '{path}'.")

    def _resolve(self, path: AttrPath) -> AttributeRef | None:
        ref = self.registry.resolve(str(path), resource_type=self.resource_type)
        if ref is None:
            self._unknown(path)
        return ref

    def _sub(self, path: AttrPath, element: _Element) -> Attribute | None:
        if path.urn is not None or path.sub is not None:
            raise InvalidFilter(f"'{path}' cannot be used inside a valuePath.")
        sub = element.attribute.sub_attribute(path.name)
        if sub is None:
            self._unknown(path)
        return sub

    def _path(self, p: _Params, keys: tuple[str, ...]) -> str:
        try:
            return p.add(self.dialect.json_path(keys))
        except ValueError as exc:
            raise InvalidFilter(f"Cannot compile this attribute name to SQL: {exc}.") from None

    # -- pr --------------------------------------------------------------------------------

    def _scalar_present(self, value: str, kind: Kind) -> str:
        if kind == "text":
            return f"({value} IS NOT NULL AND {value} <> '')"
        return f"({value} IS NOT NULL)"

    def _object_present(self, obj: str, p: _Params, path: str | None) -> str:
        """A complex value is present when one of its sub-attributes is."""
        d = self.dialect
        alias = p.alias()
        members = d.elements(obj, path, alias)
        return (
            f"EXISTS (SELECT 1 FROM {members} WHERE {alias}.type <> 'null' "
            f"AND NOT ({alias}.type = 'text' AND {alias}.value = '') "
            f"AND NOT ({alias}.type = 'array' AND {d.array_length(f'{alias}.value')} = 0))"
        )

    def _present(self, path: AttrPath, p: _Params, element: _Element | None) -> str:
        d = self.dialect
        if element is not None:
            sub = self._sub(path, element)
            if sub is None:
                return FALSE
            keys: tuple[str, ...] = (sub.name.casefold(),)
            if sub.multi_valued:
                return self._any(element.obj, keys, p, lambda v: self._scalar_present(v, kind_of(sub)), kind_of(sub))
            return self._scalar_present(d.extract(element.obj, self._path(p, keys), kind_of(sub)), kind_of(sub))
        ref = self._resolve(path)
        if ref is None:
            return FALSE
        keys = document_keys(ref, self.resource_type)
        top, target = ref.chain[0], ref.chain[-1]
        if top.multi_valued:
            alias = p.alias()
            if len(ref.chain) == 1:
                elements = d.elements(self.document, self._path(p, keys), alias)
                if top.is_complex:
                    test = self._object_present(f"{alias}.value", p, None)
                else:
                    test = self._scalar_present(d.element(alias, kind_of(top)), kind_of(top))
                return f"EXISTS (SELECT 1 FROM {elements} WHERE {test})"
            elements = d.elements(self.document, self._path(p, keys[:-1]), alias)
            value = d.extract(f"{alias}.value", self._path(p, keys[-1:]), kind_of(target))
            return f"EXISTS (SELECT 1 FROM {elements} WHERE {self._scalar_present(value, kind_of(target))})"
        if target.is_complex:
            return self._object_present(self.document, p, self._path(p, keys))
        if target.multi_valued:
            return self._any(self.document, keys, p, lambda v: self._scalar_present(v, kind_of(target)), kind_of(target))
        value = d.extract(self.document, self._path(p, keys), kind_of(target))
        return self._scalar_present(value, kind_of(target))

    def _any(self, obj: str, keys: tuple[str, ...], p: _Params, test: Any, kind: Kind) -> str:
        alias = p.alias()
        elements = self.dialect.elements(obj, self._path(p, keys), alias)
        return f"EXISTS (SELECT 1 FROM {elements} WHERE {test(self.dialect.element(alias, kind))})"

    # -- comparisons -----------------------------------------------------------------------

    def _coerce(self, attribute: Attribute, op: str, value: Any) -> Any:
        kind = attribute.type
        if op in _SUBSTRING and kind not in _TEXT_TYPES:
            raise InvalidFilter(f"'{op}' does not apply to {kind.value} attribute '{attribute.name}'.")
        if op in _ORDERING and kind in (AttributeType.BOOLEAN, AttributeType.BINARY):
            raise InvalidFilter(f"'{op}' does not apply to {kind.value} attribute '{attribute.name}'.")
        if kind is AttributeType.BOOLEAN:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and self.policy.string_booleans:
                if value.casefold() in ("true", "false"):
                    return value.casefold() == "true"
        elif kind in (AttributeType.INTEGER, AttributeType.DECIMAL):
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        elif kind is AttributeType.DATETIME:
            if isinstance(value, str):
                return utc_text(value)
        elif kind in _TEXT_TYPES:
            if isinstance(value, str):
                return value if attribute.case_exact else fold(value)
        elif kind is AttributeType.BINARY and isinstance(value, str):
            return value
        raise InvalidFilter(
            f"{value!r} cannot be compared with {kind.value} attribute '{attribute.name}'."
        )

    def _test(self, op: str, value: str, needle: str, p: _Params, length: int) -> str:
        d = self.dialect
        if op == "co":
            test = d.contains(value, needle)
        elif op == "sw":
            test = d.starts_with(value, needle)
        elif op == "ew":
            test = d.ends_with(value, needle, p.add(length))
        else:
            test = f"{value} {_SQL_OP[op]} {needle}"
        return f"({value} IS NOT NULL AND {test})"

    def _compare(self, node: Compare, p: _Params, element: _Element | None) -> str:
        d = self.dialect
        op = node.op
        if element is not None:
            sub = self._sub(node.path, element)
            if sub is None:
                return FALSE
            if sub.is_complex:
                raise InvalidFilter(f"Cannot compare complex attribute '{sub.name}'.")
            comparable = self._coerce(sub, op, node.value)
            keys: tuple[str, ...] = (sub.name.casefold(),)
            if sub.multi_valued:
                needle = p.add(comparable)
                return self._any(element.obj, keys, p, lambda v: self._test(op, v, needle, p, _len(comparable)), kind_of(sub))
            value = d.extract(element.obj, self._path(p, keys), kind_of(sub))
            return self._test(op, value, p.add(comparable), p, _len(comparable))
        ref = self._resolve(node.path)
        if ref is None:
            return FALSE
        if ref.target.is_complex:
            value_attribute = ref.target.sub_attribute("value")
            if value_attribute is None or len(ref.chain) > 1:
                raise InvalidFilter(
                    f"'{node.path}' is complex: name one of its sub-attributes.",
                )
            ref = attrs.evolve(ref, chain=(*ref.chain, value_attribute))
        top, target = ref.chain[0], ref.chain[-1]
        comparable = self._coerce(target, op, node.value)
        keys = document_keys(ref, self.resource_type)
        key = lookup_key(self.resource_type, keys)
        if op == "eq" and key in self.lookups:
            return (
                f"{self.row} IN (SELECT rid FROM {self.lookup_table} "
                f"WHERE key = {p.add(key)} AND value = {p.add(comparable)})"
            )
        if top.multi_valued:
            alias = p.alias()
            kind = kind_of(target)
            if len(ref.chain) == 1:
                elements = d.elements(self.document, self._path(p, keys), alias)
                value = d.element(alias, kind)
            else:
                elements = d.elements(self.document, self._path(p, keys[:-1]), alias)
                value = d.extract(f"{alias}.value", self._path(p, keys[-1:]), kind)
            test = self._test(op, value, p.add(comparable), p, _len(comparable))
            return f"EXISTS (SELECT 1 FROM {elements} WHERE {test})"
        if target.multi_valued:
            needle = p.add(comparable)
            return self._any(self.document, keys, p, lambda v: self._test(op, v, needle, p, _len(comparable)), kind_of(target))
        value = d.extract(self.document, self._path(p, keys), kind_of(target))
        return self._test(op, value, p.add(comparable), p, _len(comparable))

    # -- valuePath -------------------------------------------------------------------------

    def _value_path(self, node: ValuePath, p: _Params) -> str:
        ref = self._resolve(node.path)
        if ref is None:
            return FALSE
        target = ref.chain[-1]
        if not target.is_complex:
            raise InvalidFilter(f"'{node.path}' is not complex; a valuePath needs a complex attribute.")
        keys = document_keys(ref, self.resource_type)
        alias = p.alias()
        d = self.dialect
        if target.multi_valued:
            source = d.elements(self.document, self._path(p, keys), alias)
            guard = ""
        else:
            value = d.extract(self.document, self._path(p, keys), "json")
            source = f"(SELECT {value} AS value) AS {alias}"
            guard = f"{alias}.value IS NOT NULL AND "
        inner = self._node(node.filter, p, _Element(f"{alias}.value", target))
        return f"EXISTS (SELECT 1 FROM {source} WHERE {guard}{inner})"


def _len(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def compile_where(
    node: Filter,
    resource_type: ResourceType,
    registry: SchemaRegistry,
    *,
    dialect: Dialect | None = None,
    policy: Policy | None = None,
) -> Fragment:
    """Compile a filter on one resource type to a ``WHERE`` fragment over ``r.sdoc``.

    >>> from scimcore.filter import AttrPath, Compare
    >>> from scimcore.schema import core_schemas, USER_RESOURCE_TYPE
    >>> where = compile_where(Compare(AttrPath(None, "emails", "value"), "ne", "x"),
    ...                       USER_RESOURCE_TYPE, core_schemas())
    >>> print(where.sql)  # doctest: +NORMALIZE_WHITESPACE
    (NOT EXISTS (SELECT 1 FROM (SELECT value, type, key AS ord FROM json_each(r.sdoc, :p0)) AS e1
     WHERE (json_extract(e1.value, :p1) IS NOT NULL AND json_extract(e1.value, :p1) = :p2)))
    """
    compiler = FilterCompiler(resource_type, registry, dialect=dialect, policy=policy)
    return compiler.compile(node)
