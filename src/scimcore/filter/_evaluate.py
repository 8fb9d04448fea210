"""Compiling a filter into a predicate over typed resources.

Theory of operation:

1. :func:`compile_filter` walks the AST once. Every attribute path is resolved against
   the model's schema registry, every operator is checked against the attribute's type
   and every comparison value is converted (case-folded, parsed as a dateTime…) at that
   point, so a filter that cannot be honoured fails before any resource is looked at, and
   the predicate it returns does no lookups: it is generated Python source, a function
   as a person would write it for that filter (:class:`_Writer`), compiled once per
   filter shape.
2. Values are reached by the contract's access rule: the resource itself for the base
   schema and the common attributes, ``resource.extensions[urn]`` for an extension, then
   ``getattr`` by Python name, on each element of a multi-valued attribute.
3. The semantics (docs/filters.md has the table; every SQL compiler follows it):

   - a multi-valued attribute matches when any of its values matches;
   - ``ne`` is ``not eq``: true when the attribute is absent, false when any value equals;
   - ``not`` is plain boolean negation;
   - ``pr`` is false for null, ``""``, ``[]`` and a complex value whose sub-attributes are
     all empty; ``eq null`` is ``not pr`` and ``ne null`` is ``pr``; every other operator
     with ``null`` matches nothing;
   - strings compare by the attribute's ``caseExact``: when false, both sides are NFC
     normalised and then case-folded; dateTimes compare chronologically, numbers
     numerically;
   - a complex attribute without a sub-attribute compares its ``value`` sub-attribute;
   - a valuePath holds when one element satisfies its whole filter;
   - an attribute the schema does not define makes its comparison false (any operator)
     under ``unknown_filter_attribute="matches_nothing"``, and is an error otherwise.
"""

from __future__ import annotations

import keyword
import linecache
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

import attrs

from scimcore.errors import InvalidFilter
from scimcore.filter._ast import (
    And,
    AttrPath,
    Compare,
    Filter,
    Not,
    Or,
    Present,
    Value,
    ValuePath,
    render_value,
    set_member,
)
from scimcore.filter._parser import parse_filter
from scimcore.filter._visit import Transformer
from scimcore.policy import Policy
from scimcore.schema import TEXT_TYPES, Attribute, AttributeType, ReturnedKind

__all__ = [
    "ALLOWED_OPERATORS",
    "check_filterable",
    "compile_filter",
    "compile_value_filter",
    "fold",
]

Predicate: TypeAlias = Callable[[Any], bool]

_DEFAULT_POLICY = Policy()

_NUMBERS = frozenset({AttributeType.INTEGER, AttributeType.DECIMAL})

#: The operators each attribute type allows (RFC 7644 §3.4.2.2; docs/filters.md).
ALLOWED_OPERATORS: dict[AttributeType, frozenset[str]] = {
    AttributeType.STRING: frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}),
    AttributeType.REFERENCE: frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}),
    AttributeType.BINARY: frozenset({"eq", "ne"}),
    AttributeType.BOOLEAN: frozenset({"eq", "ne"}),
    AttributeType.INTEGER: frozenset({"eq", "ne", "gt", "ge", "lt", "le"}),
    AttributeType.DECIMAL: frozenset({"eq", "ne", "gt", "ge", "lt", "le"}),
    AttributeType.DATETIME: frozenset({"eq", "ne", "gt", "ge", "lt", "le"}),
}


def check_filterable(path: AttrPath | str, attribute: Attribute) -> None:
    """Refuse a filter (or a sort) on an attribute that is never returned (``password``).

    Its value never leaves the server, so no filter may tell it either: not
    ``eq`` (stored as a salted hash, it would cost a key derivation per row),
    not ``pr``, not a sort order. Every evaluator and SQL compiler calls this.

    >>> from scimcore.schema import core_schemas
    >>> password = core_schemas().resolve("password").target
    >>> check_filterable("password", password)
    Traceback (most recent call last):
    ...
    scimcore.errors.InvalidFilter: 'password' is never returned, so it cannot be filtered or ...
    """
    if attribute.returned is ReturnedKind.NEVER:
        raise InvalidFilter(f"'{path}' is never returned, so it cannot be filtered or sorted on.")


