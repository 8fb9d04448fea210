"""SCIM 1.1 query parameters for a SCIM 2.0 query: what a client sends to a 1.1 provider.

1.1 has the same parameter names, but no ``excludedAttributes`` and no
meaning for ``count=0``; its filters are the 1.1 dialect and its names 1.1 names.
"""

from __future__ import annotations

from collections.abc import Iterable

from scimcore.codecs.v1._filter import encode_filter
from scimcore.codecs.v1._translate import name_to_v1
from scimcore.errors import InvalidValue
from scimcore.filter import Filter
from scimcore.models._base import Resource, model_attributes
from scimcore.schema import Attribute, ReturnedKind

__all__ = ["encode_query"]

_SHOWN = (ReturnedKind.DEFAULT, ReturnedKind.ALWAYS)


def _expanded(model: type[Resource], excluded: Iterable[str]) -> list[str]:
    """The 1.1 ``attributes`` that return the default set minus ``excluded`` (2.0 names)."""
    dropped: set[tuple[str, str]] = set()
    dropped_subs: dict[tuple[str, str], set[str]] = {}
    registry = model.scim_registry()
    extensions = {u.casefold(): u for u in model.__scim_extensions__}
    for name in excluded:
        whole = extensions.get(name.strip().casefold())
        if whole is not None:
            dropped.add((whole, "*"))
            continue
        ref = registry.resolve(name.strip(), resource_type=model.__scim_resource_type__)
        if ref is None:
            continue
        key = (ref.schema.id, ref.chain[0].name)
        if len(ref.chain) == 1:
            dropped.add(key)
        else:
            dropped_subs.setdefault(key, set()).add(ref.chain[1].name)
    base = model.__scim_schema__.id
    groups: list[tuple[str, tuple[Attribute, ...]]] = [(base, model_attributes(model))]
    groups += [(u, e.__scim_schema__.attributes) for u, e in model.__scim_extensions__.items()]
    names: list[str] = []
    for urn, attributes in groups:
        if (urn, "*") in dropped:
            continue
        prefix = "" if urn == base else f"{urn}:"
        for attribute in attributes:
            key = (urn, attribute.name)
            if attribute.returned not in _SHOWN or key in dropped:
                continue
            if key in dropped_subs:
                names += [
                    f"{prefix}{attribute.name}.{sub.name}"
                    for sub in attribute.sub_attributes
                    if sub.name not in dropped_subs[key] and sub.returned in _SHOWN
                ]
            elif attribute.name != "schemas":
                names.append(prefix + attribute.name)
    return names


def encode_query(
    model: type[Resource],
    *,
    filter: Filter | str | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    start_index: int | None = None,
    count: int | None = None,
    attributes: Iterable[str] | None = None,
    excluded_attributes: Iterable[str] | None = None,
) -> dict[str, str]:
    """The 1.1 query parameters for a 2.0 query over ``model`` (names are 2.0 paths).

    - ``filter`` is written in the 1.1 dialect, or raises
      :class:`~scimcore.codecs.v1.NotExpressibleIn11`;
    - ``count=0`` (2.0: "only totalResults") is sent as ``count=1``: 1.1 does
      not define 0 and some providers read it as "your page size"; read only
      ``totalResults`` from the answer;
    - ``excludedAttributes`` is not 1.1: it is expanded into the ``attributes``
      that ask for the default set without them.

    >>> from scimcore.models import Group
    >>> encode_query(Group, filter='displayName sw "Tour"', count=0,
    ...              excluded_attributes=["members"])
    {'filter': 'displayName sw "Tour"', 'count': '1',
     'attributes': 'id,externalId,meta,displayName'}
    """
    params: dict[str, str] = {}
    if filter is not None:
        params["filter"] = encode_filter(filter, model)
    if sort_by is not None:
        params["sortBy"] = name_to_v1(sort_by, model)
    if sort_order is not None:
        params["sortOrder"] = sort_order
    if start_index is not None:
        params["startIndex"] = str(start_index)
    if count is not None:
        params["count"] = str(max(count, 1))
    if attributes is not None and excluded_attributes is not None:
        raise InvalidValue("'attributes' and 'excludedAttributes' are mutually exclusive.")
    names: list[str] = []
    if attributes is not None:
        names = [name_to_v1(n, model) for n in attributes]
    elif excluded_attributes is not None:
        names = [name_to_v1(n, model) for n in _expanded(model, excluded_attributes)]
    if names:
        params["attributes"] = ",".join(names)
    return params
