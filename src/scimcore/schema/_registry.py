"""Finding attributes by name, dotted path or URN-qualified path.

A :class:`SchemaRegistry` holds schemas and resource types. Its
:meth:`~SchemaRegistry.resolve` turns an attribute path as clients write it
into an :class:`AttributeRef`; every lookup is case-insensitive (RFC 7643 §2.1,
RFC 7644 §3.10). A URN-qualified path splits the attribute from the URN at the
last colon (``urn:…:enterprise:2.0:User:manager.value``). An unknown name
resolves to ``None``: the caller decides whether that is an ``invalidFilter``,
an ``invalidPath`` or nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from scimcore.schema._discovery import ResourceType
from scimcore.schema._model import Attribute, Schema

__all__ = ["AttributeRef", "SchemaRegistry"]


@attrs.frozen
class AttributeRef:
    """A resolved attribute path: the schema it lives in and the chain of attributes.

    ``chain[0]`` is the top-level attribute; ``chain[-1]`` (``target``) is what
    the path names, for example ``name`` then ``givenName``.
    """

    schema: Schema
    chain: tuple[Attribute, ...]
    common: bool = False

    @property
    def attribute(self) -> Attribute:
        """The top-level attribute."""
        return self.chain[0]

    @property
    def target(self) -> Attribute:
        """The attribute the path ends at."""
        return self.chain[-1]

    @property
    def urn(self) -> str:
        """The URN of the schema the attribute belongs to."""
        return self.schema.id

    @property
    def dotted(self) -> str:
        """The path in the schema's own casing, without URN (``name.givenName``)."""
        return ".".join(a.name for a in self.chain)

    def __str__(self) -> str:
        return f"{self.schema.id}:{self.dotted}"


class SchemaRegistry:
    """Schemas and resource types, looked up by URN, name or attribute path.

    ``common`` are the attributes every resource has (RFC 7643 §3.1: ``id``,
    ``externalId``, ``meta``, ``schemas``); they resolve within any base schema.

    >>> from scimcore.schema import core_schemas
    >>> registry = core_schemas()
    >>> manager = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
    >>> registry.resolve(manager).dotted
    'manager.value'
    >>> registry.resolve("EMAILS.Value", resource_type="User").target.name
    'value'
    >>> registry.resolve("nosuch", resource_type="User") is None
    True
    """

    def __init__(
        self,
        schemas: Iterable[Schema] = (),
        resource_types: Iterable[ResourceType] = (),
        *,
        common: Iterable[Attribute] = (),
    ) -> None:
        self._schemas: dict[str, Schema] = {}
        self._resource_types: dict[str, ResourceType] = {}
        self._common = Schema(id="", attributes=common)
        for schema in schemas:
            self.add_schema(schema)
        for resource_type in resource_types:
            self.add_resource_type(resource_type)

    @property
    def schemas(self) -> tuple[Schema, ...]:
        """Every registered schema, in registration order."""
        return tuple(self._schemas.values())

    @property
    def resource_types(self) -> tuple[ResourceType, ...]:
        """Every registered resource type, in registration order."""
        return tuple(self._resource_types.values())

    @property
    def common_attributes(self) -> tuple[Attribute, ...]:
        """The attributes every resource has (``id``, ``externalId``, ``meta``, ``schemas``)."""
        return self._common.attributes

    def add_schema(self, schema: Schema) -> None:
        """Register (or replace) a schema under its URN."""
        self._schemas[schema.id.casefold()] = schema

    def add_resource_type(self, resource_type: ResourceType) -> None:
        """Register a resource type; its schemas must be registered already."""
        for urn in (resource_type.schema, *resource_type.extension_urns):
            if self.schema(urn) is None:
                raise ValueError(f"resource type {resource_type.name!r}: unknown schema {urn!r}")
        self._resource_types[resource_type.name.casefold()] = resource_type

    def schema(self, urn: str) -> Schema | None:
        """The schema with this URN (any case), or ``None``."""
        return self._schemas.get(urn.casefold())

    def resource_type(self, name: str) -> ResourceType | None:
        """The resource type with this name (any case), or ``None``."""
        return self._resource_types.get(name.casefold())

    def resolve(
        self, path: str, *, resource_type: ResourceType | str | None = None
    ) -> AttributeRef | None:
        """Resolve an attribute path; ``None`` when it names nothing known.

        An unqualified path is looked up in the resource type's base schema,
        then among the common attributes. Without a resource type it is looked
        up in every base schema of a registered resource type, first match wins.
        A URN-qualified path must name a schema of the resource type (when one
        is given). Extension attributes must be URN-qualified, as RFC 7644
        §3.10 asks of clients.
        """
        if isinstance(resource_type, str):
            found_type = self.resource_type(resource_type)
            if found_type is None:
                return None
            resource_type = found_type
        urn, colon, dotted = path.rpartition(":")
        if colon:
            schema = self.schema(urn)
            if schema is None:
                return None
            if resource_type is not None and schema.id not in (
                resource_type.schema,
                *resource_type.extension_urns,
            ):
                return None
            base = resource_type is None or schema.id == resource_type.schema
            return self._in(schema, dotted, common=base and self._is_base(schema))
        if resource_type is not None:
            bases = [self._schemas[resource_type.schema.casefold()]]
        else:
            bases = [self._schemas[rt.schema.casefold()] for rt in self.resource_types]
        for schema in bases:
            ref = self._in(schema, dotted, common=True)
            if ref is not None:
                return ref
        return None

    def _is_base(self, schema: Schema) -> bool:
        return any(rt.schema == schema.id for rt in self._resource_types.values())

    def _in(self, schema: Schema, dotted: str, *, common: bool) -> AttributeRef | None:
        chain = schema.resolve(dotted)
        if chain is not None:
            return AttributeRef(schema, chain)
        if common:
            chain = self._common.resolve(dotted)
            if chain is not None:
                return AttributeRef(schema, chain, common=True)
        return None
