"""The values a search is made of: :class:`Query` in, :class:`Page` out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

import attrs

from scimcore.errors import InvalidValue
from scimcore.policy import Policy
from scimcore.schema import ReturnedKind

if TYPE_CHECKING:
    from scimcore.filter import Filter
    from scimcore.schema import AttributeRef, ResourceType, SchemaRegistry
    from scimcore.storage._deadline import Deadline

__all__ = ["Page", "Query", "SortOrder", "registry_of", "resolve_sort", "resource_type_of"]

SortOrder = Literal["ascending", "descending"]
R = TypeVar("R")


def resource_type_of(model: type[Any]) -> ResourceType:
    """The resource type a model class serves (its ``__scim_resource_type__``)."""
    resource_type: ResourceType | None = getattr(model, "__scim_resource_type__", None)
    if resource_type is None:
        raise TypeError(f"{model.__name__} is not a SCIM resource model")
    return resource_type


def registry_of(model: type[Any]) -> SchemaRegistry:
    """The registry that resolves a model's attribute paths (its ``scim_registry()``)."""
    registry: SchemaRegistry = model.scim_registry()
    return registry


def _models(value: type[Any] | Iterable[type[Any]]) -> tuple[type[Any], ...]:
    models = (value,) if isinstance(value, type) else tuple(value)
    if not models:
        raise ValueError("a query needs at least one resource model")
    return tuple(dict.fromkeys(models))


def _filter_or_text(value: Filter | str | None) -> Filter | None:
    # Text stays text here; __attrs_post_init__ parses it under the query's policy.
    return cast("Filter | None", value)


def _sort_order(value: str) -> SortOrder:
    folded = value.casefold()
    if folded == "ascending":
        return "ascending"
    if folded == "descending":
        return "descending"
    raise InvalidValue(f"sortOrder must be 'ascending' or 'descending', not {value!r}.")


def _start_index(value: int) -> int:
    return max(1, value)


def _count(value: int | None) -> int | None:
    return None if value is None else max(0, value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Query:
    """One search: which resource types, filter, sort, page and attributes.

    RFC 7644 §3.4.2 rules are applied on construction: a ``start_index`` below 1
    is 1, a negative ``count`` is 0, ``sort_order`` is read in any case.
    ``count=None`` returns every match (the service caps it first). ``cursor``
    selects RFC 9865 paging: ``""`` asks for the first page, a token given in
    :attr:`Page.next_cursor` or :attr:`Page.previous_cursor` for another;
    ``None`` (the default) pages by ``start_index``. ``attributes`` and
    ``excluded_attributes`` are a hint: a store may skip loading what the
    response leaves out, and the service projects the response anyway.
    ``policy`` decides unknown attributes (:attr:`Policy.unknown_filter_attribute`)
    and string booleans; a search over several models treats an attribute
    one of them lacks as absent, as RFC 7644 §3.4.2.2 requires of root queries.
    ``deadline`` (:class:`~scimcore.storage.Deadline`) is when the store must
    give up on the search with :class:`~scimcore.errors.TooMany`; ``None``: no limit.

    >>> from scimcore.models import User
    >>> q = Query(models=User, start_index=-3, count=-1, sort_order="DESCENDING")
    >>> q.start_index, q.count, q.sort_order
    (1, 0, 'descending')
    """

    models: tuple[type[Any], ...] = attrs.field(converter=_models)
    filter: Filter | None = attrs.field(default=None, converter=_filter_or_text)
    sort_by: str | None = None
    sort_order: SortOrder = attrs.field(default="ascending", converter=_sort_order)
    start_index: int = attrs.field(default=1, converter=_start_index)
    count: int | None = attrs.field(default=None, converter=_count)
    cursor: str | None = None
    attributes: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    excluded_attributes: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    policy: Policy = attrs.field(factory=Policy)
    deadline: Deadline | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        text: object = self.filter
        if isinstance(text, str):  # filter text is parsed under the query's policy
            from scimcore.filter import parse_filter

            object.__setattr__(self, "filter", parse_filter(text, policy=self.policy))

    @property
    def descending(self) -> bool:
        """Whether the results are in descending order."""
        return self.sort_order == "descending"

    @property
    def resource_type_names(self) -> tuple[str, ...]:
        """The names of the resource types searched, in query order."""
        return tuple(resource_type_of(m).name for m in self.models)

    def fingerprint(self) -> str:
        """A digest of everything a cursor is bound to: types, filter, sort and count.

        RFC 9865 §2 asks a client to repeat every parameter but the cursor.
        """
        data = [
            sorted(name.casefold() for name in self.resource_type_names),
            "" if self.filter is None else str(self.filter),
            (self.sort_by or "").casefold(),
            self.sort_order,
            self.count,
        ]
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@attrs.frozen(kw_only=True)
class Page(Generic[R]):
    """One page of a search: the resources, the total, and the RFC 9865 cursors.

    ``total`` counts every match, not only this page. ``next_cursor`` is set when
    more results follow and the search used cursors; ``previous_cursor`` when
    results precede this page (never on the first page, RFC 9865 §2).

    >>> Page(resources=[], total=0).next_cursor is None
    True
    """

    resources: Sequence[R]
    total: int | None
    start_index: int = 1
    next_cursor: str | None = None
    previous_cursor: str | None = None


def resolve_sort(sort_by: str, model: type[Any]) -> AttributeRef | None:
    """The attribute a ``sortBy`` names in ``model``, ``None`` when it has none.

    A complex attribute sorts by its ``value`` sub-attribute when it has one
    (``sortBy=emails``, RFC 7644 §3.4.2.3); otherwise it is ``invalidValue``.
    """
    registry = registry_of(model)
    ref = registry.resolve(sort_by, resource_type=resource_type_of(model))
    if ref is None:
        return None
    if ref.target.returned is ReturnedKind.NEVER:
        # A sort order on a password would tell it one comparison at a time.
        raise InvalidValue(f"sortBy '{sort_by}' is never returned, so it cannot be sorted on.")
    if ref.target.is_complex:
        value = ref.target.sub_attribute("value")
        if value is None:
            raise InvalidValue(
                f"sortBy '{sort_by}' names a complex attribute; name one of its sub-attributes."
            )
        ref = attrs.evolve(ref, chain=(*ref.chain, value))
    return ref


def resolve_sorts(query: Query) -> dict[type[Any], AttributeRef | None]:
    """``sortBy`` resolved for every model of a query; ``invalidValue`` if none knows it."""
    if query.sort_by is None:
        return {}
    refs = {model: resolve_sort(query.sort_by, model) for model in query.models}
    if all(ref is None for ref in refs.values()):
        raise InvalidValue(f"sortBy names an unknown attribute: {query.sort_by!r}.")
    return refs
