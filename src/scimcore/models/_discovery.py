"""The discovery resources (RFC 7643 §5–7): models made from their own schemas.

``ServiceProviderConfigResource``, ``ResourceTypeResource`` and
``SchemaResource`` are made by :func:`~scimcore.models.make_model` from the
RFC 7643 §8.7.2 schemas (fixed per :data:`scimcore.schema.ERRATA`), so their
fields follow those schemas exactly. They are named ``…Resource`` to keep them
apart from the schema model's records (:class:`scimcore.schema.Schema`,
:class:`scimcore.schema.ResourceType`, :class:`scimcore.schema.ServiceProviderConfig`),
which are what a server is configured with; these are what travels on the wire.

>>> Patch = ServiceProviderConfigResource.Patch
>>> config = ServiceProviderConfigResource(patch=Patch(supported=True))
>>> config.patch.supported
True
"""

from __future__ import annotations

from typing import Any

import attrs

from scimcore.models._dynamic import make_model
from scimcore.schema import (
    RESOURCE_TYPE_SCHEMA_URN,
    SCHEMA_SCHEMA,
    SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
    ResourceType,
    Schema,
    core_schemas,
)

__all__ = ["ResourceTypeResource", "SchemaResource", "ServiceProviderConfigResource"]

_REGISTRY = core_schemas()


def _schema(urn: str) -> Schema:
    schema = _REGISTRY.schema(urn)
    assert schema is not None
    return schema


def _expose_children(cls: type[Any]) -> type[Any]:
    """Make each complex class reachable as ``Model.<ClassName minus prefix>``."""
    for child in cls.__dict__.get("__scim_children__", {}).values():
        short = child.__name__.removeprefix(cls.__name__)
        if short and not hasattr(cls, short):
            setattr(cls, short, child)
            _expose_children(child)
    return cls


ServiceProviderConfigResource: type[Any] = _expose_children(
    make_model(
        _schema(SERVICE_PROVIDER_CONFIG_SCHEMA_URN),
        resource_type=ResourceType(
            id="ServiceProviderConfig",
            name="ServiceProviderConfig",
            endpoint="/ServiceProviderConfig",
            schema=SERVICE_PROVIDER_CONFIG_SCHEMA_URN,
        ),
        name="ServiceProviderConfigResource",
    )
)
ResourceTypeResource: type[Any] = _expose_children(
    make_model(
        _schema(RESOURCE_TYPE_SCHEMA_URN),
        resource_type=ResourceType(
            id="ResourceType",
            name="ResourceType",
            endpoint="/ResourceTypes",
            schema=RESOURCE_TYPE_SCHEMA_URN,
        ),
        name="ResourceTypeResource",
    )
)


def _deeper(schema: Schema) -> Schema:
    """The Schema schema with ``attributes.subAttributes.subAttributes`` added.

    RFC 7643 §8.7.2 describes sub-attributes one level deep, but its own
    representation of the Schema schema nests them three deep (the definition
    of ``subAttributes`` has ``subAttributes``); the model holds that level too.
    """
    attributes = schema.attribute("attributes")
    assert attributes is not None
    subs = attributes.sub_attribute("subAttributes")
    assert subs is not None
    deeper = attrs.evolve(
        subs,
        sub_attributes=(
            *subs.sub_attributes,
            attrs.evolve(subs, sub_attributes=subs.sub_attributes),
        ),
    )
    fixed = attrs.evolve(
        attributes,
        sub_attributes=[deeper if a is subs else a for a in attributes.sub_attributes],
    )
    return attrs.evolve(
        schema, attributes=[fixed if a is attributes else a for a in schema.attributes]
    )


SchemaResource: type[Any] = _expose_children(
    make_model(
        _deeper(_schema(SCHEMA_SCHEMA)),
        resource_type=ResourceType(
            id="Schema", name="Schema", endpoint="/Schemas", schema=SCHEMA_SCHEMA
        ),
        name="SchemaResource",
    )
)