def fold(text: str) -> str:
    """The case-insensitive form of a string: Unicode case folding of its NFC form.

    >>> fold("BJensen") == fold("bjensen"), fold("STRASSE") == fold("Straße")
    (True, True)
    """
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFC", text).casefold()


def _is_present(attribute: Attribute) -> Predicate:
    """Whether one (non-None) value of ``attribute`` counts as present (RFC 7644 ``pr``)."""
    if attribute.is_complex:
        names = [sub.python_name for sub in attribute.sub_attributes]
        return lambda value: any(_nonempty(getattr(value, name, None)) for name in names)
    if attribute.type in TEXT_TYPES:
        return lambda value: value != ""
    return lambda value: True


def _nonempty(value: Any) -> bool:
    """A sub-attribute's value is present: not None, "" or [] (sub-attributes are simple)."""
    if isinstance(value, list):
        return any(_nonempty(v) for v in value)
    return value is not None and value != ""


def _singular(attribute: Attribute) -> Attribute:
    return Attribute(
        attribute.name,
        attribute.type,
        case_exact=attribute.case_exact,
        sub_attributes=attribute.sub_attributes,
    )


@attrs.frozen
class _Access:
    """How the values of a path are reached from the subject (a resource, or an element).

    ``extension``: the key of ``subject.extensions`` holding the attribute (``None`` for
    the base schema and the common attributes); ``top`` then ``sub`` are read by Python
    name (``top`` is ``None`` when the path names the subject itself: ``value`` of a
    simple multi-valued attribute's element); ``target`` is the attribute compared.
    """

    extension: str | None
    top: Attribute | None
    sub: Attribute | None
    target: Attribute
    #: The Python names of ``top`` and ``sub`` (read once: a name is derived by a regex).
    top_name: str | None = attrs.field(default=None, eq=False)
    sub_name: str | None = attrs.field(default=None, eq=False)

    @classmethod
    def of(
        cls, extension: str | None, top: Attribute | None, sub: Attribute | None, target: Attribute
    ) -> _Access:
        return cls(
            extension,
            top,
            sub,
            target,
            None if top is None else top.python_name,
            None if sub is None else sub.python_name,
        )

    @property
    def multi(self) -> bool:
        """Whether the path yields several values (any of which may match)."""
        return any(a is not None and a.multi_valued for a in (self.top, self.sub))


class _Scope:
    """Where paths are resolved: a resource model, or the elements of one attribute. A
    scope is made once per model (or schema attribute), and resolves each path once."""

    def __init__(self) -> None:
        self._resolved: dict[AttrPath, _Access | None] = {}

    def resolve(self, path: AttrPath) -> _Access | None:
        """How ``path``'s values are reached, or ``None`` if the path is unknown."""
        try:
            return self._resolved[path]
        except KeyError:
            pass
        if len(self._resolved) >= 1024:
            self._resolved.clear()
        access = self._resolved[path] = self._resolve(path)
        return access

    def _resolve(self, path: AttrPath) -> _Access | None:
        raise NotImplementedError  # pragma: no cover - abstract


class _ModelScope(_Scope):
    def __init__(self, model: type) -> None:
        super().__init__()
        try:
            self.registry = model.scim_registry()  # type: ignore[attr-defined]
            self.resource_type = model.__scim_resource_type__  # type: ignore[attr-defined]
        except AttributeError:
            raise TypeError(f"{model!r} is not a SCIM resource model") from None
        self.base = self.resource_type.schema.casefold()
        declared: Iterable[str] = getattr(model, "__scim_extensions__", {}) or ()
        self.extension_keys = {urn.casefold(): urn for urn in declared}

    @classmethod
    def of(cls, model: type) -> _ModelScope:
        """The scope of ``model``, made once."""
        scope = _MODEL_SCOPES.get(model)
        if scope is None:
            if len(_MODEL_SCOPES) >= 256:
                _MODEL_SCOPES.clear()
            scope = _MODEL_SCOPES[model] = cls(model)
        return scope

    def _resolve(self, path: AttrPath) -> _Access | None:
        ref = self.registry.resolve(str(path), resource_type=self.resource_type)
        if ref is None:
            return None
        top = ref.chain[0]
        sub = ref.chain[1] if len(ref.chain) > 1 else None
        urn = ref.schema.id.casefold()
        extension = None
        if not ref.common and urn != self.base:
            extension = self.extension_keys.get(urn, ref.schema.id)
        return _Access.of(extension, top, sub, ref.target)


