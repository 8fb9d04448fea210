"""Custom schemas, both ways.

- :func:`make_model`: a typed model made at run time from a
  :class:`~scimcore.schema.Schema`, for servers that load their schemas from
  JSON. Complex attributes get their own classes.
- :func:`scim_resource`, :func:`scim_extension` and :func:`scim_attribute`:
  a :class:`~scimcore.schema.Schema` derived from an attrs class whose fields
  carry SCIM metadata, for hosts that write their resources in Python.
  :func:`schema_from_class` does the derivation alone.

Both produce ordinary model classes: the codec, the filter evaluator and the
PATCH engine treat them exactly like :class:`~scimcore.models.User`.
"""

from __future__ import annotations

import keyword
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import attrs

from scimcore.models._base import (
    COMMON_SCHEMA,
    Complex,
    Extension,
    Resource,
    _inner,
    as_list,
    check_model,
)
from scimcore.schema import (
    Attribute,
    AttributeType,
    MutabilityKind,
    ResourceType,
    ReturnedKind,
    Schema,
    SchemaExtension,
    SchemaRegistry,
    UniquenessKind,
    python_name,
)

__all__ = [
    "make_model",
    "schema_from_class",
    "scim_attribute",
    "scim_extension",
    "scim_resource",
]

C = TypeVar("C", bound=type)

_PY_TYPE: dict[AttributeType, type] = {
    AttributeType.STRING: str,
    AttributeType.REFERENCE: str,
    AttributeType.BINARY: str,
    AttributeType.BOOLEAN: bool,
    AttributeType.INTEGER: int,
    AttributeType.DECIMAL: float,
    AttributeType.DATETIME: datetime,
}
_RESERVED = {"schemas", "id", "external_id", "meta", "extensions"}


def _class_name(name: str) -> str:
    parts = re.split(r"[^0-9A-Za-z]+", name)
    text = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return text if text and text[0].isalpha() else f"Model{text}"


def _check_name(attribute: Attribute, owner: str) -> str:
    name = attribute.python_name
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{owner}: attribute {attribute.name!r} has no Python name ({name!r})")
    return name


def _fields(
    attributes: Iterable[Attribute], owner: str, schema: Schema, skip: set[str]
) -> tuple[dict[str, Any], dict[str, type]]:
    fields: dict[str, Any] = {}
    children: dict[str, type] = {}
    seen: set[str] = set()
    folded: set[str] = set()
    for attribute in attributes:
        name = _check_name(attribute, owner)
        if name in skip:
            continue
        if name in seen:
            raise ValueError(f"{owner}: two attributes are named {name!r} in Python")
        if attribute.name.casefold() in folded:
            raise ValueError(f"{owner}: two attributes are named {attribute.name!r} in any case")
        seen.add(name)
        folded.add(attribute.name.casefold())
        if attribute.is_complex:
            child = _complex_class(attribute, owner, schema)
            children[name] = child
            value_type: Any = child
        else:
            value_type = _PY_TYPE[attribute.type]
        metadata = {_METADATA_KEY: _metadata(attribute)}
        if attribute.multi_valued:
            fields[name] = attrs.field(
                factory=list, converter=as_list, type=list[value_type], metadata=metadata
            )
        else:
            fields[name] = attrs.field(default=None, type=value_type | None, metadata=metadata)
    return fields, children


def _metadata(attribute: Attribute) -> dict[str, Any]:
    """The :func:`scim_attribute` metadata that describes ``attribute`` exactly."""
    return {
        "name": attribute.name,
        "type": attribute.type,
        "required": attribute.required,
        "case_exact": attribute.case_exact,
        "mutability": attribute.mutability,
        "returned": attribute.returned,
        "uniqueness": attribute.uniqueness,
        "canonical_values": attribute.canonical_values,
        "reference_types": attribute.reference_types,
        "description": attribute.description,
    }


def _complex_class(attribute: Attribute, owner: str, schema: Schema) -> type[Complex]:
    name = owner + _class_name(attribute.name)
    fields, children = _fields(attribute.sub_attributes, name, schema, set())
    cls: Any = attrs.make_class(name, fields, bases=(Complex,), kw_only=True)
    cls.__scim_schema__ = schema
    cls.__scim_attribute__ = attribute
    cls.__scim_children__ = children
    return check_model(cls)


