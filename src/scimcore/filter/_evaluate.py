"""Compiling a filter into a predicate over typed resources.

Theory of operation:

1. :func:`compile_filter` walks the AST once. Every attribute path is resolved against
   the model's schema registry, every operator is checked against the attribute's type
   and every comparison value is converted (case-folded, parsed as a dateTime…) at that
   point, so a filter that cannot be honoured fails before any resource is looked at, and
   the predicate it returns does no lookups: it is a tree of small closures.
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

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias

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
Getter: TypeAlias = Callable[[Any], Any]

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

_STRING_TESTS: dict[str, Callable[[str], Callable[[str], bool]]] = {
    "eq": lambda w: w.__eq__,
    "co": lambda w: lambda v: w in v,
    "sw": lambda w: lambda v: v.startswith(w),
    "ew": lambda w: lambda v: v.endswith(w),
    "gt": lambda w: w.__lt__,
    "ge": lambda w: w.__le__,
    "lt": lambda w: w.__gt__,
    "le": lambda w: w.__ge__,
}
_ORDER_TESTS: dict[str, Callable[[Any], Callable[[Any], bool]]] = {
    "eq": lambda w: lambda v: v == w,
    "gt": lambda w: lambda v: v > w,
    "ge": lambda w: lambda v: v >= w,
    "lt": lambda w: lambda v: v < w,
    "le": lambda w: lambda v: v <= w,
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


def _never(resource: Any) -> bool:
    return False


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


class _Scope:
    """Where paths are resolved: a resource model, or the elements of one attribute."""

    def resolve(self, path: AttrPath) -> tuple[Getter, bool, Attribute] | None:
        """(getter, multi-valued?, target attribute) for ``path``, or ``None`` if unknown."""
        raise NotImplementedError  # pragma: no cover - abstract


class _ModelScope(_Scope):
    def __init__(self, model: type) -> None:
        try:
            self.registry = model.scim_registry()  # type: ignore[attr-defined]
            self.resource_type = model.__scim_resource_type__  # type: ignore[attr-defined]
        except AttributeError:
            raise TypeError(f"{model!r} is not a SCIM resource model") from None
        self.base = self.resource_type.schema.casefold()
        declared: Iterable[str] = getattr(model, "__scim_extensions__", {}) or ()
        self.extension_keys = {urn.casefold(): urn for urn in declared}

    def resolve(self, path: AttrPath) -> tuple[Getter, bool, Attribute] | None:
        ref = self.registry.resolve(str(path), resource_type=self.resource_type)
        if ref is None:
            return None
        top = ref.chain[0]
        sub = ref.chain[1] if len(ref.chain) > 1 else None
        urn = ref.schema.id.casefold()
        if ref.common or urn == self.base:
            container: Getter | None = None
        else:
            key = self.extension_keys.get(urn, ref.schema.id)

            def container(resource: Any) -> Any:
                return resource.extensions.get(key)

        return (*_chain_getter(container, top, sub), ref.target)


class _ElementScope(_Scope):
    def __init__(self, attribute: Attribute) -> None:
        self.attribute = attribute

    def resolve(self, path: AttrPath) -> tuple[Getter, bool, Attribute] | None:
        if not self.attribute.is_complex:
            # A simple multi-valued attribute: "value" names the element itself
            # (RFC 7644 erratum 7122: a PATCH path has no other way to name one).
            if path.name.casefold() != "value" or path.urn or path.sub:
                return None
            return (lambda element: element), False, _singular(self.attribute)
        if path.urn is not None or path.sub is not None:
            return None
        sub = self.attribute.sub_attribute(path.name)
        if sub is None:
            return None
        return (*_chain_getter(None, sub, None), sub)


def _chain_getter(
    container: Getter | None, top: Attribute, sub: Attribute | None
) -> tuple[Getter, bool]:
    """A getter for ``top[.sub]`` and whether it yields a list (any value may be None)."""
    name = top.python_name
    if container is None:

        def head(resource: Any) -> Any:
            return getattr(resource, name)

    else:
        absent = () if top.multi_valued else None

        def head(resource: Any) -> Any:
            holder = container(resource)
            return absent if holder is None else getattr(holder, name)

    if sub is None:
        return head, top.multi_valued
    return _sub_getter(head, top.multi_valued, sub)


def _lift(get: Getter, multi: bool, test: Predicate) -> Predicate:
    """A resource predicate: some (non-None) value of the path passes ``test``."""
    if multi:

        def any_value(resource: Any) -> bool:
            for value in get(resource):  # noqa: SIM110 - a loop is faster than any()
                if value is not None and test(value):
                    return True
            return False

        return any_value

    def one_value(resource: Any) -> bool:
        value = get(resource)
        return value is not None and test(value)

    return one_value


def _negate(predicate: Predicate) -> Predicate:
    return lambda resource: not predicate(resource)


class _Compiler(Transformer[Predicate]):
    """The predicate of each node, its paths resolved in ``scope``."""

    def __init__(self, policy: Policy, scope: _Scope) -> None:
        self.policy = policy
        self.scope = scope

    def unknown(self, path: AttrPath) -> Predicate:
        if self.policy.unknown_filter_attribute == "error":
            raise InvalidFilter(f"Unknown attribute '{path}'.")
        return _never

    def and_(self, node: And) -> Predicate:
        return _all([self.visit(o) for o in node.operands])

    def or_(self, node: Or) -> Predicate:
        """``a or b or …``; the ``eq`` terms comparing one text attribute with strings are
        one set lookup (``id eq "1" or id eq "2" or …``, which the service makes of a
        filter on ``groups``, costs one test a row, not one a term)."""
        by_path: dict[str, list[Compare]] = {}
        for operand in node.operands:
            key = set_member(operand)
            if key is not None:
                assert isinstance(operand, Compare)
                by_path.setdefault(key, []).append(operand)
        sets: dict[str, Predicate] = {}
        for key, terms in by_path.items():
            if len(terms) > 1:
                one_of = self.one_of(terms)
                if one_of is not None:
                    sets[key] = one_of
        predicates: list[Predicate] = []
        for operand in node.operands:
            key = set_member(operand)
            if key is not None and key in sets:
                if sets[key] is not _never:  # the set's first term stands for them all
                    predicates.append(sets[key])
                    sets[key] = _never
                continue
            predicates.append(self.visit(operand))
        return predicates[0] if len(predicates) == 1 else _any(predicates)

    def one_of(self, terms: Sequence[Compare]) -> Predicate | None:
        """One predicate for ``eq`` terms on one path, each with a string; ``None`` unless
        that path is a text attribute (the only type a set lookup matches exactly)."""
        path = terms[0].path
        resolved = self.scope.resolve(path)
        if resolved is None:
            return None
        get, multi, target = resolved
        if target.is_complex or target.type not in TEXT_TYPES:
            return None
        check_filterable(path, target)
        if target.case_exact:
            exact = frozenset(str(term.value) for term in terms)
            return _lift(get, multi, exact.__contains__)
        folded = frozenset(fold(str(term.value)) for term in terms)
        return _lift(get, multi, lambda v: fold(v) in folded)

    def not_(self, node: Not) -> Predicate:
        return _negate(self.visit(node.operand))

    def present(self, node: Present) -> Predicate:
        resolved = self.scope.resolve(node.path)
        if resolved is None:
            return self.unknown(node.path)
        get, multi, target = resolved
        check_filterable(node.path, target)
        return _lift(get, multi, _is_present(_singular(target)))

    def compare(self, node: Compare) -> Predicate:
        path, op, value = node.path, node.op, node.value
        resolved = self.scope.resolve(path)
        if resolved is None:
            return self.unknown(path)
        get, multi, target = resolved
        check_filterable(path, target)
        if target.is_complex:
            inner = target.sub_attribute("value")
            if inner is None:
                raise InvalidFilter(
                    f"'{path}' is complex: compare one of its sub-attributes"
                    f" ({', '.join(s.name for s in target.sub_attributes)})."
                )
            get, multi = _sub_getter(get, multi, inner)
            target = inner
        kind = target.type
        if op not in ALLOWED_OPERATORS[kind]:
            raise InvalidFilter(f"The operator '{op}' does not apply to {kind} attribute '{path}'.")
        if value is None:
            if op in ("eq", "ne"):
                present = _lift(get, multi, _is_present(_singular(target)))
                return present if op == "ne" else _negate(present)
            return _never
        equal_op = "eq" if op == "ne" else op
        test = self.test(path, target, equal_op, value)
        predicate = _lift(get, multi, test)
        return _negate(predicate) if op == "ne" else predicate

    def test(self, path: AttrPath, target: Attribute, op: str, value: Value) -> Predicate:
        kind = target.type
        if kind in TEXT_TYPES:
            if not isinstance(value, str):
                raise _mismatch(path, target, value)
            if target.case_exact:
                return _STRING_TESTS[op](value)
            string_test = _STRING_TESTS[op](fold(value))
            return lambda v: string_test(fold(v))
        if kind is AttributeType.BOOLEAN:
            if (
                isinstance(value, str)
                and self.policy.string_booleans
                and value.lower() in ("true", "false")
            ):
                value = value.lower() == "true"
            if not isinstance(value, bool):
                raise _mismatch(path, target, value)
            return _ORDER_TESTS[op](value)
        if kind in _NUMBERS:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise _mismatch(path, target, value)
            return _ORDER_TESTS[op](value)
        assert kind is AttributeType.DATETIME
        if not isinstance(value, str):
            raise _mismatch(path, target, value)
        instant = _datetime(value)
        if instant is None:
            raise InvalidFilter(f"'{path}' is a dateTime; {render_value(value)} is not one.")
        instant_test = _ORDER_TESTS[op](instant)
        return lambda v: instant_test(v if v.tzinfo is not None else v.replace(tzinfo=UTC))

    def value_path(self, node: ValuePath) -> Predicate:
        resolved = self.scope.resolve(node.path)
        if resolved is None:
            return self.unknown(node.path)
        get, multi, target = resolved
        if not target.is_complex and not target.multi_valued:
            raise InvalidFilter(f"'{node.path}' has no values to filter with '[…]'.")
        inner = _Compiler(self.policy, _ElementScope(target)).visit(node.filter)
        return _lift(get, multi, inner)


def _sub_getter(get: Getter, multi: bool, sub: Attribute) -> tuple[Getter, bool]:
    """A getter for the ``sub`` of each value ``get`` yields; it yields a list if either is."""
    name = sub.python_name
    if multi or sub.multi_valued:
        flat = sub.multi_valued

        def each(resource: Any) -> list[Any]:
            found = get(resource)
            values = [] if found is None else found if multi else [found]
            out: list[Any] = []
            for value in values:  # elements of a multi-valued attribute are never None
                got = getattr(value, name)
                if flat:
                    out.extend(got or ())
                else:
                    out.append(got)
            return out

        return each, True

    def nested(resource: Any) -> Any:
        value = get(resource)
        return None if value is None else getattr(value, name)

    return nested, False


def _all(predicates: Sequence[Predicate]) -> Predicate:
    if len(predicates) == 2:
        first, second = predicates
        return lambda r: first(r) and second(r)
    return lambda r: all(p(r) for p in predicates)


def _any(predicates: Sequence[Predicate]) -> Predicate:
    if len(predicates) == 2:
        first, second = predicates
        return lambda r: first(r) or second(r)
    return lambda r: any(p(r) for p in predicates)


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
    return _Compiler(policy, _ModelScope(model)).visit(filter)


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
    return _Compiler(policy or _DEFAULT_POLICY, _ElementScope(attribute)).visit(filter)