_MODEL_SCOPES: dict[type, _ModelScope] = {}
_ELEMENT_SCOPES: dict[int, _ElementScope] = {}


class _ElementScope(_Scope):
    def __init__(self, attribute: Attribute) -> None:
        super().__init__()
        self.attribute = attribute

    @classmethod
    def of(cls, attribute: Attribute) -> _ElementScope:
        """The scope of ``attribute``'s elements, made once for a schema's attribute."""
        scope = _ELEMENT_SCOPES.get(id(attribute))
        if scope is None or scope.attribute is not attribute:
            if len(_ELEMENT_SCOPES) >= 256:
                _ELEMENT_SCOPES.clear()
            scope = _ELEMENT_SCOPES[id(attribute)] = cls(attribute)
        return scope

    def _resolve(self, path: AttrPath) -> _Access | None:
        if not self.attribute.is_complex:
            # A simple multi-valued attribute: "value" names the element itself
            # (RFC 7644 erratum 7122: a PATCH path has no other way to name one).
            if path.name.casefold() != "value" or path.urn or path.sub:
                return None
            return _Access.of(None, None, None, _singular(self.attribute))
        if path.urn is not None or path.sub is not None:
            return None
        sub = self.attribute.sub_attribute(path.name)
        if sub is None:
            return None
        return _Access.of(None, sub, None, sub)


#: The names generated code reads from its module namespace.
_GLOBALS: dict[str, Any] = {"_fold": fold, "_UTC": UTC, "__builtins__": __builtins__}

#: The comparison of each operator: Python source over a value ``{v}`` and a constant ``{c}``.
_OPERATORS: dict[str, str] = {
    "eq": "{v} == {c}",
    "co": "{c} in {v}",
    "sw": "{v}.startswith({c})",
    "ew": "{v}.endswith({c})",
    "gt": "{v} > {c}",
    "ge": "{v} >= {c}",
    "lt": "{v} < {c}",
    "le": "{v} <= {c}",
}


