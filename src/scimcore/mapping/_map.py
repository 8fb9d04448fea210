"""The attribute map: which SCIM attribute a host keeps in which column.

Keys are SCIM attribute paths, read with the schema registry of the model:
a singular attribute or sub-attribute (``userName``, ``name.givenName``, an
extension's ``urn:…:User:employeeNumber``), or one element of a multi-valued
attribute, named by the equality filter that fixes it (``emails[type eq
"work"].value``: the host's ``email`` column is the user's work email; the
filter's values, ``type`` here, are constants of that element). Values are
column names, :class:`Column` (converters, read-only) or :class:`Computed`
(a getter, and a setter or none). Everything else the schema defines is
*not kept*: a write leaves it out, and a filter or sort on it is refused.

Values are converted by the schema's types: a ``dateTime`` is an aware
``datetime`` in the host (a naive one read back is taken as UTC), a string
attribute read from a non-text column (an integer key) is its ``str()``.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from scimcore._json import compact
from scimcore.codecs.v2 import decode, encode
from scimcore.errors import InvalidFilter
from scimcore.filter import (
    AttrPath,
    Compare,
    Filter,
    Present,
    compile_filter,
    fold,
    parse_filter,
    parse_path,
)
from scimcore.filter._evaluate import _datetime
from scimcore.filter._visit import equality_terms
from scimcore.mapping._plan import (
    Const,
    Filled,
    Plan,
    SortPlan,
    all_of,
    any_of,
    negate,
    not_kept,
    plan_filter,
)
from scimcore.policy import Policy
from scimcore.schema import TEXT_TYPES, Attribute, AttributeRef, AttributeType, Schema

__all__ = ["AttributeMap", "Column", "Computed", "Element", "Single"]


@attrs.frozen
class Column:
    """A host column (an attribute of the host's row object) that keeps a SCIM value.

    ``to_host`` and ``from_host`` convert a value (already in the schema's Python
    type: ``str``, ``bool``, an aware ``datetime``…) for a host that keeps it
    otherwise; ``read_only`` columns are read, never written (a database default).
    Filters compare the column itself, so converters must keep order and equality.

    >>> Column("is_active").read_only
    False
    """

    name: str
    read_only: bool = False
    to_host: Callable[[Any], Any] | None = None
    from_host: Callable[[Any], Any] | None = None


@attrs.frozen
class Computed:
    """A value the host computes: ``get(row)`` gives it (wire form: what the JSON holds),
    ``set(row, value)``, if given, keeps it. Computed values cannot be filtered or sorted on.

    >>> Computed(lambda row: row.first_name + " " + row.last_name).set is None
    True
    """

    get: Callable[[Any], Any]
    set: Callable[[Any, Any], None] | None = None


@attrs.frozen
class Single:
    """A singular simple attribute kept in one column; ``keys`` locate it in a wire document."""

    attribute: Attribute
    keys: tuple[str, ...]
    column: Column
    key: bool = False


@attrs.define
class Element:
    """One element of a multi-valued attribute (or the value of a singular complex one),
    its sub-attributes constants or columns."""

    attribute: Attribute
    keys: tuple[str, ...]
    multi: bool
    constants: dict[str, tuple[str, Any]] = attrs.Factory(dict)
    columns: dict[str, tuple[str, Column]] = attrs.Factory(dict)
    sample: Any = None

    def exists(self) -> Plan:
        """The element is there: one of its columns is filled."""
        return any_of(
            Filled(column.name, self._text(name)) for name, column in self.columns.values()
        )

    def _text(self, name: str) -> bool:
        sub = self.attribute.sub_attribute(name) if self.attribute.is_complex else None
        return (sub or self.attribute).type in TEXT_TYPES

    def constant(self, name: str) -> Any:
        """The constant value of a sub-attribute, ``None`` if it is not one."""
        found = self.constants.get(name.casefold())
        return None if found is None else found[1]

    def column(self, name: str) -> Column | None:
        """The column of a sub-attribute, ``None`` if it has none."""
        found = self.columns.get(name.casefold())
        return None if found is None else found[1]

    def matches(self, value: Mapping[str, Any]) -> bool:
        """Whether a wire element has this element's constants."""
        for name, constant in self.constants.values():
            sub = self.attribute.sub_attribute(name)
            got = value.get(name)
            if isinstance(got, str) and isinstance(constant, str) and sub and not sub.case_exact:
                got, constant = fold(got), fold(constant)
            if got != constant:
                return False
        return True


def _wire_keys(ref: AttributeRef, base: str) -> tuple[str, ...]:
    names = tuple(attribute.name for attribute in ref.chain)
    if ref.common or ref.schema.id.casefold() == base:
        return names
    return (ref.schema.id, *names)


def _dig(document: Mapping[str, Any], keys: Iterable[str]) -> Any:
    value: Any = document
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _put(document: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    for key in keys[:-1]:
        document = document.setdefault(key, {})
    document[keys[-1]] = value


def to_host(value: Any, attribute: Attribute, column: Column) -> Any:
    """A wire value in the host's form."""
    if column.to_host is not None:
        return column.to_host(value)
    if value is not None and attribute.type is AttributeType.DATETIME and isinstance(value, str):
        return _datetime(value)
    return value


def from_host(value: Any, attribute: Attribute, column: Column) -> Any:
    """A host value in wire form."""
    if column.from_host is not None:
        value = column.from_host(value)
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC).isoformat()
    if attribute.type in TEXT_TYPES and not isinstance(value, str):
        return str(value)
    return value


class AttributeMap:
    """Which SCIM attribute of ``model`` lives in which host column (see the module).

    ``id`` names the host's key column (its ``str()`` is the SCIM ``id``);
    ``version``, an integer column raised by every write (the ETag), else the
    ETag is a digest of the mapped values; ``created`` and ``last_modified``,
    the columns of ``meta.created`` and ``meta.lastModified``, if the host has them.

    >>> from scimcore.models import User
    >>> users = AttributeMap(User, {"userName": "username", "name.givenName": "first_name"})
    >>> users.plan('name.givenName sw "Ba" and not (userName eq "x")')
    All(parts=(Test(column='first_name', op='sw', value='ba', folded=True, key=False), ...))
    >>> users.plan('title eq "Tour Guide"')
    Traceback (most recent call last):
    scimcore.errors.InvalidFilter: 'title' is not kept by this server, so it cannot be filtered on.
    """

    def __init__(
        self,
        model: type[Any],
        attributes: Mapping[str, str | Column | Computed],
        *,
        id: str = "id",
        version: str | None = None,
        created: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        self.model = model
        self.resource_type = model.__scim_resource_type__
        self.registry = model.scim_registry()
        self.base = self.resource_type.schema.casefold()
        self.version = version
        self.singles: dict[tuple[str, str, str | None], Single] = {}
        self.elements: dict[tuple[str, str], list[Element]] = {}
        self.computed: dict[tuple[str, str, str | None], tuple[tuple[str, ...], Computed]] = {}
        self._by_filter: dict[tuple[str, str, str], Element] = {}
        meta: dict[str, str | Column | Computed] = {"id": Column(id)}
        if created is not None:
            meta["meta.created"] = Column(created)
        if last_modified is not None:
            meta["meta.lastModified"] = Column(last_modified)
        for path, target in {**meta, **attributes}.items():
            self._add(path, Column(target) if isinstance(target, str) else target)
        self.id = self.singles[self._key(self._ref("id"))].column

    # -- building --------------------------------------------------------------------------

    def _ref(self, path: str) -> AttributeRef:
        ref: AttributeRef | None = self.registry.resolve(path, resource_type=self.resource_type)
        if ref is None:
            raise ValueError(f"{self.model.__name__} has no attribute {path!r}")
        return ref

    def _key(self, ref: AttributeRef) -> tuple[str, str, str | None]:
        sub = ref.chain[1].name.casefold() if len(ref.chain) > 1 else None
        return (ref.schema.id.casefold(), ref.chain[0].name.casefold(), sub)

    def _add(self, path: str, target: Column | Computed) -> None:
        patch_path = parse_path(path)
        ref = self._ref(str(patch_path.path))
        top = ref.chain[0]
        if patch_path.filter is not None:
            self._add_element(path, ref, patch_path.filter, patch_path.sub, target)
            return
        if isinstance(target, Computed):
            self.computed[self._key(ref)] = (_wire_keys(ref, self.base), target)
            return
        if ref.target.is_complex or top.multi_valued:
            raise ValueError(
                f"{path!r}: map the sub-attributes of a complex attribute, and the elements"
                ' of a multi-valued one (emails[type eq "work"].value)'
            )
        keys = _wire_keys(ref, self.base)
        single = Single(ref.target, keys, target, key=path == "id")
        self.singles[self._key(ref)] = single
        if len(ref.chain) > 1 and not ref.common:  # name.givenName: also an element of name
            element = self._element(ref, keys[:-1], multi=False, fixed="")
            element.columns[ref.target.name.casefold()] = (ref.target.name, target)

    def _element(
        self, ref: AttributeRef, keys: tuple[str, ...], multi: bool, fixed: str
    ) -> Element:
        top = ref.chain[0]
        group = (ref.schema.id.casefold(), top.name.casefold())
        found = self._by_filter.get((*group, fixed))
        if found is None:
            found = Element(top, keys, multi)
            self._by_filter[(*group, fixed)] = found
            self.elements.setdefault(group, []).append(found)
        return found

    def _add_element(
        self, path: str, ref: AttributeRef, node: Filter, sub: str | None, target: Column | Computed
    ) -> None:
        top = ref.chain[0]
        terms = equality_terms(node)
        if not top.multi_valued or not top.is_complex or terms is None or sub is None:
            raise ValueError(
                f"{path!r}: an element is named by equality terms on a multi-valued complex"
                ' attribute, then a sub-attribute: emails[type eq "work"].value'
            )
        if isinstance(target, Computed):
            raise ValueError(f"{path!r}: an element's sub-attributes are columns")
        attribute = top.sub_attribute(sub)
        if attribute is None:
            raise ValueError(f"{top.name} has no sub-attribute {sub!r}")
        element = self._element(ref, _wire_keys(ref, self.base), multi=True, fixed=str(node))
        for term in terms:
            known = top.sub_attribute(term.path.name)
            if known is None:
                raise ValueError(f"{top.name} has no sub-attribute {term.path.name!r}")
            element.constants[known.name.casefold()] = (known.name, term.value)
        element.columns[attribute.name.casefold()] = (attribute.name, target)
        constants = dict(element.constants.values())
        document = {"schemas": [self.resource_type.schema]}
        _put(document, element.keys, [constants])
        element.sample = getattr(
            _container(decode(document, self.model), ref, self.base), top.python_name
        )[0]

    # -- filters and sorts -----------------------------------------------------------------

    def locate(self, path: AttrPath) -> Single | tuple[list[Element], str | None] | None:
        """Where a filter path is kept: a :class:`Single`, or the elements and the
        sub-attribute named; ``None`` for a path the schema lacks; ``invalidFilter`` for
        one the host does not keep."""
        ref = self.registry.resolve(str(path), resource_type=self.resource_type)
        if ref is None:
            return None
        top = ref.chain[0]
        sub = ref.chain[1] if len(ref.chain) > 1 else None
        if top.multi_valued or (top.is_complex and sub is None):
            elements = self.elements.get((ref.schema.id.casefold(), top.name.casefold()))
            if not elements:
                raise not_kept(path)
            return elements, None if sub is None else sub.name
        single = self.singles.get(self._key(ref))
        if single is None:
            raise not_kept(path)
        return single

    def plan(self, filter: Filter | str, policy: Policy | None = None) -> Plan:
        """The :class:`Plan` of a filter over the host's columns.

        The filter is assumed valid for the model (a store compiles it with the
        evaluator first); what the map cannot express is ``invalidFilter``.
        """
        policy = policy or Policy()
        node = parse_filter(filter, policy=policy) if isinstance(filter, str) else filter
        return plan_filter(self, node, policy)

    def derived_plan(self, node: Compare | Present) -> Plan:
        """The plan of a filter on what a row's resource has without a column: its
        ``meta.resourceType``, a ``meta.version``, and in ``schemas`` the base URN and each
        extension's when one of the extension's columns is not null. The evaluator answers
        the filter for each set of extensions a row may have."""
        urns = [
            urn
            for urn in self.resource_type.extension_urns
            if any(key[0] == urn.casefold() for key in (*self.singles, *self.computed))
            or any(key[0] == urn.casefold() for key in self.elements)
        ]
        if len(urns) > 4:
            raise not_kept(node.path)
        matches = compile_filter(node, self.model)
        sample = decode(
            {
                "schemas": [self.resource_type.schema],
                "meta": {"resourceType": self.resource_type.name, "version": 'W/"1"'},
            },
            self.model,
        )
        answers = {}
        for listed in itertools.product((False, True), repeat=len(urns)):
            sample.schemas = [
                self.resource_type.schema,
                *(urn for urn, on in zip(urns, listed, strict=True) if on),
            ]
            answers[listed] = matches(sample)
        if len(set(answers.values())) == 1:
            return Const(next(iter(answers.values())))
        has = [self._has_extension(urn, node.path) for urn in urns]
        return any_of(
            all_of(h if on else negate(h) for h, on in zip(has, listed, strict=True))
            for listed, answer in answers.items()
            if answer
        )

    def _has_extension(self, urn: str, path: AttrPath) -> Plan:
        """Whether a row's resource lists the extension ``urn`` (a column of it not null)."""
        key = urn.casefold()
        if any(k[0] == key for k in (*self.computed, *self.elements)):
            raise not_kept(path)  # a getter's or an element's value is not a column's
        return any_of(
            Filled(single.column.name, text=False)
            for k, single in self.singles.items()
            if k[0] == key
        )

    def sort_plan(self, ref: AttributeRef) -> SortPlan:
        """What a resolved ``sortBy`` orders by (the primary element's value first)."""
        from scimcore.errors import InvalidValue

        target = ref.target
        folded = target.type in TEXT_TYPES and not target.case_exact
        text = target.type in TEXT_TYPES
        extension = not ref.common and ref.schema.id.casefold() != self.base
        path = AttrPath(
            ref.schema.id if extension else None,
            ref.chain[0].name,
            ref.chain[1].name if len(ref.chain) > 1 else None,
        )
        try:
            found = self.locate(path)
        except InvalidFilter:
            found = None
        if isinstance(found, Single):
            return SortPlan((found.column.name,), folded, text, found.key)
        if isinstance(found, tuple) and found[1] is not None:
            elements = sorted(found[0], key=lambda e: e.constant("primary") is not True)
            columns = [e.column(found[1]) for e in elements]
            kept = tuple(column.name for column in columns if column is not None)
            if kept:
                return SortPlan(kept, folded, text)
        dotted = ".".join(a.name for a in ref.chain)
        raise InvalidValue(f"sortBy '{dotted}' is not kept by this server, so it cannot be sorted.")

    def served_schema(self, schema: Schema) -> Schema:
        """``schema`` with only the attributes (and sub-attributes) the host keeps: what a
        service publishes at ``/Schemas``, so that clients send nothing it would drop.

        >>> from scimcore.models import User
        >>> users = AttributeMap(User, {"userName": "username", "name.givenName": "first"})
        >>> kept = users.served_schema(User.__scim_schema__)
        >>> [a.name for a in kept.attributes], [s.name for s in kept.attributes[1].sub_attributes]
        (['userName', 'name'], ['givenName'])
        """
        urn = schema.id.casefold()
        kept: list[Attribute] = []
        for attribute in schema.attributes:
            top = attribute.name.casefold()
            subs: set[str] = set()
            fixed: dict[str, set[Any]] = {}
            whole = False
            for key in (*self.singles, *self.computed):
                if key[0] == urn and key[1] == top:
                    whole = whole or key[2] is None
                    if key[2] is not None:
                        subs.add(key[2])
            for element in self.elements.get((urn, top), ()):
                subs.update(element.constants)
                subs.update(element.columns)
                for name, (_, value) in element.constants.items():
                    fixed.setdefault(name, set()).add(value)
            if not whole and not subs:
                continue
            if attribute.is_complex and not whole:
                attribute = attrs.evolve(
                    attribute,
                    sub_attributes=tuple(
                        _only(s, fixed.get(s.name.casefold()))
                        for s in attribute.sub_attributes
                        if s.name.casefold() in subs
                    ),
                )
            kept.append(attribute)
        return attrs.evolve(schema, attributes=tuple(kept))

    # -- rows ------------------------------------------------------------------------------

    def document(self, row: Any, version: str | None) -> dict[str, Any]:
        """The wire document of a host row (``getattr`` of each column), with ``version``."""
        document: dict[str, Any] = {"schemas": [self.resource_type.schema]}
        for single in self.singles.values():
            value = from_host(getattr(row, single.column.name), single.attribute, single.column)
            if value is not None:
                _put(document, single.keys, value)
        for elements in self.elements.values():
            for element in elements:
                if element.multi:
                    self._read_element(row, element, document)
        for keys, computed in self.computed.values():
            value = computed.get(row)
            if value is not None and value != []:
                _put(document, keys, value)
        for urn in self.resource_type.extension_urns:
            if urn in document:
                document["schemas"].append(urn)
        meta = document.setdefault("meta", {})
        meta["resourceType"] = self.resource_type.name
        if version is not None:
            meta["version"] = version
        return document

    def _read_element(self, row: Any, element: Element, document: dict[str, Any]) -> None:
        values: dict[str, Any] = {}
        for name, column in element.columns.values():
            sub = element.attribute.sub_attribute(name)
            assert sub is not None
            value = from_host(getattr(row, column.name), sub, column)
            if value is not None:
                values[name] = value
        if any(value != "" for value in values.values()):
            found = document
            for key in element.keys[:-1]:
                found = found.setdefault(key, {})
            found.setdefault(element.keys[-1], []).append(
                {**dict(element.constants.values()), **values}
            )

    def resource(self, row: Any, version: str | None = None) -> Any:
        """The resource a host row holds."""
        return decode(self.document(row, version), self.model)

    def etag(self, row: Any) -> str:
        """A host row's version as an ETag: its version column, or a :meth:`digest`."""
        if self.version is not None:
            return f'W/"{getattr(row, self.version)}"'
        return f'W/"{self.digest(row)}"'

    def read(self, row: Any) -> Any:
        """The resource a host row holds, with its ETag as ``meta.version``."""
        return self.resource(row, self.etag(row))

    def write(self, row: Any, resource: Any, *, now: Any, new: bool) -> None:
        """Set a host row from ``resource``: the mapped columns and computed setters, the
        version column (1, or one more), ``meta.created`` (``new``) and ``lastModified``."""
        values, setters = self.values(resource)
        for name, value in values.items():
            setattr(row, name, value)
        for computed, value in setters:
            assert computed.set is not None
            computed.set(row, value)
        if self.version is not None:
            setattr(row, self.version, 1 if new else getattr(row, self.version) + 1)
        created, modified = self.created_column(), self.last_modified_column()
        if new and created is not None:
            setattr(row, created, now)
        if modified is not None:
            setattr(row, modified, now)

    def values(self, resource: Any) -> tuple[dict[str, Any], list[tuple[Computed, Any]]]:
        """The host values of a resource: column → value for every writable column but
        the key, and the computed setters with their values."""
        document = encode(resource, full=True)
        found: dict[str, Any] = {}
        for single in self.singles.values():
            if single.key or single.column.read_only or single.keys[0] == "meta":
                continue
            value = _dig(document, single.keys)
            found[single.column.name] = to_host(value, single.attribute, single.column)
        for elements in self.elements.values():
            for element in elements:
                if not element.multi:
                    continue
                listed = _dig(document, element.keys) or []
                # One place per element: of several that match, the last (the newest) is kept.
                match: Mapping[str, Any] = next(
                    (v for v in reversed(listed) if element.matches(v)), {}
                )
                for name, column in element.columns.values():
                    if column.read_only:
                        continue
                    sub = element.attribute.sub_attribute(name)
                    assert sub is not None
                    found[column.name] = to_host(match.get(name), sub, column)
        setters = [
            (computed, _dig(document, keys))
            for keys, computed in self.computed.values()
            if computed.set is not None
        ]
        return found, setters

    def digest(self, row: Any) -> str:
        """A version for a host without a version column: a digest of its mapped values."""
        document = self.document(row, None)
        document.pop("meta", None)
        return hashlib.sha256(compact(document).encode()).hexdigest()[:16]

    def read_columns(self) -> tuple[str, ...]:
        """The host columns :meth:`read` reads (with ``getattr``), the key first; computed
        getters may read more (:attr:`computed` says whether there are any).

        >>> from scimcore.models import User
        >>> AttributeMap(User, {"userName": "username"}, version="version").read_columns()
        ('id', 'username', 'version')
        """
        names = [single.column.name for single in self.singles.values()]
        for elements in self.elements.values():
            names.extend(
                column.name
                for element in elements
                if element.multi
                for _, column in element.columns.values()
            )
        if self.version is not None:
            names.append(self.version)
        return (self.id.name, *dict.fromkeys(name for name in names if name != self.id.name))

    def created_column(self) -> str | None:
        """The column of ``meta.created``, if kept."""
        single = self.singles.get((self.base, "meta", "created"))
        return None if single is None else single.column.name

    def last_modified_column(self) -> str | None:
        """The column of ``meta.lastModified``, if kept."""
        single = self.singles.get((self.base, "meta", "lastmodified"))
        return None if single is None else single.column.name


def _container(resource: Any, ref: AttributeRef, base: str) -> Any:
    if ref.common or ref.schema.id.casefold() == base:
        return resource
    return resource.extensions.get(ref.schema.id)


def _only(attribute: Attribute, values: set[Any] | None) -> Attribute:
    """A sub-attribute whose values are the elements' constants: those are its canonical values."""
    if not values or not all(isinstance(value, str) for value in values):
        return attribute
    return attrs.evolve(attribute, canonical_values=tuple(sorted(values)))
