"""Uniqueness rules and indexed lookups: which values of a search document a store indexes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from scimcore.schema import AttributeRef, UniquenessKind
from scimcore.storage._query import registry_of, resource_type_of
from scimcore.stores.sql._compiler import lookup_key
from scimcore.stores.sql._document import document_keys, search_values

__all__ = [
    "UniqueRule",
    "attribute_ref",
    "lookup_refs",
    "shown",
    "unique_rules",
    "unique_values",
]


@attrs.frozen
class UniqueRule:
    """One attribute whose values must be unique within a resource type."""

    resource_type: str
    ref: AttributeRef
    keys: tuple[str, ...]

    @property
    def key(self) -> str:
        """The lookup key of the attribute (see :func:`~scimcore.stores.sql.lookup_key`)."""
        return "/".join((self.resource_type.casefold(), *self.keys))

    @property
    def name(self) -> str:
        """The attribute's path, for error messages."""
        return self.ref.dotted


def attribute_ref(model: type[Any], path: str) -> AttributeRef:
    """The simple attribute a configured path names (``ValueError`` for a bad one).

    >>> from scimcore.models import User
    >>> attribute_ref(User, "emails.value").dotted
    'emails.value'
    """
    ref = registry_of(model).resolve(path, resource_type=resource_type_of(model))
    if ref is None:
        raise ValueError(f"{model.__name__} has no attribute {path!r}")
    if ref.target.is_complex:
        raise ValueError(f"{path!r} is complex; name a sub-attribute")
    return ref


def unique_rules(model: type[Any], extra: Iterable[str] = ()) -> tuple[UniqueRule, ...]:
    """The uniqueness rules of a model: its schema's, plus ``extra`` attribute paths.

    The schema's are the singular, simple top-level attributes whose
    ``uniqueness`` is ``server`` or ``global`` (``userName``), except ``id``,
    the store's own key. Values compare in their comparable form, so
    ``userName`` (``caseExact: false``) is unique case-insensitively.

    >>> from scimcore.models import User
    >>> [rule.name for rule in unique_rules(User, ["externalId"])]
    ['userName', 'externalId']
    """
    resource_type = resource_type_of(model)
    registry = registry_of(model)
    refs: dict[tuple[str, ...], AttributeRef] = {}
    urns = (resource_type.schema, *resource_type.extension_urns)
    for urn in urns:
        schema = registry.schema(urn)
        if schema is None:
            continue
        for attribute in schema.attributes:
            if (
                attribute.uniqueness is not UniquenessKind.NONE
                and not attribute.multi_valued
                and not attribute.is_complex
                and attribute.name != "id"
            ):
                ref = AttributeRef(schema, (attribute,))
                refs[document_keys(ref, resource_type)] = ref
    for path in extra:
        ref = attribute_ref(model, path)
        refs[document_keys(ref, resource_type)] = ref
    return tuple(UniqueRule(resource_type.name, ref, keys) for keys, ref in refs.items())


def unique_values(
    rules: Iterable[UniqueRule], document: Mapping[str, Any]
) -> dict[tuple[str, Any], UniqueRule]:
    """The values of a search document that must be unique, as ``(rule key, value)`` →
    rule (``None`` and ``""`` hold nothing)."""
    return {
        (rule.key, value): rule
        for rule in rules
        for value in search_values(document, rule.keys)
        if value is not None and value != ""
    }


def lookup_refs(model: type[Any], paths: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Lookup key → search-document keys, for the attribute paths a store indexes.

    >>> from scimcore.models import User
    >>> lookup_refs(User, ["emails.value"])
    {'user/emails/value': ('emails', 'value')}
    """
    resource_type = resource_type_of(model)
    out = {}
    for path in paths:
        keys = document_keys(attribute_ref(model, path), resource_type)
        out[lookup_key(resource_type, keys)] = keys
    return out


def shown(resource: Any, ref: AttributeRef) -> Any:
    """The value of a top-level attribute as the client wrote it (for error messages)."""
    container = resource
    if not ref.common and ref.schema.id != resource_type_of(type(resource)).schema:
        container = resource.extensions.get(ref.schema.id)
    return getattr(container, ref.chain[0].python_name, None)