def make_model(
    schema: Schema,
    *,
    resource_type: ResourceType | None = None,
    extensions: Iterable[type[Extension]] = (),
    registry: SchemaRegistry | None = None,
    name: str | None = None,
) -> type[Any]:
    """A model class for ``schema``: a resource model when ``resource_type`` is given,
    else an extension model.

    A resource model needs the model of each extension its resource type
    declares: pass them as ``extensions``, or pass a ``registry`` holding the
    extension schemas and they are made too.

    >>> from scimcore.schema import Attribute, ResourceType, Schema
    >>> device = Schema("urn:example:schemas:Device", "Device", attributes=[
    ...                 Attribute("serialNumber", required=True, case_exact=True),
    ...                 Attribute("ports", "integer", multi_valued=True)])
    >>> Device = make_model(device, resource_type=ResourceType(
    ...     name="Device", endpoint="/Devices", schema=device.id))
    >>> Device(serial_number="X1", ports=[80, 443]).ports
    [80, 443]
    """
    class_name = name or _class_name(schema.name or schema.id.rsplit(":", 1)[-1])
    if resource_type is None:
        fields, children = _fields(schema.attributes, class_name, schema, set())
        extension: Any = attrs.make_class(class_name, fields, bases=(Extension,), kw_only=True)
        extension.__scim_schema__ = schema
        extension.__scim_children__ = children
        return check_model(extension)
    given = {ext.__scim_schema__.id.casefold(): ext for ext in extensions}
    models: dict[str, type[Extension]] = {}
    for urn in resource_type.extension_urns:
        model = given.get(urn.casefold())
        if model is None and registry is not None:
            ext_schema = registry.schema(urn)
            if ext_schema is not None:
                model = make_model(ext_schema, name=class_name + _class_name(urn.split(":")[-2]))
        if model is None:
            raise ValueError(f"{class_name}: no model for the extension {urn!r}")
        models[urn] = model
    common = {python_name(a.name) for a in COMMON_SCHEMA.attributes}
    own = {a.python_name for a in schema.attributes}
    for attribute in schema.attributes:
        shadowed = COMMON_SCHEMA.attribute(attribute.name)
        if shadowed is not None and attribute.python_name != python_name(shadowed.name):
            raise ValueError(f"{class_name}: {attribute.name!r} clashes with {shadowed.name!r}")
    if "extensions" in own:
        raise ValueError(f"{class_name}: an attribute may not be called 'extensions'")
    fields, children = _fields(schema.attributes, class_name, schema, common & own)
    cls: Any = attrs.make_class(class_name, fields, bases=(Resource,), kw_only=True)
    cls.__scim_schema__ = schema
    cls.__scim_resource_type__ = resource_type
    cls.__scim_extensions__ = models
    children.update(_base_children())
    cls.__scim_children__ = children
    return check_model(cls)


def _base_children() -> dict[str, type]:
    from scimcore.models._base import Meta

    return {"meta": Meta}


# ----------------------------------------------------------------------------- from classes

_METADATA_KEY = "scim"


def scim_attribute(
    *,
    name: str | None = None,
    type: AttributeType | str | None = None,
    required: bool = False,
    case_exact: bool = False,
    mutability: MutabilityKind | str = MutabilityKind.READ_WRITE,
    returned: ReturnedKind | str = ReturnedKind.DEFAULT,
    uniqueness: UniquenessKind | str = UniquenessKind.NONE,
    canonical_values: Iterable[str] = (),
    reference_types: Iterable[str] = (),
    description: str | None = None,
) -> Any:
    """An attrs field carrying SCIM characteristics, for :func:`scim_resource` classes.

    The type and multiValued come from the annotation (``str``, ``bool``,
    ``int``, ``float``, ``datetime``, a :class:`Complex` class, ``list[...]``);
    ``type`` overrides it for ``reference`` and ``binary``. A singular field
    defaults to ``None``, a multi-valued one to ``[]``. ``name`` is the wire
    name; by default the camelCase of the field name.

    >>> field = scim_attribute(required=True, uniqueness="server")
    >>> field.metadata["scim"]["uniqueness"]
    'server'
    """
    metadata = {
        "name": name,
        "type": type,
        "required": required,
        "case_exact": case_exact,
        "mutability": mutability,
        "returned": returned,
        "uniqueness": uniqueness,
        "canonical_values": tuple(canonical_values),
        "reference_types": tuple(reference_types),
        "description": description,
    }
    return attrs.field(default=None, metadata={_METADATA_KEY: metadata})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_FROM_PY: dict[Any, AttributeType] = {
    str: AttributeType.STRING,
    bool: AttributeType.BOOLEAN,
    int: AttributeType.INTEGER,
    float: AttributeType.DECIMAL,
    datetime: AttributeType.DATETIME,
}


def _attributes_of(cls: type, skip: set[str]) -> list[Attribute]:
    hints = typing.get_type_hints(cls)
    out: list[Attribute] = []
    for field in attrs.fields(cls):
        if field.name in skip:
            continue
        meta: dict[str, Any] = dict(field.metadata.get(_METADATA_KEY, {}))
        inner, multi = _inner(hints[field.name])
        wire = meta.pop("name", None) or _camel(field.name)
        if python_name(wire) != field.name:
            raise ValueError(f"{cls.__name__}.{field.name}: wire name {wire!r} does not map back")
        declared = meta.pop("type", None)
        subs: list[Attribute] = []
        if isinstance(inner, type) and issubclass(inner, Complex):
            kind = AttributeType.COMPLEX
            subs = _attributes_of(inner, set())
        elif declared is not None:
            kind = AttributeType(declared)
        elif inner in _FROM_PY:
            kind = _FROM_PY[inner]
        else:
            raise TypeError(f"{cls.__name__}.{field.name}: no SCIM type for {inner!r}")
        attribute = Attribute(
            wire,
            kind,
            multi_valued=multi,
            sub_attributes=subs,
            **{k: v for k, v in meta.items() if v is not None},
        )
        out.append(attribute)
    return out