class _Writer(Transformer[str]):
    """Writes the Python source of a predicate: each node becomes an expression over the
    subject ``s`` (a resource, or an element inside ``[…]``), and each path whose values
    are several becomes a helper function looping over them.

    Theory of operation: the source depends on the filter's *shape* only (its tree,
    attributes, operators, the types and foldings of its values): every comparison value
    is a constant (``_c0``, ``_c1``…), a parameter of the factory the source defines. So
    compiled code is cached by source text, and a filter of a shape seen before costs one
    factory call, not a ``compile``.
    """

    def __init__(self, policy: Policy, scope: _Scope, shared: _Writer | None = None) -> None:
        self.policy = policy
        self.scope = scope
        self.subject = "s"
        #: Shared with the writers of ``[…]`` filters: one set of constants and helpers.
        self.constants: list[Any] = shared.constants if shared is not None else []
        self.helpers: list[str] = shared.helpers if shared is not None else []
        self._names: list[int] = shared._names if shared is not None else [0]

    def _name(self, prefix: str) -> str:
        self._names[0] += 1
        return f"{prefix}{self._names[0]}"

    def constant(self, value: Any) -> str:
        """The name the factory gives ``value``."""
        self.constants.append(value)
        return f"_c{len(self.constants) - 1}"

    # -- where values are ------------------------------------------------------------------

    def _read(self, holder: str, name: str | None) -> str:
        """Source reading the attribute ``name`` (a Python name) of ``holder``."""
        assert name is not None
        if name.isidentifier() and not keyword.iskeyword(name):
            return f"{holder}.{name}"
        return f"getattr({holder}, {self.constant(name)})"

    def _single(self, access: _Access, subject: str) -> str:
        """An expression for the one value of a path that is not multi-valued (or None)."""
        if access.top is None:
            return subject
        holder = subject
        guards = []
        if access.extension is not None:
            h = self._name("h")
            guards.append(f"({h} := {subject}.extensions.get({self.constant(access.extension)}))")
            holder = h
        value = self._read(holder, access.top_name)
        if access.sub is not None:
            h = self._name("h")
            guards.append(f"({h} := {value})")
            value = self._read(h, access.sub_name)
        if not guards:
            return value
        return f"(None if {' is None or '.join(guards)} is None else {value})"

    def lift(self, access: _Access, test: Callable[[str], str]) -> str:
        """Some (non-None) value of the path passes ``test`` (source over a variable)."""
        if not access.multi:
            v = self._name("v")
            return f"(({v} := {self._single(access, self.subject)}) is not None and {test(v)})"
        assert access.top is not None
        lines: list[str] = []
        indent = "        "
        holder = "s"
        if access.extension is not None:
            lines.append(f"{indent}h = s.extensions.get({self.constant(access.extension)})")
            lines.append(f"{indent}if h is None:")
            lines.append(f"{indent}    return False")
            holder = "h"
        top = self._read(holder, access.top_name)
        if access.top.multi_valued:
            lines.append(f"{indent}for x in {top}:")
            indent += "    "
        else:
            lines.append(f"{indent}x = {top}")
            lines.append(f"{indent}if x is None:")
            lines.append(f"{indent}    return False")
        if access.sub is None:
            lines.append(f"{indent}v = x")
        elif access.sub.multi_valued:
            lines.append(f"{indent}for v in {self._read('x', access.sub_name)} or ():")
            indent += "    "
        else:
            lines.append(f"{indent}v = {self._read('x', access.sub_name)}")
        lines.append(f"{indent}if v is not None and {test('v')}:")
        lines.append(f"{indent}    return True")
        lines.append("        return False")
        helper = self._name("_any")
        self.helpers.append(f"    def {helper}(s):\n" + "\n".join(lines))
        return f"{helper}({self.subject})"

    # -- nodes -----------------------------------------------------------------------------

    def unknown(self, path: AttrPath) -> str:
        if self.policy.unknown_filter_attribute == "error":
            raise InvalidFilter(f"Unknown attribute '{path}'.")
        return "False"

    def and_(self, node: And) -> str:
        return "(" + " and ".join(self.visit(o) for o in node.operands) + ")"

    def or_(self, node: Or) -> str:
        """``a or b or …``; the ``eq`` terms comparing one text attribute with strings are
        one set lookup (``id eq "1" or id eq "2" or …``, which the service makes of a
        filter on ``groups``, costs one test a row, not one a term)."""
        by_path: dict[str, list[Compare]] = {}
        for operand in node.operands:
            key = set_member(operand)
            if key is not None:
                assert isinstance(operand, Compare)
                by_path.setdefault(key, []).append(operand)
        sets: dict[str, str | None] = {}
        for key, terms in by_path.items():
            if len(terms) > 1:
                one_of = self.one_of(terms)
                if one_of is not None:
                    sets[key] = one_of
        parts: list[str] = []
        for operand in node.operands:
            key = set_member(operand)
            if key is not None and key in sets:
                first = sets[key]
                if first is not None:  # the set's first term stands for them all
                    parts.append(first)
                    sets[key] = None
                continue
            parts.append(self.visit(operand))
        return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"

    def one_of(self, terms: Sequence[Compare]) -> str | None:
        """One test for ``eq`` terms on one path, each with a string; ``None`` unless that
        path is a text attribute (the only type a set lookup matches exactly)."""
        path = terms[0].path
        access = self.scope.resolve(path)
        if access is None:
            return None
        target = access.target
        if target.is_complex or target.type not in TEXT_TYPES:
            return None
        check_filterable(path, target)
        if target.case_exact:
            exact = self.constant(frozenset(str(term.value) for term in terms))
            return self.lift(access, lambda v: f"{v} in {exact}")
        folded = self.constant(frozenset(fold(str(term.value)) for term in terms))
        return self.lift(access, lambda v: f"{_folded(v)} in {folded}")

    def not_(self, node: Not) -> str:
        return f"(not {self.visit(node.operand)})"

    def present(self, node: Present) -> str:
        access = self.scope.resolve(node.path)
        if access is None:
            return self.unknown(node.path)
        check_filterable(node.path, access.target)
        return self.lift(access, self.is_present(_singular(access.target)))

    def is_present(self, attribute: Attribute) -> Callable[[str], str]:
        """Whether one (non-None) value counts as present (RFC 7644 ``pr``)."""
        if attribute.is_complex:
            test = self.constant(_is_present(attribute))
            return lambda v: f"{test}({v})"
        if attribute.type in TEXT_TYPES:
            return lambda v: f'{v} != ""'
        return lambda v: "True"

    def compare(self, node: Compare) -> str:
        path, op, value = node.path, node.op, node.value
        access = self.scope.resolve(path)
        if access is None:
            return self.unknown(path)
        check_filterable(path, access.target)
        if access.target.is_complex:
            inner = access.target.sub_attribute("value")
            if inner is None:
                raise InvalidFilter(
                    f"'{path}' is complex: compare one of its sub-attributes"
                    f" ({', '.join(s.name for s in access.target.sub_attributes)})."
                )
            if access.sub is not None or access.top is None:  # pragma: no cover - schema
                raise InvalidFilter(f"'{path}' cannot be compared.")
            access = _Access.of(access.extension, access.top, inner, inner)
        target = access.target
        kind = target.type
        if op not in ALLOWED_OPERATORS[kind]:
            raise InvalidFilter(f"The operator '{op}' does not apply to {kind} attribute '{path}'.")
        if value is None:
            if op in ("eq", "ne"):
                present = self.lift(access, self.is_present(_singular(target)))
                return present if op == "ne" else f"(not {present})"
            return "False"
        test = self.test(path, target, "eq" if op == "ne" else op, value)
        predicate = self.lift(access, test)
        return f"(not {predicate})" if op == "ne" else predicate

    def test(
        self, path: AttrPath, target: Attribute, op: str, value: Value
    ) -> Callable[[str], str]:
        """The comparison of one value with ``value``, as source over a variable."""
        kind = target.type
        template = _OPERATORS[op]
        if kind in TEXT_TYPES:
            if not isinstance(value, str):
                raise _mismatch(path, target, value)
            if target.case_exact:
                c = self.constant(value)
                return lambda v: template.format(v=v, c=c)
            c = self.constant(fold(value))
            return lambda v: template.format(v=_folded(v), c=c)
        if kind is AttributeType.BOOLEAN:
            if (
                isinstance(value, str)
                and self.policy.string_booleans
                and value.lower() in ("true", "false")
            ):
                value = value.lower() == "true"
            if not isinstance(value, bool):
                raise _mismatch(path, target, value)
            c = self.constant(value)
            return lambda v: template.format(v=v, c=c)
        if kind in _NUMBERS:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise _mismatch(path, target, value)
            c = self.constant(value)
            return lambda v: template.format(v=v, c=c)
        assert kind is AttributeType.DATETIME
        if not isinstance(value, str):
            raise _mismatch(path, target, value)
        instant = _datetime(value)
        if instant is None:
            raise InvalidFilter(f"'{path}' is a dateTime; {render_value(value)} is not one.")
        c = self.constant(instant)
        return lambda v: template.format(
            v=f"({v} if {v}.tzinfo is not None else {v}.replace(tzinfo=_UTC))", c=c
        )

    def value_path(self, node: ValuePath) -> str:
        access = self.scope.resolve(node.path)
        if access is None:
            return self.unknown(node.path)
        target = access.target
        if not target.is_complex and not target.multi_valued:
            raise InvalidFilter(f"'{node.path}' has no values to filter with '[…]'.")
        inner = _Writer(self.policy, _ElementScope.of(target), shared=self)

        def test(v: str) -> str:
            inner.subject = v
            return inner.visit(node.filter)

        return self.lift(access, test)

    # -- the function ----------------------------------------------------------------------

    def function(self, node: Filter) -> Callable[[Any], bool]:
        """The predicate of ``node``: its source written, compiled once per shape."""
        body = self.visit(node)
        params = ", ".join(f"_c{i}" for i in range(len(self.constants)))
        source = "\n\n".join(
            [
                f"def _make({params}):",
                *self.helpers,
                f"    def _predicate(s):\n        return {body}\n\n    return _predicate\n",
            ]
        )
        make = _FACTORIES.get(source)
        if make is None:
            if len(_FACTORIES) >= 1024:
                _FACTORIES.clear()
            namespace = dict(_GLOBALS)
            _counter[0] += 1
            filename = f"<scimcore generated filter #{_counter[0]}>"
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), namespace)
            make = _FACTORIES[source] = namespace["_make"]
        predicate: Callable[[Any], bool] = make(*self.constants)
        return predicate


