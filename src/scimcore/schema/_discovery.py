"""Resource types and the service provider configuration (RFC 7643 §5, §6; RFC 9865 §2).

These are small frozen records. :func:`to_wire` and :func:`from_wire` turn them
into their JSON form and back, camelCasing the field names.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from scimcore.errors import InvalidValue

__all__ = [
    "RESOURCE_TYPE_SCHEMA",
    "SERVICE_PROVIDER_CONFIG_SCHEMA",
    "AuthenticationScheme",
    "BulkSupport",
    "FilterSupport",
    "Pagination",
    "ResourceType",
    "SchemaExtension",
    "ServiceProviderConfig",
    "Supported",
    "from_wire",
    "to_wire",
]

RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SERVICE_PROVIDER_CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"

T = TypeVar("T")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_wire(record: Any) -> dict[str, Any]:
    """The JSON object for one of this module's records; ``None`` fields are left out.

    >>> to_wire(SchemaExtension("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"))
    {'schema': 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', 'required': False}
    """
    data: dict[str, Any] = {}
    for field in attrs.fields(type(record)):
        value = getattr(record, field.name)
        if value is None:
            continue
        key = field.metadata.get("wire", _camel(field.name))
        if attrs.has(type(value)):
            value = to_wire(value)
        elif isinstance(value, tuple):
            value = [to_wire(v) if attrs.has(type(v)) else v for v in value]
        data[key] = value
    return data


def _record_type(annotation: Any) -> Any:
    """The record class inside ``X | None`` or ``tuple[X, ...]``, else ``None``."""
    if isinstance(annotation, types.UnionType):
        candidates = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = candidates[0] if len(candidates) == 1 else None
    if typing.get_origin(annotation) is tuple:
        annotation = typing.get_args(annotation)[0]
    return annotation if isinstance(annotation, type) and attrs.has(annotation) else None


def from_wire(cls: type[T], data: Mapping[str, Any], *, location: str = "$") -> T:
    """Read one of this module's records from its JSON object (keys in any case).

    >>> from_wire(Supported, {"SUPPORTED": True})
    Supported(supported=True)
    """
    if not isinstance(data, Mapping):
        raise InvalidValue(f"Expected an object for {cls.__name__}.", location=location)
    folded = {key.casefold(): value for key, value in data.items() if isinstance(key, str)}
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for field in attrs.fields(cls):  # type: ignore[arg-type]
        key = field.metadata.get("wire", _camel(field.name))
        if key.casefold() not in folded:
            continue
        value = folded[key.casefold()]
        inner = _record_type(hints[field.name])
        where = f"{location}.{key}"
        if inner is not None and value is not None:
            if typing.get_origin(hints[field.name]) is tuple:
                if not isinstance(value, list):
                    raise InvalidValue(f"Expected a list for '{key}'.", location=where)
                value = tuple(
                    from_wire(inner, v, location=f"{where}[{i}]") for i, v in enumerate(value)
                )
            else:
                value = from_wire(inner, value, location=where)
        elif isinstance(value, list):
            value = tuple(value)
        kwargs[field.name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InvalidValue(f"Invalid {cls.__name__}: {exc}.", location=location) from None


def _tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value)


@attrs.frozen
class SchemaExtension:
    """An extension schema of a resource type, and whether resources must carry it."""

    schema: str
    required: bool = False


@attrs.frozen
class ResourceType:
    """A resource type: its endpoint, base schema and extensions (RFC 7643 §6).

    >>> from scimcore.schema import USER_RESOURCE_TYPE
    >>> USER_RESOURCE_TYPE.endpoint, USER_RESOURCE_TYPE.extension_urns
    ('/Users', ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',))
    """

    name: str
    endpoint: str
    schema: str
    id: str | None = None
    description: str | None = None
    schema_extensions: tuple[SchemaExtension, ...] = attrs.field(default=(), converter=_tuple)

    @property
    def extension_urns(self) -> tuple[str, ...]:
        """The URNs of this type's extension schemas."""
        return tuple(ext.schema for ext in self.schema_extensions)

    def to_dict(self) -> dict[str, Any]:
        """The RFC 7643 §6 representation, with its ``schemas``."""
        return {"schemas": [RESOURCE_TYPE_SCHEMA], **to_wire(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ResourceType:
        """Read a resource type representation."""
        return from_wire(cls, data)


@attrs.frozen
class Supported:
    """A feature block with a single ``supported`` flag (patch, changePassword, sort, etag)."""

    supported: bool = False


@attrs.frozen
class BulkSupport:
    """The ``bulk`` block of a service provider configuration."""

    supported: bool = False
    max_operations: int = 0
    max_payload_size: int = 0


@attrs.frozen
class FilterSupport:
    """The ``filter`` block of a service provider configuration."""

    supported: bool = False
    max_results: int = 0


@attrs.frozen
class AuthenticationScheme:
    """One supported authentication scheme (RFC 7643 §5)."""

    type: str
    name: str
    description: str
    spec_uri: str | None = None
    documentation_uri: str | None = None
    primary: bool | None = None


@attrs.frozen
class Pagination:
    """The RFC 9865 §2 ``pagination`` block: which paging methods are offered."""

    cursor: bool = False
    index: bool = True
    default_pagination_method: str | None = None
    default_page_size: int | None = None
    max_page_size: int | None = None
    cursor_timeout: int | None = None


@attrs.frozen
class ServiceProviderConfig:
    """What a service provider supports (RFC 7643 §5, RFC 9865 §2).

    >>> config = ServiceProviderConfig(patch=Supported(True), pagination=Pagination(cursor=True))
    >>> config.to_dict()["pagination"]
    {'cursor': True, 'index': True}
    >>> ServiceProviderConfig.from_dict(config.to_dict()) == config
    True
    """

    patch: Supported = Supported()
    bulk: BulkSupport = BulkSupport()
    filter: FilterSupport = FilterSupport()
    change_password: Supported = Supported()
    sort: Supported = Supported()
    etag: Supported = Supported()
    authentication_schemes: tuple[AuthenticationScheme, ...] = attrs.field(
        default=(), converter=_tuple
    )
    documentation_uri: str | None = None
    pagination: Pagination | None = None

    def to_dict(self) -> dict[str, Any]:
        """The RFC 7643 §5 representation, with its ``schemas``."""
        return {"schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA], **to_wire(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ServiceProviderConfig:
        """Read a service provider configuration (``schemas`` and ``meta`` are ignored)."""
        return from_wire(cls, data)