def schema_from_class(
    cls: type, id: str, *, name: str | None = None, description: str | None = None
) -> Schema:
    """The schema an attrs class describes (its fields, their annotations and metadata).

    The common attributes of a :class:`Resource` are not part of the schema.
    Nothing is changed on the classes.

    >>> from scimcore.models import make_model
    >>> from scimcore.schema import Attribute, Schema
    >>> schema = Schema("urn:example:Ext", "Ext", attributes=[Attribute("code", "binary")])
    >>> schema_from_class(make_model(schema), schema.id, name="Ext") == schema
    True
    """
    skip = {f.name for f in attrs.fields(Resource)} if issubclass(cls, Resource) else set()
    attributes = _attributes_of(cls, skip)
    return Schema(id=id, name=name or cls.__name__, description=description, attributes=attributes)


def _bind_complex(cls: type, schema: Schema, attributes: Iterable[Attribute]) -> None:
    """Point each complex field class of ``cls`` at its attribute, deepest first."""
    hints = typing.get_type_hints(cls)
    by_name = {a.python_name: a for a in attributes}
    for field in attrs.fields(cls):
        attribute = by_name.get(field.name)
        inner, _ = _inner(hints.get(field.name, Any))
        if attribute is None or not (isinstance(inner, type) and issubclass(inner, Complex)):
            continue
        bound = inner.__dict__.get("__scim_attribute__")
        if bound is not None and bound != attribute:
            raise TypeError(f"{inner.__name__} already models {bound.name!r}")
        inner.__scim_schema__ = schema
        inner.__scim_attribute__ = attribute
        _bind_complex(inner, schema, attribute.sub_attributes)
        check_model(inner)


def scim_resource(
    id: str,
    *,
    name: str,
    endpoint: str,
    description: str | None = None,
    extensions: Mapping[str, type[Extension]] | Iterable[type[Extension]] = (),
    required_extensions: Iterable[str] = (),
) -> Callable[[C], C]:
    """Make an attrs :class:`Resource` subclass a SCIM resource model: derive its
    schema and resource type from its fields.

    >>> @scim_resource("urn:example:schemas:Device", name="Device", endpoint="/Devices")
    ... @attrs.define(kw_only=True)
    ... class Device(Resource):
    ...     serial_number: str | None = scim_attribute(required=True, case_exact=True)
    ...     ports: list[int] = attrs.field(factory=list)
    >>> [a.name for a in Device.__scim_schema__.attributes]
    ['serialNumber', 'ports']
    >>> Device.__scim_resource_type__.endpoint
    '/Devices'
    """
    if isinstance(extensions, Mapping):
        ext_models = dict(extensions)
    else:
        ext_models = {ext.__scim_schema__.id: ext for ext in extensions}
    required = {urn.casefold() for urn in required_extensions}

    def decorate(cls: C) -> C:
        if not (attrs.has(cls) and issubclass(cls, Resource)):
            raise TypeError("scim_resource() decorates an attrs subclass of Resource")
        schema = schema_from_class(cls, id, name=name, description=description)
        cls.__scim_schema__ = schema
        cls.__scim_resource_type__ = ResourceType(
            id=name,
            name=name,
            endpoint=endpoint,
            description=description,
            schema=id,
            schema_extensions=[
                SchemaExtension(urn, required=urn.casefold() in required) for urn in ext_models
            ],
        )
        cls.__scim_extensions__ = ext_models
        _bind_complex(cls, schema, schema.attributes)
        check_model(cls)
        return cls

    return decorate


def scim_extension(
    id: str, *, name: str | None = None, description: str | None = None
) -> Callable[[C], C]:
    """Make an attrs :class:`Extension` subclass an extension model, deriving its schema.

    >>> @scim_extension("urn:example:schemas:extension:Badge:2.0:User")
    ... @attrs.define(kw_only=True)
    ... class Badge(Extension):
    ...     badge_number: str | None = scim_attribute(case_exact=True)
    >>> Badge.__scim_schema__.attributes[0].case_exact
    True
    """

    def decorate(cls: C) -> C:
        if not (attrs.has(cls) and issubclass(cls, Extension)):
            raise TypeError("scim_extension() decorates an attrs subclass of Extension")
        schema = schema_from_class(cls, id, name=name, description=description)
        cls.__scim_schema__ = schema
        _bind_complex(cls, schema, schema.attributes)
        check_model(cls)
        return cls

    return decorate
