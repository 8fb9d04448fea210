"""The storage protocol: how a SCIM service keeps resources.

:class:`ResourceStore` (and its async twin :class:`AsyncResourceStore`) is what
a host implements; :class:`Query` and :class:`Page` are what a search takes
and gives; :class:`CursorCodec` makes RFC 9865 cursors. The shipped stores are
in :mod:`scimcore.stores`; :class:`scimcore.testing.StoreContract` checks a
host's own.

Errors a store raises (all :class:`~scimcore.errors.ScimError`)::

    NotFound [404]            no resource of this type with this id
    Uniqueness [409]          a unique value (userName…) is taken
    PreconditionFailed [412]  expected_version (If-Match) is stale
    InvalidFilter [400]       a filter the store cannot honour, never a broader result
    InvalidValue [400]        a sortBy naming nothing sortable; a value the store cannot keep
    InvalidCursor [400]       a cursor that is forged, malformed or from another query
    ExpiredCursor [400]       a cursor older than the store's timeout
    TooMany [400]             a search past its Query.deadline (or cancelled)

>>> from scimcore.models import User
>>> query = Query(models=User, filter='userName sw "b"', sort_by="userName", count=10)
>>> query.sort_order, query.start_index
('ascending', 1)
"""

from scimcore.storage._change import Change
from scimcore.storage._cursor import CursorCodec, Position, SortKey
from scimcore.storage._deadline import Deadline
from scimcore.storage._etag import etag, tag_matches, versions_match
from scimcore.storage._protocol import (
    AsyncResourceStore,
    AsyncStoreAdapter,
    ResourceStore,
    SupportsDocuments,
    SupportsMemberships,
    SupportsMemberUpdate,
    SupportsUpdate,
    update,
    update_async,
)
from scimcore.storage._query import Page, Query, SortOrder, resolve_sort
from scimcore.storage._values import comparable, fold, utc_text

__all__ = [
    "AsyncResourceStore",
    "AsyncStoreAdapter",
    "Change",
    "CursorCodec",
    "Deadline",
    "Page",
    "Position",
    "Query",
    "ResourceStore",
    "SortKey",
    "SortOrder",
    "SupportsDocuments",
    "SupportsMemberUpdate",
    "SupportsMemberships",
    "SupportsUpdate",
    "comparable",
    "etag",
    "fold",
    "resolve_sort",
    "tag_matches",
    "update",
    "update_async",
    "utc_text",
    "versions_match",
]
