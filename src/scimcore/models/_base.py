"""The base classes of every typed model, and the metadata they carry.

Theory of operation: a model is a plain attrs class (``@attrs.define``, slots,
keyword-only, equality by value) whose fields are named after the schema's
attributes (:func:`scimcore.schema.python_name`). The schema model stays the
single source of every characteristic: a model class only points at it through
class attributes, and the codec reads them when it generates its hooks.

- ``__scim_schema__``: the :class:`~scimcore.schema.Schema` the class belongs to
  (a resource: its base schema; an extension: the extension schema; a complex
  type: the schema of the attribute it models).
- ``__scim_attribute__``: for a complex type, the :class:`~scimcore.schema.Attribute`.
- ``__scim_resource_type__``: for a resource, its :class:`~scimcore.schema.ResourceType`.
- ``__scim_extensions__``: for a resource, the extension model of each URN the
  resource type declares.

Invariants:

1. A singular attribute is ``None`` when unassigned; a multi-valued attribute
   is a ``list``, ``[]`` when unassigned, never ``None``.
2. Extensions live in ``resource.extensions`` keyed by the URN exactly as the
   resource type declares it; ``resource[Extension]`` reads one and
   ``resource[Extension] = value`` writes one (and lists its URN in ``schemas``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import attrs

from scimcore.schema import (
    COMMON_ATTRIBUTES,
    Attribute,
    AttributeType,
    ResourceType,
    Schema,
    SchemaRegistry,
)

__all__ = [
    "COMMON_SCHEMA",
    "Complex",
    "Extension",
    "Meta",
    "Resource",
    "as_list",
    "check_model",
]

T = TypeVar("T")
E = TypeVar("E", bound="Extension")

#: The common attributes of RFC 7643 §3.1 as a schema without a URN; the
#: ``__scim_schema__`` of :class:`Meta`.
COMMON_SCHEMA = Schema(id="", name="Common", attributes=COMMON_ATTRIBUTES)


def as_list(value: Iterable[Any] | None) -> list[Any]:
    """The converter of multi-valued fields: ``None`` becomes ``[]``, an iterable a list.

    >>> as_list(None), as_list(("a", "b"))
    ([], ['a', 'b'])
    """
    if type(value) is list:
        return value
    return [] if value is None else list(value)


class ScimModel:
    """What every model class has: the schema it is bound to.

    >>> from scimcore.models import Email, User
    >>> issubclass(User, ScimModel), issubclass(Email, ScimModel)
    (True, True)
    """

    __slots__ = ()
    __scim_schema__: ClassVar[Schema]


@attrs.define(kw_only=True)
class Complex(ScimModel):
    """The base of complex-attribute models (``Name``, ``Email``, ``Manager``…).

    >>> from scimcore.models import Email
    >>> Email.__scim_attribute__.name, Email.__scim_attribute__.multi_valued
    ('emails', True)
    """

    __scim_attribute__: ClassVar[Attribute]


@attrs.define(kw_only=True)
class Extension(ScimModel):
    """The base of extension-schema models (``EnterpriseUser``).

    >>> from scimcore.models import EnterpriseUser
    >>> EnterpriseUser.__scim_schema__.id
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'
    """


@attrs.define(kw_only=True)
class Meta(Complex):
    """Resource metadata (RFC 7643 §3.1); read-only, set by the service provider.

    >>> from datetime import datetime, timezone
    >>> Meta(resource_type="User", created=datetime(2010, 1, 23, tzinfo=timezone.utc)).version
    """

    __scim_schema__ = COMMON_SCHEMA
    __scim_attribute__ = COMMON_SCHEMA.attribute("meta")  # type: ignore[assignment]

    resource_type: str | None = None
    created: datetime | None = None
    last_modified: datetime | None = None
    location: str | None = None
    version: str | None = None


def _default_schemas(self: Resource) -> list[str]:
    return [type(self).__scim_schema__.id]


_REGISTRIES: dict[type, SchemaRegistry] = {}


@attrs.define(kw_only=True)
class Resource(ScimModel):
    """The base of resource models: the common attributes and the extensions.

    ``schemas`` defaults to the base schema's URN; ``extensions`` maps an
    extension URN to its model instance.

    >>> from scimcore.models import Group
    >>> group = Group(id="e9e30dba", display_name="Tour Guides")
    >>> group.schemas, group.extensions, group.meta
    (['urn:ietf:params:scim:schemas:core:2.0:Group'], {}, None)
    """

    __scim_resource_type__: ClassVar[ResourceType]
    __scim_extensions__: ClassVar[Mapping[str, type[Extension]]] = {}

    schemas: list[str] = attrs.field(
        default=attrs.Factory(_default_schemas, takes_self=True), converter=as_list
    )
    id: str | None = None
    external_id: str | None = None
    meta: Meta | None = None
    extensions: dict[str, object] = attrs.field(factory=dict)

    @classmethod
    def _urn_of(cls, extension: type[Extension]) -> str:
        urn = extension.__scim_schema__.id
        for declared in cls.__scim_extensions__:
            if declared.casefold() == urn.casefold():
                return declared
        raise KeyError(f"{cls.__name__} has no extension {urn!r}")

    def __getitem__(self, extension: type[E]) -> E | None:
        return self.extensions.get(self._urn_of(extension))  # type: ignore[return-value]

    def __setitem__(self, extension: type[E], value: E | None) -> None:
        urn = self._urn_of(extension)
        if value is None:
            self.__delitem__(extension)
            return
        self.extensions[urn] = value
        if urn not in self.schemas:
            self.schemas.append(urn)

    def __delitem__(self, extension: type[Extension]) -> None:
        urn = self._urn_of(extension)
        self.extensions.pop(urn, None)
        if urn in self.schemas:
            self.schemas.remove(urn)

    @classmethod
    def scim_registry(cls) -> SchemaRegistry:
        """A registry that resolves this model's attribute paths (base, extensions, common).

        Made once per class.

        >>> from scimcore.models import User
        >>> User.scim_registry().resolve("meta.created", resource_type="User").common
        True
        """
        registry = _REGISTRIES.get(cls)
        if registry is None:
            schemas = [cls.__scim_schema__]
            schemas += [ext.__scim_schema__ for ext in cls.__scim_extensions__.values()]
            registry = SchemaRegistry(
                schemas, [cls.__scim_resource_type__], common=COMMON_ATTRIBUTES
            )
            _REGISTRIES[cls] = registry
        return registry


_PY_TYPES: dict[AttributeType, tuple[type, ...]] = {
    AttributeType.STRING: (str,),
    AttributeType.REFERENCE: (str,),
    AttributeType.BINARY: (str,),
    AttributeType.BOOLEAN: (bool,),
    AttributeType.INTEGER: (int,),
    AttributeType.DECIMAL: (float,),
    AttributeType.DATETIME: (datetime,),
}


def _inner(hint: Any) -> tuple[Any, bool]:
    """(the value type, multi-valued?) of a field annotation."""
    multi = False
    if typing.get_origin(hint) is list:
        (hint,) = typing.get_args(hint)
        multi = True
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        hint = args[0] if len(args) == 1 else Any
    return hint, multi


def complex_children(cls: type) -> dict[str, type | str]:
    """What each complex field of ``cls`` holds, by Python field name.

    A :class:`Complex` model class; ``"json"`` for a field typed ``Any`` (raw
    JSON, such as a PATCH ``value``); ``"resource"`` for a field typed by a
    type variable (the items of a ``ListResponse[R]``).
    """
    explicit = cls.__dict__.get("__scim_children__")
    if explicit is not None:
        return dict(explicit)
    hints = typing.get_type_hints(cls)
    children: dict[str, type | str] = {}
    for field in attrs.fields(cls):
        inner, _ = _inner(hints.get(field.name, Any))
        if isinstance(inner, type) and issubclass(inner, Complex):
            children[field.name] = inner
        elif inner is Any:
            children[field.name] = "json"
        elif isinstance(inner, TypeVar):
            children[field.name] = "resource"
    return children


def model_attributes(cls: type) -> tuple[Attribute, ...]:
    """The attributes a model class's fields stand for, in schema order.

    A resource has the common attributes first, then its base schema's
    (an attribute of the base schema wins over a common one of the same name,
    as ``id`` in the ResourceType schema).
    """
    if issubclass(cls, Complex):
        subs: tuple[Attribute, ...] = cls.__scim_attribute__.sub_attributes
        return subs
    own: tuple[Attribute, ...] = cls.__scim_schema__.attributes  # type: ignore[attr-defined]
    if issubclass(cls, Resource):
        names = {a.name.casefold() for a in own}
        common = tuple(a for a in COMMON_ATTRIBUTES if a.name.casefold() not in names)
        return common + own
    return own


def check_model(cls: type[T]) -> type[T]:
    """Check that a model class has one field per attribute of its schema; returns it.

    Raises ``TypeError`` naming the first mismatch. Used on every built-in
    model when it is defined.

    >>> from scimcore.models import User
    >>> check_model(User) is User
    True
    """
    fields = {f.name for f in attrs.fields(cls) if f.name != "extensions"}  # type: ignore[arg-type]
    names = {a.python_name for a in model_attributes(cls)}
    if fields != names:
        raise TypeError(
            f"{cls.__name__}: fields {sorted(fields - names)} have no attribute, "
            f"attributes {sorted(names - fields)} have no field"
        )
    hints = typing.get_type_hints(cls)
    children = complex_children(cls)
    for attribute in model_attributes(cls):
        inner, multi = _inner(hints[attribute.python_name])
        if multi != attribute.multi_valued:
            raise TypeError(f"{cls.__name__}.{attribute.python_name}: multiValued mismatch")
        if attribute.is_complex and attribute.python_name not in children:
            raise TypeError(f"{cls.__name__}.{attribute.python_name}: not a Complex model")
        expected = _PY_TYPES.get(attribute.type)
        if expected and inner not in expected:
            raise TypeError(f"{cls.__name__}.{attribute.python_name}: {inner} is not {expected}")
    return cls
