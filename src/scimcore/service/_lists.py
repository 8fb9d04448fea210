"""Lists and searches: ``GET /Users?filter=…``, ``POST /.search`` (RFC 7644 §3.4.2, §3.4.3).

Theory of operation: :class:`~._params.ListParams` has already read and
clamped the parameters; :meth:`Lists.list` parses the filter with the
service's policy, rewrites conditions on the computed ``User.groups``
(:meth:`~._groups.Groups.rewrite_filter`), and asks the store for one page,
as JSON documents when the store offers them (no model built) or as models.
Each resource is then shown as a GET would show it (:mod:`._responses`), with
``User.groups`` computed for the page's users in one store call.

Index paging is the default; a ``cursor`` parameter selects RFC 9865 cursor
paging (when the service enables it): the page then carries
``nextCursor``/``previousCursor`` instead of ``startIndex``, and a ``count``
above ``maxPageSize`` is ``invalidCount``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from scimcore.errors import InvalidCount, InvalidFilter
from scimcore.filter import Compare, Filter, Present, filter_cost, parse_filter, walk
from scimcore.policy import Policy
from scimcore.service._groups import Groups
from scimcore.service._hooks import Context, Hooks
from scimcore.service._http import Response, json_response
from scimcore.service._params import ListParams, Paging
from scimcore.service._responses import list_document, resource_document, shown
from scimcore.service._routing import Endpoints
from scimcore.service._store_calls import Gen, Search, SearchDocuments
from scimcore.storage import Deadline, Page, Query

__all__ = ["Lists", "SearchLimits"]


@attrs.frozen
class SearchLimits:
    """How much work one search may ask of the store.

    ``max_filter_cost``: the most value tests a filter may need per resource
    (:func:`~scimcore.filter.filter_cost`; a condition on ``groups`` counted
    as the ``id`` filter it becomes); above it, 400 ``invalidFilter``.
    ``query_timeout``: the seconds a search may run
    (:class:`~scimcore.storage.Deadline`; ``None``: no limit); past them, 400
    ``tooMany``.

    >>> from scimcore.models import User
    >>> from scimcore.filter import parse_filter
    >>> SearchLimits(max_filter_cost=4).check_cost(parse_filter('emails co "@x"'), [User])
    >>> SearchLimits(max_filter_cost=4).check_cost(
    ...     parse_filter('emails co "@x" or title eq "y"'), [User])
    Traceback (most recent call last):
    scimcore.errors.InvalidFilter: The filter is too complex: ...
    """

    query_timeout: float | None = 5.0
    max_filter_cost: int = 1000

    def check_cost(self, node: Filter, models: Sequence[type[Any]]) -> None:
        """Refuse ``node`` if testing it on one resource of any of ``models`` costs too much."""
        cost = max(filter_cost(node, model) for model in models)
        if cost > self.max_filter_cost:
            raise InvalidFilter(
                f"The filter is too complex: it needs about {cost} value tests per resource, "
                f"and this server allows {self.max_filter_cost}. Use fewer terms, or fewer "
                "on multi-valued attributes such as emails."
            )

    def deadline(self) -> Deadline | None:
        """A new search's deadline."""
        return None if self.query_timeout is None else Deadline(self.query_timeout)


@attrs.frozen(kw_only=True)
class Lists:
    """List responses over the store's search, for one model or several.

    ``documents`` says whether the store searches JSON documents
    (:class:`~scimcore.storage.SupportsDocuments`).
    """

    endpoints: Endpoints
    groups: Groups
    policy: Policy
    hooks: Hooks
    documents: bool
    paging: Paging
    limits: SearchLimits = attrs.field(factory=lambda: SearchLimits())

    def list(self, ctx: Context, models: Sequence[type[Any]], params: ListParams) -> Gen[Response]:
        """The ListResponse for ``params`` over ``models``."""
        self.hooks.authorize(ctx, "search", models[0] if len(models) == 1 else None, None)
        node = None if params.filter is None else parse_filter(params.filter, policy=self.policy)
        if node is not None:
            _refuse_location(node)
            node = yield from self.groups.rewrite_filter(node, models)
            self.limits.check_cost(node, models)
        paging = self.paging
        count = paging.default_page_size if params.count is None else params.count
        cursor = params.cursor if paging.cursor else None
        if cursor is not None and count > paging.max_results:
            raise InvalidCount(f"count must be between 0 and maxPageSize ({paging.max_results}).")
        query = Query(
            models=tuple(models),
            filter=node,
            sort_by=params.sort_by,
            sort_order=params.sort_order,
            start_index=params.start_index,
            count=min(count, paging.max_results),
            cursor=cursor,
            attributes=params.attributes,
            excluded_attributes=params.excluded_attributes,
            policy=self.policy,
            deadline=self.limits.deadline(),
        )
        base = self.endpoints.base(ctx.request)
        attributes, excluded = params.attributes, params.excluded_attributes
        url = self.endpoints.url
        page: Page[Any]
        if self.documents:
            page = yield SearchDocuments(query)
            docs: list[dict[str, Any]] = list(page.resources)
            owners = [self.endpoints.model_of_document(doc, models) for doc in docs]
            user_model = self.groups.user_model
            yield from self.groups.fill_documents(
                base,
                user_model,
                [d for d, m in zip(docs, owners, strict=True) if m is user_model],
                attributes,
                excluded,
            )
            documents = [
                shown(m, d, url(base, m, d.get("id")), attributes, excluded)
                for d, m in zip(docs, owners, strict=True)
            ]
        else:
            page = yield Search(query)
            resources = list(page.resources)
            yield from self.groups.fill(base, resources, attributes, excluded)
            documents = [
                resource_document(r, url(base, type(r), r.id), attributes, excluded)
                for r in resources
            ]
        document = list_document(documents, page.total, page.start_index)
        if cursor is not None:
            del document["startIndex"]
            if page.next_cursor is not None:
                document["nextCursor"] = page.next_cursor
            if page.previous_cursor is not None:
                document["previousCursor"] = page.previous_cursor
        return json_response(200, document, ())


def _refuse_location(node: Filter) -> None:
    """A filter on ``meta.location`` is ``invalidFilter``: stores do not keep the URL (the
    service makes it), so they would match nothing, and a filter that cannot be honoured
    is refused, never answered wrongly (found by ``scimcore check``)."""
    for part in walk(node, into_value_paths=False):
        if isinstance(part, Compare | Present):
            path = part.path
            if path.name.casefold() == "meta" and (path.sub or "").casefold() == "location":
                raise InvalidFilter(
                    f"{path}: meta.location cannot be filtered on; filter on id instead."
                )
