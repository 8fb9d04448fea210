"""The schema model: attribute characteristics, schemas, resource types.

Theory of operation: RFC 7643 describes every attribute with a fixed set of
characteristics (§2.2, §7). :class:`Attribute` holds them with the RFC's
defaults, :class:`Schema` groups attributes under a URN, and
:class:`ResourceType` binds a base schema and its extensions to an endpoint.
Everything else in scimcore (codecs, filters, PATCH, projection, SQL) reads
these values; no other module restates a characteristic by hand.

Names are matched case-insensitively (RFC 7643 §2.1); each model precomputes
a folded index so lookups are one dict access.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from enum import StrEnum
from typing import Any

import attrs

from scimcore.errors import InvalidValue

__all__ = [
    "TEXT_TYPES",
    "Attribute",
    "AttributeType",
    "MutabilityKind",
    "ReturnedKind",
    "Schema",
    "UniquenessKind",
    "python_name",
]


class AttributeType(StrEnum):
    """The data types of RFC 7643 §2.3."""

    STRING = "string"
    BOOLEAN = "boolean"
    DECIMAL = "decimal"
    INTEGER = "integer"
    DATETIME = "dateTime"
    BINARY = "binary"
    REFERENCE = "reference"
    COMPLEX = "complex"


#: The types whose values are JSON strings compared as text (binary as its base64 text).
TEXT_TYPES = frozenset({AttributeType.STRING, AttributeType.REFERENCE, AttributeType.BINARY})


class MutabilityKind(StrEnum):
    """The ``mutability`` characteristic (RFC 7643 §7)."""

    READ_ONLY = "readOnly"
    READ_WRITE = "readWrite"
    IMMUTABLE = "immutable"
    WRITE_ONLY = "writeOnly"


class ReturnedKind(StrEnum):
    """The ``returned`` characteristic (RFC 7643 §7)."""

    ALWAYS = "always"
    NEVER = "never"
    DEFAULT = "default"
    REQUEST = "request"


class UniquenessKind(StrEnum):
    """The ``uniqueness`` characteristic (RFC 7643 §7)."""

    NONE = "none"
    SERVER = "server"
    GLOBAL = "global"


_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def python_name(wire_name: str) -> str:
    """The Python identifier for a SCIM attribute name.

    camelCase becomes snake_case; ``$ref`` becomes ``ref``; ``-`` becomes ``_``.

    >>> python_name("userName"), python_name("$ref"), python_name("x509Certificates")
    ('user_name', 'ref', 'x509_certificates')
    >>> python_name("externalId"), python_name("honorificPrefix")
    ('external_id', 'honorific_prefix')
    """
    name = wire_name.lstrip("$").replace("-", "_")
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def _index(attributes: Iterable[Attribute]) -> dict[str, Attribute]:
    return {a.name.casefold(): a for a in attributes}


def _tuple_of_str(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _tuple_of_attributes(value: Iterable[Attribute]) -> tuple[Attribute, ...]:
    return tuple(value)


@attrs.frozen(slots=True)
class Attribute:
    """One attribute definition with every characteristic of RFC 7643 §2.2 and §7.

    Defaults are the RFC's: a singular, optional, case-insensitive, readWrite
    string, returned by default, with no uniqueness.

    >>> emails = Attribute("emails", AttributeType.COMPLEX, multi_valued=True,
    ...                    sub_attributes=[Attribute("value"), Attribute("primary", "boolean")])
    >>> emails.sub_attribute("VALUE").name
    'value'
    >>> emails.sub_attribute("nope") is None
    True
    """

    name: str
    type: AttributeType = attrs.field(default=AttributeType.STRING, converter=AttributeType)
    multi_valued: bool = False
    description: str | None = None
    required: bool = False
    canonical_values: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    case_exact: bool = False
    mutability: MutabilityKind = attrs.field(
        default=MutabilityKind.READ_WRITE, converter=MutabilityKind
    )
    returned: ReturnedKind = attrs.field(default=ReturnedKind.DEFAULT, converter=ReturnedKind)
    uniqueness: UniquenessKind = attrs.field(default=UniquenessKind.NONE, converter=UniquenessKind)
    reference_types: tuple[str, ...] = attrs.field(default=(), converter=_tuple_of_str)
    sub_attributes: tuple[Attribute, ...] = attrs.field(default=(), converter=_tuple_of_attributes)
    _by_name: dict[str, Attribute] = attrs.field(
        init=False, repr=False, eq=False, hash=False, alias="_by_name"
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_name", _index(self.sub_attributes))

    @property
    def python_name(self) -> str:
        """This attribute's Python identifier (see :func:`python_name`)."""
        return python_name(self.name)

    @property
    def is_complex(self) -> bool:
        """Whether the attribute is of type ``complex``."""
        return self.type is AttributeType.COMPLEX

    def sub_attribute(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name`` (any case), or ``None``."""
        return self._by_name.get(name.casefold())

    def to_dict(self) -> dict[str, Any]:
        """The attribute as RFC 7643 §7 represents it, every characteristic explicit."""
        data: dict[str, Any] = {"name": self.name, "type": self.type.value}
        if self.sub_attributes:
            data["subAttributes"] = [sub.to_dict() for sub in self.sub_attributes]
        data["multiValued"] = self.multi_valued
        if self.description is not None:
            data["description"] = self.description
        data["required"] = self.required
        if self.canonical_values:
            data["canonicalValues"] = list(self.canonical_values)
        data["caseExact"] = self.case_exact
        data["mutability"] = self.mutability.value
        data["returned"] = self.returned.value
        data["uniqueness"] = self.uniqueness.value
        if self.reference_types:
            data["referenceTypes"] = list(self.reference_types)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, location: str = "$") -> Attribute:
        """Read an attribute definition; omitted characteristics take the RFC's defaults.

        >>> Attribute.from_dict({"name": "active", "type": "boolean"}).mutability
        <MutabilityKind.READ_WRITE: 'readWrite'>
        """
        if not isinstance(data, Mapping):
            raise InvalidValue("An attribute definition must be an object.", location=location)
        keys = {key.casefold(): key for key in data}

        def get(name: str, default: Any) -> Any:
            key = keys.get(name.casefold())
            return default if key is None else data[key]

        name = get("name", None)
        if not isinstance(name, str) or not name:
            raise InvalidValue("An attribute definition needs a 'name'.", location=location)
        subs = get("subAttributes", None) or ()
        try:
            return cls(
                name=name,
                type=get("type", AttributeType.STRING),
                multi_valued=bool(get("multiValued", False)),
                description=get("description", None),
                required=bool(get("required", False)),
                canonical_values=get("canonicalValues", None) or (),
                case_exact=bool(get("caseExact", False)),
                mutability=get("mutability", MutabilityKind.READ_WRITE),
                returned=get("returned", ReturnedKind.DEFAULT),
                uniqueness=get("uniqueness", UniquenessKind.NONE),
                reference_types=get("referenceTypes", None) or (),
                sub_attributes=[
                    cls.from_dict(sub, location=f"{location}.subAttributes[{i}]")
                    for i, sub in enumerate(subs)
                ],
            )
        except ValueError as exc:
            raise InvalidValue(f"Attribute '{name}': {exc}.", location=location) from None


@attrs.frozen(slots=True)
class Schema:
    """A schema: a URN and the attributes it defines (RFC 7643 §7).

    >>> from scimcore.schema import core_schemas
    >>> user = core_schemas().schema("urn:ietf:params:scim:schemas:core:2.0:User")
    >>> user.attribute("USERNAME").name
    'userName'
    >>> [a.name for a in user.resolve("name.givenName")]
    ['name', 'givenName']
    """

    id: str
    name: str | None = None
    description: str | None = None
    attributes: tuple[Attribute, ...] = attrs.field(default=(), converter=_tuple_of_attributes)
    meta: Mapping[str, Any] | None = attrs.field(default=None, hash=False)
    _by_name: dict[str, Attribute] = attrs.field(
        init=False, repr=False, eq=False, hash=False, alias="_by_name"
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_name", _index(self.attributes))

    def __iter__(self) -> Iterator[Attribute]:
        return iter(self.attributes)

    def attribute(self, name: str) -> Attribute | None:
        """The top-level attribute called ``name`` (any case), or ``None``."""
        return self._by_name.get(name.casefold())

    def resolve(self, dotted: str) -> tuple[Attribute, ...] | None:
        """The chain of attributes a dotted path names (``name.givenName``), or ``None``.

        >>> from scimcore.schema import core_schemas
        >>> group = core_schemas().schema("urn:ietf:params:scim:schemas:core:2.0:Group")
        >>> group.resolve("members.nope") is None
        True
        """
        names = dotted.split(".")
        chain: list[Attribute] = []
        found = self.attribute(names[0])
        for name in names[1:]:
            if found is None:
                return None
            chain.append(found)
            found = found.sub_attribute(name)
        if found is None:
            return None
        chain.append(found)
        return tuple(chain)

    def to_dict(self) -> dict[str, Any]:
        """The schema as RFC 7643 §7 and §8.7 represent it."""
        data: dict[str, Any] = {"id": self.id}
        if self.name is not None:
            data["name"] = self.name
        if self.description is not None:
            data["description"] = self.description
        data["attributes"] = [a.to_dict() for a in self.attributes]
        if self.meta is not None:
            data["meta"] = dict(self.meta)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Read a schema representation, such as one of RFC 7643 §8.7."""
        if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
            raise InvalidValue("A schema must be an object with a string 'id'.", location="$")
        attributes = data.get("attributes") or ()
        return cls(
            id=data["id"],
            name=data.get("name"),
            description=data.get("description"),
            attributes=[
                Attribute.from_dict(a, location=f"$.attributes[{i}]")
                for i, a in enumerate(attributes)
            ],
            meta=data.get("meta"),
        )
