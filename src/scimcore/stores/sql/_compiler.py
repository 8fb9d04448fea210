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
- an attribute the schema does not define makes its comparison false, whatever the
  operator (``ne`` and ``pr`` too; ``not`` still negates), or is an ``invalidFilter``
  under ``Policy(unknown_filter_attribute="error")``.

Every leaf predicate is two-valued (``x IS NOT NULL AND …``; an ``eq`` is the
dialect's ``equals``, ``x IS :p`` in SQLite, one test a row), so ``NOT`` is
boolean negation and never meets SQL's unknown. Values and JSON paths are
always named parameters (``:p0``); the SQL text depends only on the filter's
shape and the schema, never on a value. ``co``/``sw``/``ew`` use the dialect's
exact substring tests (``instr``/``substr`` in SQLite): no ``LIKE``, no wildcard to
escape. A construct this compiler cannot express raises ``invalidFilter``; no
clause is ever dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple

import attrs

from scimcore.errors import InvalidFilter
from scimcore.filter import (
    ALLOWED_OPERATORS,
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Transformer,
    ValuePath,
    check_filterable,
)
from scimcore.policy import Policy
from scimcore.schema import (
    TEXT_TYPES,
    Attribute,
    AttributeRef,
    AttributeType,
    ResourceType,
    SchemaRegistry,
)
from scimcore.storage._values import fold, utc_text
from scimcore.stores.sql._dialect import Dialect, Kind, SQLiteDialect
from scimcore.stores.sql._document import document_keys

__all__ = ["FilterCompiler", "Fragment", "Slot", "compile_where", "lookup_key"]

_SQL_OP = {"eq": "=", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
#: The operators each attribute type allows: the evaluator's own table, so the two cannot drift.
_ALLOWED: dict[AttributeType, frozenset[str]] = {
    **ALLOWED_OPERATORS,
    AttributeType.COMPLEX: frozenset(),
}


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


class Slot(NamedTuple):
    """Where a comparison's value went: parameter ``name`` holds ``bind(value)``.

    Recorded by :meth:`FilterCompiler.compile` when it is given a ``slots`` list,
    so that a caller caching the SQL of a filter can bind another filter of the
    same shape (same tree, paths, operators and value types) without compiling
    it again: the SQL text never depends on a value, values are parameters.
    """

    name: str
    node: Compare
    bind: Callable[[Any], Any]


class _Params:
    def __init__(
        self, dialect: Dialect, values: dict[str, Any], slots: list[Slot] | None = None
    ) -> None:
        self.dialect = dialect
        self.values = values
        self.aliases = 0
        self.slots = slots

    def add_value(self, value: Any, node: Compare, bind: Callable[[Any], Any]) -> str:
        """A parameter holding ``bind(node.value)`` (``value``), recorded as a slot."""
        marker = self.add(value)
        if self.slots is not None:
            self.slots.append(Slot(f"p{len(self.values) - 1}", node, bind))
        return marker

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
    path: an ``eq`` on one of them becomes an index seek. ``seeks`` maps a lookup
    key whose values a store keeps elsewhere to the SQL selecting their ``rid``,
    where ``{test}`` stands for the value test (``= :p0`` or ``IN (…)``).
    ``columns`` maps the
    lookup keys of singular simple attributes to SQL columns holding their
    comparable value: those are read from the column, not from the JSON.
    ``element_tables`` maps the search-document keys of a top-level multi-valued
    attribute kept outside the document to the SQL of its elements (``value``,
    ``type``, ``ord`` columns, as ``json_each`` gives them; ``{alias}`` its alias).

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
        seeks: Mapping[str, str] | None = None,
        columns: Mapping[str, str] | None = None,
        document: str = "r.sdoc",
        row: str = "r.rid",
        element_tables: Mapping[tuple[str, ...], str] | None = None,
    ) -> None:
        self.resource_type = resource_type
        self.registry = registry
        self.dialect: Dialect = dialect if dialect is not None else SQLiteDialect()
        #: The constant false of this database (PostgreSQL refuses ``0``).
        self.false: str = self.dialect.false
        self.policy = policy if policy is not None else Policy()
        self.lookups = frozenset(lookups)
        self.lookup_table = lookup_table
        self.seeks = dict(seeks or {})
        self.columns = dict(columns or {})
        self.document = document
        self.row = row
        self.element_tables = dict(element_tables or {})

    # -- entry points ----------------------------------------------------------------------

    def compile(
        self,
        node: Filter,
        params: dict[str, Any] | None = None,
        *,
        slots: list[Slot] | None = None,
    ) -> Fragment:
        """The ``WHERE`` fragment for ``node``; parameters are added to ``params``.

        With ``slots``, every parameter that holds a comparison value is recorded
        there (see :class:`Slot`).
        """
        values = params if params is not None else {}
        sql = _Where(self, _Params(self.dialect, values, slots), None).visit(node)
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
            column = self.columns.get(lookup_key(self.resource_type, keys))
            if column is not None:
                return column
            return d.extract(self.document, self._path(p, keys), kind_of(target))
        alias = p.alias()
        if len(ref.chain) == 1:
            elements = self._top_elements(p, keys, alias)
            first = d.element(alias, kind_of(target))
            return f"(SELECT {first} FROM {elements} ORDER BY {alias}.ord LIMIT 1)"
        elements = self._top_elements(p, keys[:-1], alias)
        value = d.extract(f"{alias}.value", self._path(p, keys[-1:]), kind_of(target))
        order = f"{alias}.ord"
        primary = top.sub_attribute("primary")
        if primary is not None and primary.type is AttributeType.BOOLEAN:
            flag = d.extract(f"{alias}.value", self._path(p, (primary.name.casefold(),)), "boolean")
            order = f"{d.is_true(flag)} DESC, {order}"
        return f"(SELECT {value} FROM {elements} ORDER BY {order} LIMIT 1)"

    # -- nodes -----------------------------------------------------------------------------

    def _present(self, node: Present, p: _Params, element: _Element | None) -> str:
        target = self._target(node.path, p, element)
        if target is None:
            return self.false
        check_filterable(node.path, target.attribute)
        return self._present_test(target, p)

    def _or(self, node: Or, where: _Where) -> str:
        """``a OR b``; the ``eq`` terms on one indexed lookup become one ``IN`` list.

        ``members.value eq "1" or members.value eq "2" or …`` (the service's
        membership search for a page of users) is then one index probe, not one
        subquery per term.
        """
        p = where.p
        parts: list[str] = []
        lists: dict[str, tuple[int, list[str]]] = {}  # lookup key -> (its part, its values)
        for operand in node.operands:
            found = self._lookup_eq(operand, p) if where.element is None else None
            if found is None:
                parts.append(where.visit(operand))
                continue
            key, marker = found
            if key not in lists:
                lists[key] = (len(parts), [])
                parts.append("")  # filled below, once the list is complete
            lists[key][1].append(marker)
        for key, (index, markers) in lists.items():
            test = f"= {markers[0]}" if len(markers) == 1 else f"IN ({', '.join(markers)})"
            parts[index] = self._seek(key, p, test)
        return "(" + " OR ".join(parts) + ")"

    def _seek(self, key: str, p: _Params, test: str | Callable[[], str]) -> str:
        """The rows whose lookup ``key`` has a value passing ``test`` (an index seek); a
        callable ``test`` is called once the key's parameter is added."""
        seek = self.seeks.get(key)
        marker = p.add(key) if seek is None else ""
        text = test if isinstance(test, str) else test()
        if seek is None:
            return (
                f"{self.row} IN (SELECT rid FROM {self.lookup_table} "
                f"WHERE key = {marker} AND value {text})"
            )
        return f"{self.row} IN ({seek.replace('{test}', text)})"

    def _lookup_eq(self, node: Filter, p: _Params) -> tuple[str, str] | None:
        """For an ``eq`` on an indexed lookup: its lookup key and the value's parameter."""
        if not isinstance(node, Compare) or node.op != "eq" or node.value is None:
            return None
        if not self.lookups:
            return None
        target = self._target(node.path, _Params(self.dialect, {}), None)
        if target is None:
            return None
        if target.attribute.is_complex:
            target = self._redirect(node.path, target, _Params(self.dialect, {}))
        attribute = target.attribute
        key = lookup_key(self.resource_type, target.keys)
        if key not in self.lookups or "eq" not in _ALLOWED[attribute.type]:
            return None
        comparable = self._coerce(node.path, attribute, "eq", node.value)
        return key, p.add_value(comparable, node, self._binder(node, attribute))

    def _path(self, p: _Params, keys: tuple[str, ...]) -> str:
        try:
            return p.add(self.dialect.json_path(keys))
        except ValueError as exc:
            raise InvalidFilter(f"Cannot compile this attribute name to SQL: {exc}.") from None

    # -- where a path's values are ---------------------------------------------------------

    def _target(self, path: AttrPath, p: _Params, element: _Element | None) -> _Target | None:
        """Where the values of ``path`` are, or ``None`` for an unknown attribute."""
        if element is not None:
            return self._element_target(path, p, element)
        ref = self.registry.resolve(str(path), resource_type=self.resource_type)
        if ref is None:
            return self._unknown(path)
        keys = document_keys(ref, self.resource_type)
        top, target = ref.chain[0], ref.chain[-1]
        d = self.dialect
        if top.multi_valued:
            alias = p.alias()
            if len(ref.chain) == 1:
                elements = self._top_elements(p, keys, alias)
                return _Target(ref.target, f"{alias}.value", elements, keys)
            if target.multi_valued:
                raise InvalidFilter(
                    f"'{path}': a multi-valued sub-attribute of a multi-valued "
                    "attribute cannot be compiled to SQL."
                )
            elements = self._top_elements(p, keys[:-1], alias)
            value = d.extract(f"{alias}.value", self._path(p, keys[-1:]), kind_of(target))
            return _Target(target, value, elements, keys)
        if target.multi_valued:
            alias = p.alias()
            elements = d.elements(self.document, self._path(p, keys), alias)
            return _Target(target, f"{alias}.value", elements, keys)
        if target.is_complex:
            return _Target(target, self.document, None, keys, self._path(p, keys))
        return _Target(target, self._scalar(keys, target, p), None, keys)

    def _top_elements(self, p: _Params, keys: tuple[str, ...], alias: str) -> str:
        """The elements of a top-level multi-valued attribute: its table when it is kept
        outside the document (``element_tables``), else the document's array."""
        table = self.element_tables.get(keys)
        if table is not None:
            return table.format(alias=alias)
        return self.dialect.elements(self.document, self._path(p, keys), alias)

    def _scalar(self, keys: tuple[str, ...], attribute: Attribute, p: _Params) -> str:
        """A singular value: its column when it has one, else extracted from the JSON."""
        column = self.columns.get(lookup_key(self.resource_type, keys))
        if column is not None:
            return column
        return self.dialect.extract(self.document, self._path(p, keys), kind_of(attribute))

    def _element_target(self, path: AttrPath, p: _Params, element: _Element) -> _Target | None:
        owner = element.attribute
        if not owner.is_complex:
            # A simple multi-valued attribute: "value" names the element itself
            # (RFC 7644 erratum 7122: a PATCH path has no other way to name one).
            if path.name.casefold() != "value" or path.urn is not None or path.sub is not None:
                return self._unknown(path)
            return _Target(_singular(owner), element.obj, None, ())
        if path.urn is not None or path.sub is not None:
            return self._unknown(path)
        sub = owner.sub_attribute(path.name)
        if sub is None:
            return self._unknown(path)
        keys = (sub.name.casefold(),)
        if sub.multi_valued:
            alias = p.alias()
            elements = self.dialect.elements(element.obj, self._path(p, keys), alias)
            return _Target(sub, f"{alias}.value", elements, keys)
        value = self.dialect.extract(element.obj, self._path(p, keys), kind_of(sub))
        return _Target(sub, value, None, keys)

    def _unknown(self, path: AttrPath) -> _Target | None:
        """An attribute the schema does not define: no target, its comparisons are false."""
        if self.policy.unknown_filter_attribute == "error":
            raise InvalidFilter(f"Unknown attribute '{path}'.")
        return None

    def _redirect(self, path: AttrPath, target: _Target, p: _Params) -> _Target:
        """A complex attribute without a sub-attribute compares its ``value`` sub-attribute."""
        value = target.attribute.sub_attribute("value")
        if value is None:
            names = ", ".join(s.name for s in target.attribute.sub_attributes)
            raise InvalidFilter(
                f"'{path}' is complex: compare one of its sub-attributes ({names})."
            )
        d = self.dialect
        keys = (value.name.casefold(),)
        if target.elements is not None:
            extracted = d.extract(target.value, self._path(p, keys), kind_of(value))
            return _Target(value, extracted, target.elements, (*target.keys, *keys))
        full = (*target.keys, *keys)
        return _Target(value, self._scalar(full, value, p), None, full)

    # -- pr --------------------------------------------------------------------------------

    def _scalar_present(self, value: str, attribute: Attribute) -> str:
        if attribute.type in TEXT_TYPES:
            return f"({value} IS NOT NULL AND {value} <> '')"
        return f"({value} IS NOT NULL)"

    def _object_present(self, obj: str, path: str | None, p: _Params) -> str:
        """A complex value is present when one of its sub-attributes is."""
        d = self.dialect
        alias = p.alias()
        members = d.elements(obj, path, alias)
        return (
            f"EXISTS (SELECT 1 FROM {members} WHERE {alias}.type <> 'null' "
            f"AND NOT ({alias}.type = 'text' AND {alias}.value = '') "
            f"AND NOT ({alias}.type = 'array' AND {d.array_length(f'{alias}.value')} = 0))"
        )

    def _present_test(self, target: _Target, p: _Params) -> str:
        if target.attribute.is_complex:
            if target.elements is None:
                test = self._object_present(target.value, target.path, p)
            else:
                test = self._object_present(target.value, None, p)
        else:
            test = self._scalar_present(target.value, target.attribute)
        return self._lift(target, test)

    def _lift(self, target: _Target, test: str) -> str:
        """Some value of the target passes ``test``."""
        if target.elements is None:
            return test
        return f"EXISTS (SELECT 1 FROM {target.elements} WHERE {test})"

    # -- comparisons -----------------------------------------------------------------------

    def _coerce(self, path: AttrPath, attribute: Attribute, op: str, value: Any) -> Any:
        kind = attribute.type
        if op not in _ALLOWED[kind]:
            raise InvalidFilter(f"The operator '{op}' does not apply to {kind} attribute '{path}'.")
        if kind is AttributeType.BOOLEAN:
            boolean_text = isinstance(value, str) and value.lower() in ("true", "false")
            if boolean_text and self.policy.string_booleans:
                value = str(value).lower() == "true"
            if isinstance(value, bool):
                return value
        elif kind in (AttributeType.INTEGER, AttributeType.DECIMAL):
            if isinstance(value, int | float) and not isinstance(value, bool):
                return value
        elif kind is AttributeType.DATETIME:
            if isinstance(value, str):
                return utc_text(value)
        elif kind in TEXT_TYPES and isinstance(value, str):
            return value if attribute.case_exact else fold(value)
        raise InvalidFilter(
            f"'{path}' is a {kind} attribute; it cannot be compared with {value!r}."
        )

    def _test(self, op: str, value: str, needle: str, length: str) -> str:
        d = self.dialect
        equals = getattr(d, "equals", None)  # optional: dialects written before it have none
        if op == "eq" and equals is not None:
            return str(equals(value, needle))
        if op == "co":
            test = d.contains(value, needle)
        elif op == "sw":
            test = d.starts_with(value, needle)
        elif op == "ew":
            test = d.ends_with(value, needle, length)
        else:
            test = f"{value} {_SQL_OP[op]} {needle}"
        return f"({value} IS NOT NULL AND {test})"

    def _compare(self, node: Compare, p: _Params, element: _Element | None) -> str:
        op = node.op
        target = self._target(node.path, p, element)
        if target is None:
            return self.false
        check_filterable(node.path, target.attribute)
        if target.attribute.is_complex:
            target = self._redirect(node.path, target, p)
        attribute = target.attribute
        if op not in _ALLOWED[attribute.type]:
            raise InvalidFilter(
                f"The operator '{op}' does not apply to {attribute.type} attribute '{node.path}'."
            )
        if node.value is None:
            if op == "eq":
                return f"(NOT {self._present_test(target, p)})"
            if op == "ne":
                return self._present_test(target, p)
            return self.false
        comparable = self._coerce(node.path, attribute, op, node.value)
        equal_op = "eq" if op == "ne" else op
        key = lookup_key(self.resource_type, target.keys)
        bind = self._binder(node, attribute)
        if element is None and equal_op == "eq" and key in self.lookups:
            test = self._seek(key, p, lambda: f"= {p.add_value(comparable, node, bind)}")
        else:
            needle = p.add_value(comparable, node, bind)
            length = ""
            if equal_op == "ew":
                length = p.add_value(_len(comparable), node, self._binder(node, attribute, _len))
            scalar = self._test(equal_op, target.value, needle, length)
            test = self._lift(target, scalar)
        return f"(NOT {test})" if op == "ne" else test

    def _binder(
        self, node: Compare, attribute: Attribute, then: Callable[[Any], Any] | None = None
    ) -> Callable[[Any], Any]:
        """``value -> parameter`` for another value of the comparison ``node`` (a slot)."""

        def bind(value: Any) -> Any:
            comparable = self._coerce(node.path, attribute, node.op, value)
            return then(comparable) if then is not None else comparable

        return bind

    # -- valuePath -------------------------------------------------------------------------

    def _value_path(self, node: ValuePath, p: _Params) -> str:
        target = self._target(node.path, p, None)
        if target is None:
            return self.false
        attribute = target.attribute
        if not attribute.is_complex and not attribute.multi_valued:
            raise InvalidFilter(f"'{node.path}' has no values to filter with '[…]'.")
        if target.elements is not None:
            inner = _Where(self, p, _Element(target.value, attribute)).visit(node.filter)
            return f"EXISTS (SELECT 1 FROM {target.elements} WHERE {inner})"
        alias = p.alias()
        value = self.dialect.extract(self.document, target.path or "", "json")
        source = f"(SELECT {value} AS value) AS {alias}"
        inner = _Where(self, p, _Element(f"{alias}.value", attribute)).visit(node.filter)
        return f"EXISTS (SELECT 1 FROM {source} WHERE {alias}.value IS NOT NULL AND {inner})"


class _Where(Transformer[str]):
    """One compilation's ``WHERE`` text, node by node, parameters bound as the text uses them.

    A node's method visits only the children whose SQL it keeps, so no parameter
    is bound for a clause that is not in the text. Inside ``a[…]``, paths name
    the sub-attributes of ``element``: the filter in the brackets is compiled by
    a ``_Where`` holding it.
    """

    def __init__(self, compiler: FilterCompiler, p: _Params, element: _Element | None) -> None:
        self.compiler = compiler
        self.p = p
        self.element = element

    def compare(self, node: Compare) -> str:
        return self.compiler._compare(node, self.p, self.element)

    def present(self, node: Present) -> str:
        return self.compiler._present(node, self.p, self.element)

    def and_(self, node: And) -> str:
        return "(" + " AND ".join([self.visit(o) for o in node.operands]) + ")"

    def or_(self, node: Or) -> str:
        return self.compiler._or(node, self)

    def not_(self, node: Not) -> str:
        return f"(NOT {self.visit(node.operand)})"

    def value_path(self, node: ValuePath) -> str:
        if self.element is not None:
            raise InvalidFilter("A valuePath cannot hold another valuePath.")
        return self.compiler._value_path(node, self.p)


@attrs.frozen
class _Target:
    """The values of a path: ``value`` (SQL), inside ``elements`` (a FROM item) if any."""

    attribute: Attribute
    value: str
    elements: str | None
    keys: tuple[str, ...]
    path: str | None = None  # for a singular complex attribute: its JSON path parameter


def _singular(attribute: Attribute) -> Attribute:
    return Attribute(attribute.name, attribute.type, case_exact=attribute.case_exact)


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
     WHERE (json_extract(e1.value, :p1) IS :p2)))
    """
    compiler = FilterCompiler(resource_type, registry, dialect=dialect, policy=policy)
    return compiler.compile(node)