#: Compiled factories by source text (one per filter shape seen lately).
_FACTORIES: dict[str, Callable[..., Callable[[Any], bool]]] = {}
_counter = [0]


def _folded(v: str) -> str:
    """Source for :func:`fold` of a variable, inline for ASCII (the common case)."""
    return f"({v}.lower() if {v}.isascii() else _fold({v}))"


def _mismatch(path: AttrPath, target: Attribute, value: Value) -> InvalidFilter:
    return InvalidFilter(
        f"'{path}' is {'an' if target.type is AttributeType.INTEGER else 'a'} {target.type}"
        f" attribute; it cannot be compared with {render_value(value)}."
    )


def _datetime(text: str) -> datetime | None:
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    if "T" not in text.upper():
        return None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def compile_filter(
    filter: Filter | str, model: type, *, policy: Policy | None = None
) -> Callable[[Any], bool]:
    """A predicate telling whether an instance of ``model`` matches ``filter``.

    Every path is resolved, every operator checked and every value converted now;
    the predicate only reads attributes. A string is parsed first with
    :func:`parse_filter`. The semantics are those of docs/filters.md.

    Raises:
        InvalidFilter: the filter cannot be evaluated for this model (unknown attribute
            under a strict policy, an operator the attribute's type does not allow, a
            value of the wrong type).

    >>> from scimcore.models import Email, User
    >>> matches = compile_filter('emails[type eq "work" and value ew "@example.com"]', User)
    >>> matches(User(emails=[Email(type="work", value="BJ@EXAMPLE.COM")]))
    True
    >>> matches(User(emails=[Email(type="home", value="bj@example.com")]))
    False
    """
    policy = policy or _DEFAULT_POLICY
    if isinstance(filter, str):
        filter = parse_filter(filter, policy=policy)
    return _Writer(policy, _ModelScope.of(model)).function(filter)


def compile_value_filter(
    filter: Filter, attribute: Attribute, *, policy: Policy | None = None
) -> Callable[[Any], bool]:
    """A predicate over one value of ``attribute``, for the filter inside ``attr[…]``.

    This is what a PATCH path such as ``emails[type eq "work"]`` selects elements with.
    For an attribute that is not complex, ``value`` names the element itself.

    >>> from scimcore.models import Email, User
    >>> emails = User.scim_registry().resolve("emails", resource_type="User").target
    >>> work = compile_value_filter(parse_filter('type eq "work"'), emails)
    >>> work(Email(type="Work")), work(Email(type="home"))
    (True, False)
    """
    return _Writer(policy or _DEFAULT_POLICY, _ElementScope(attribute)).function(filter)
