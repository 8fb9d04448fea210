"""The RFC 7644 messages: ListResponse, SearchRequest, PatchOp, Bulk, Error.

RFC 7644 defines the messages in prose, not as schema representations; the
:class:`~scimcore.schema.Schema` objects below write that prose down (with
RFC 9865's cursor attributes) so the codec treats messages like resources.
Where a message carries arbitrary JSON (a PATCH ``value``, a bulk ``data``)
the field is typed ``Any`` and travels untouched.

>>> op = PatchOp(operations=[PatchOperation(op="replace", path="active", value=False)])
>>> op.schemas
['urn:ietf:params:scim:api:messages:2.0:PatchOp']
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

import attrs

from scimcore.errors import ERROR_SCHEMA, ScimError, error_for
from scimcore.models._base import Complex, ScimModel, as_list, check_model
from scimcore.schema import Attribute, AttributeType, ReturnedKind, Schema

__all__ = [
    "BULK_REQUEST_SCHEMA",
    "BULK_RESPONSE_SCHEMA",
    "LIST_RESPONSE_SCHEMA",
    "PATCH_OP_SCHEMA",
    "SEARCH_REQUEST_SCHEMA",
    "BulkOperation",
    "BulkRequest",
    "BulkResponse",
    "BulkResponseOperation",
    "Error",
    "ListResponse",
    "Message",
    "PatchOp",
    "PatchOperation",
    "SearchRequest",
]

LIST_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
SEARCH_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
BULK_REQUEST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESPONSE_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"

_S = AttributeType.STRING
_I = AttributeType.INTEGER
_C = AttributeType.COMPLEX
_R = AttributeType.REFERENCE
_SCHEMAS = Attribute(
    "schemas", _R, multi_valued=True, required=True, case_exact=True, returned=ReturnedKind.ALWAYS
)


def _message_schema(urn: str, name: str, *attributes: Attribute) -> Schema:
    return Schema(id=urn, name=name, attributes=(_SCHEMAS, *attributes))


def _default_schemas(self: Message) -> list[str]:
    return [type(self).__scim_schema__.id]


@attrs.define(kw_only=True)
class Message(ScimModel):
    """The base of RFC 7644 messages: a ``schemas`` list naming the message URN.

    >>> SearchRequest().schemas
    ['urn:ietf:params:scim:api:messages:2.0:SearchRequest']
    """

    schemas: list[str] = attrs.field(
        default=attrs.Factory(_default_schemas, takes_self=True), converter=as_list
    )


R = TypeVar("R")

_LIST_RESPONSE = _message_schema(
    LIST_RESPONSE_SCHEMA,
    "ListResponse",
    Attribute("totalResults", _I, required=True),
    Attribute("Resources", _C, multi_valued=True),
    Attribute("startIndex", _I),
    Attribute("itemsPerPage", _I),
    Attribute("nextCursor", case_exact=True),
    Attribute("previousCursor", case_exact=True),
)


@check_model
@attrs.define(kw_only=True)
class ListResponse(Message, Generic[R]):
    """A page of query results (RFC 7644 §3.4.2; cursors: RFC 9865).

    Decode ``ListResponse[User]`` (or ``ListResponse[User | Group]``) to get
    typed items; a bare ``ListResponse`` keeps them as JSON objects.

    >>> ListResponse(total_results=0).resources
    []
    """

    __scim_schema__ = _LIST_RESPONSE

    total_results: int | None = None
    resources: list[R] = attrs.field(factory=list, converter=as_list)
    start_index: int | None = None
    items_per_page: int | None = None
    next_cursor: str | None = None
    previous_cursor: str | None = None


_SEARCH_REQUEST = _message_schema(
    SEARCH_REQUEST_SCHEMA,
    "SearchRequest",
    Attribute("attributes", multi_valued=True),
    Attribute("excludedAttributes", multi_valued=True),
    Attribute("filter"),
    Attribute("sortBy"),
    Attribute("sortOrder", canonical_values=["ascending", "descending"]),
    Attribute("startIndex", _I),
    Attribute("count", _I),
    Attribute("cursor", case_exact=True),
)


@check_model
@attrs.define(kw_only=True)
class SearchRequest(Message):
    """A query sent with POST ``/.search`` (RFC 7644 §3.4.3; ``cursor``: RFC 9865).

    >>> SearchRequest(filter='userName sw "b"', count=10).attributes
    []
    """

    __scim_schema__ = _SEARCH_REQUEST

    attributes: list[str] = attrs.field(factory=list, converter=as_list)
    excluded_attributes: list[str] = attrs.field(factory=list, converter=as_list)
    filter: str | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    start_index: int | None = None
    count: int | None = None
    cursor: str | None = None


_PATCH_OP = _message_schema(
    PATCH_OP_SCHEMA,
    "PatchOp",
    Attribute(
        "Operations",
        _C,
        multi_valued=True,
        required=True,
        sub_attributes=[
            Attribute("op", required=True, canonical_values=["add", "remove", "replace"]),
            Attribute("path"),
            Attribute("value", _C),
        ],
    ),
)


@check_model
@attrs.define(kw_only=True)
class PatchOperation(Complex):
    """One PATCH operation (RFC 7644 §3.5.2); ``value`` is the JSON value as sent.

    ``op`` is kept as sent (Entra sends ``"Replace"``); the PATCH engine
    matches it case-insensitively.

    >>> PatchOperation(op="add", path="emails", value=[{"value": "x@example.com"}]).path
    'emails'
    """

    __scim_schema__ = _PATCH_OP
    __scim_attribute__ = _PATCH_OP.attributes[1]

    op: str | None = None
    path: str | None = None
    value: Any = None


@check_model
@attrs.define(kw_only=True)
class PatchOp(Message):
    """A PATCH request body (RFC 7644 §3.5.2).

    >>> PatchOp(operations=[PatchOperation(op="remove", path="emails")]).operations[0].op
    'remove'
    """

    __scim_schema__ = _PATCH_OP

    operations: list[PatchOperation] = attrs.field(factory=list, converter=as_list)


_BULK_REQUEST = _message_schema(
    BULK_REQUEST_SCHEMA,
    "BulkRequest",
    Attribute("failOnErrors", _I),
    Attribute(
        "Operations",
        _C,
        multi_valued=True,
        required=True,
        sub_attributes=[
            Attribute("method", required=True),
            Attribute("bulkId", case_exact=True),
            Attribute("version", case_exact=True),
            Attribute("path"),
            Attribute("data", _C),
        ],
    ),
)


@check_model
@attrs.define(kw_only=True)
class BulkOperation(Complex):
    """One operation of a bulk request (RFC 7644 §3.7); ``data`` is the JSON as sent.

    >>> BulkOperation(method="DELETE", path="/Users/b7c14771").method
    'DELETE'
    """

    __scim_schema__ = _BULK_REQUEST
    __scim_attribute__ = _BULK_REQUEST.attributes[2]

    method: str | None = None
    bulk_id: str | None = None
    version: str | None = None
    path: str | None = None
    data: Any = None


@check_model
@attrs.define(kw_only=True)
class BulkRequest(Message):
    """A bulk request (RFC 7644 §3.7).

    >>> BulkRequest(fail_on_errors=1).operations
    []
    """

    __scim_schema__ = _BULK_REQUEST

    fail_on_errors: int | None = None
    operations: list[BulkOperation] = attrs.field(factory=list, converter=as_list)


_BULK_RESPONSE = _message_schema(
    BULK_RESPONSE_SCHEMA,
    "BulkResponse",
    Attribute(
        "Operations",
        _C,
        multi_valued=True,
        required=True,
        sub_attributes=[
            Attribute("location", _R, case_exact=True),
            Attribute("method", required=True),
            Attribute("bulkId", case_exact=True),
            Attribute("version", case_exact=True),
            Attribute("status", required=True),
            Attribute("response", _C),
        ],
    ),
)


@check_model
@attrs.define(kw_only=True)
class BulkResponseOperation(Complex):
    """The outcome of one bulk operation (RFC 7644 §3.7); ``status`` is a string.

    >>> BulkResponseOperation(method="POST", bulk_id="qwerty", status="201").status
    '201'
    """

    __scim_schema__ = _BULK_RESPONSE
    __scim_attribute__ = _BULK_RESPONSE.attributes[1]

    location: str | None = None
    method: str | None = None
    bulk_id: str | None = None
    version: str | None = None
    status: str | None = None
    response: Any = None


@check_model
@attrs.define(kw_only=True)
class BulkResponse(Message):
    """A bulk response (RFC 7644 §3.7).

    >>> BulkResponse().operations
    []
    """

    __scim_schema__ = _BULK_RESPONSE

    operations: list[BulkResponseOperation] = attrs.field(factory=list, converter=as_list)


_ERROR = _message_schema(
    ERROR_SCHEMA,
    "Error",
    Attribute("status", required=True),
    Attribute("scimType"),
    Attribute("detail"),
)


@check_model
@attrs.define(kw_only=True)
class Error(Message):
    """An error response (RFC 7644 §3.12); ``status`` is a string, as the RFC shows it.

    >>> from scimcore.errors import NotFound
    >>> error = Error.from_exception(NotFound("Resource 2819c223 not found"))
    >>> error.status, type(error.to_exception()).__name__
    ('404', 'NotFound')
    """

    __scim_schema__: ClassVar[Schema] = _ERROR

    status: str | None = None
    scim_type: str | None = None
    detail: str | None = None

    @classmethod
    def from_exception(cls, error: ScimError) -> Error:
        """The Error message for a :class:`~scimcore.errors.ScimError`."""
        return cls(status=str(error.status), scim_type=error.scim_type, detail=error.detail)

    def to_exception(self) -> ScimError:
        """The :class:`~scimcore.errors.ScimError` this message reports."""
        try:
            status = int(self.status or "500")
        except ValueError:
            status = 500
        return error_for(status, self.scim_type, self.detail)
