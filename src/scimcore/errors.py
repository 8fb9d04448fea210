"""SCIM errors: one exception class per HTTP status and ``scimType``.

Every failure scimcore reports is a :class:`ScimError`. It carries what the
RFC 7644 §3.12 Error message needs (``status``, ``scim_type``, ``detail``) and
:meth:`ScimError.to_dict` renders that message. Catch the root to turn any
failure into a response; catch a leaf to react to one condition.

The tree (status in brackets; ``scimType`` after the colon)::

    ScimError (abstract)
    ├── BadRequest [400]
    │   ├── InvalidFilter [400]: invalidFilter        RFC 7644 Table 9
    │   ├── TooMany [400]: tooMany
    │   ├── Mutability [400]: mutability
    │   ├── InvalidSyntax [400]: invalidSyntax
    │   ├── InvalidPath [400]: invalidPath
    │   ├── NoTarget [400]: noTarget
    │   ├── InvalidValue [400]: invalidValue
    │   ├── InvalidVersion [400]: invalidVers
    │   ├── InvalidCursor [400]: invalidCursor        RFC 9865
    │   ├── ExpiredCursor [400]: expiredCursor
    │   └── InvalidCount [400]: invalidCount
    ├── Unauthorized [401]
    ├── Forbidden [403]
    │   └── Sensitive [403]: sensitive                RFC 7644 §7.5.2
    ├── NotFound [404]
    ├── MethodNotAllowed [405]
    ├── Conflict [409]
    │   └── Uniqueness [409]: uniqueness              RFC 7644 §3.3
    ├── PreconditionFailed [412]
    ├── PayloadTooLarge [413]
    ├── UnsupportedMediaType [415]
    ├── TooManyRequests [429]                         RFC 6585 §4 (a client reads it)
    ├── InternalServerError [500]
    ├── NotImplementedByServer [501]
    └── ServiceUnavailable [503]                      (a client reads it)

Errors about a text (a filter, a PATCH path) carry the ``source`` and the
``span`` of the fault, and ``str()`` draws a caret under it. Errors about a
value in a document carry its ``location`` as a JSON path (``$.emails[0].value``).

>>> err = InvalidFilter("Unknown operator 'regex'.")
>>> err.status, err.scim_type
(400, 'invalidFilter')
>>> err.to_dict()["status"]
'400'
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ERROR_LOCATION_SCHEMA",
    "ERROR_SCHEMA",
    "BadRequest",
    "Conflict",
    "ExpiredCursor",
    "Forbidden",
    "InternalServerError",
    "InvalidCount",
    "InvalidCursor",
    "InvalidFilter",
    "InvalidPath",
    "InvalidSyntax",
    "InvalidValue",
    "InvalidVersion",
    "MethodNotAllowed",
    "Mutability",
    "NoTarget",
    "NotFound",
    "NotImplementedByServer",
    "PayloadTooLarge",
    "PreconditionFailed",
    "ScimError",
    "Sensitive",
    "ServiceUnavailable",
    "TooMany",
    "TooManyRequests",
    "Unauthorized",
    "Uniqueness",
    "UnsupportedMediaType",
    "error_for",
]

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
#: The extension of an Error message that names its bad value (``location``, a JSON path).
ERROR_LOCATION_SCHEMA = "urn:scimcore:params:scim:api:messages:2.0:ErrorLocation"


class ScimError(Exception):
    """The root of every scimcore error; abstract, so raise a subclass.

    ``detail`` is the human-readable text of the RFC 7644 §3.12 Error message;
    each class has a default. ``location`` is the JSON path of the bad value,
    when there is one. ``source`` and ``span`` (start, end) locate a fault in
    a text such as a filter; ``str()`` then shows the text with a caret line.
    ``request`` and ``response`` are set by :mod:`scimcore.client` on the
    errors a server answered with.

    >>> print(InvalidPath("Unknown attribute 'foo'.", source="foo.bar", span=(0, 3)))
    Unknown attribute 'foo'.
      foo.bar
      ^^^
    """

    status: ClassVar[int] = 400
    scim_type: ClassVar[str | None] = None
    default_detail: ClassVar[str] = "The request could not be processed."

    detail: str
    location: str | None
    source: str | None
    span: tuple[int, int] | None
    # Set by scimcore.client on an error a server answered: the request that failed
    # and the response (``HttpRequest``, ``HttpResponse``); None otherwise.
    request: Any = None
    response: Any = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        location: str | None = None,
        source: str | None = None,
        span: tuple[int, int] | None = None,
    ) -> None:
        if type(self) is ScimError:
            raise TypeError("ScimError is abstract: raise one of its subclasses")
        self.detail = detail if detail is not None else self.default_detail
        self.location = location
        self.source = source
        self.span = span
        super().__init__(self.detail)

    def __str__(self) -> str:
        text = self.detail
        if self.location is not None:
            text = f"{text} (at {self.location})"
        if self.source is not None and self.span is not None:
            start, end = self.span
            width = max(1, end - start)
            text = f"{text}\n  {self.source}\n  {' ' * start}{'^' * width}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"

    @property
    def described(self) -> str:
        """``detail``, followed by the attribute it is about when there is one.

        >>> InvalidValue("Expected a string, got a number.", location="$.emails[0].value").described
        'Expected a string, got a number. (at emails[0].value)'
        """
        where = (self.location or "$").removeprefix("$").removeprefix(".")
        if not where or where in self.detail:
            return self.detail
        return f"{self.detail} (at {where})"

    def to_dict(self) -> dict[str, Any]:
        """The RFC 7644 §3.12 Error message for this error.

        ``status`` is a string, as the RFC's examples show it. An error about
        one value names it in ``detail`` and in the extension
        :data:`ERROR_LOCATION_SCHEMA` (``location``, a JSON path).

        >>> InvalidValue("Expected a string.", location="$.emails[0].value").to_dict()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'schemas': ['urn:ietf:params:scim:api:messages:2.0:Error',
                     'urn:scimcore:params:scim:api:messages:2.0:ErrorLocation'],
         'scimType': 'invalidValue', 'detail': 'Expected a string. (at emails[0].value)',
         'status': '400',
         'urn:scimcore:params:scim:api:messages:2.0:ErrorLocation':
             {'location': '$.emails[0].value'}}

        >>> Uniqueness("userName 'bjensen' is taken.").to_dict()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'schemas': ['urn:ietf:params:scim:api:messages:2.0:Error'],
         'scimType': 'uniqueness', 'detail': "userName 'bjensen' is taken.", 'status': '409'}
        """
        located = self.location is not None and self.location != "$"
        message: dict[str, Any] = {
            "schemas": [ERROR_SCHEMA, ERROR_LOCATION_SCHEMA] if located else [ERROR_SCHEMA]
        }
        if self.scim_type is not None:
            message["scimType"] = self.scim_type
        message["detail"] = self.described
        message["status"] = str(self.status)
        if located:
            message[ERROR_LOCATION_SCHEMA] = {"location": self.location}
        return message


class BadRequest(ScimError):
    """400: the request is malformed in a way no more specific ``scimType`` names."""

    status = 400
    default_detail = "The request is not valid."


class InvalidFilter(BadRequest):
    """400 ``invalidFilter``: bad filter syntax, or an unsupported attribute or operator."""

    scim_type = "invalidFilter"
    default_detail = "The specified filter syntax was invalid or the specified attribute and filter comparison combination is not supported."  # noqa: E501


class TooMany(BadRequest):
    """400 ``tooMany``: the filter would return more results than the server allows."""

    scim_type = "tooMany"
    default_detail = "The specified filter yields many more results than the server is willing to calculate or process."  # noqa: E501


class Mutability(BadRequest):
    """400 ``mutability``: the change is incompatible with an attribute's mutability."""

    scim_type = "mutability"
    default_detail = "The attempted modification is not compatible with the target attribute's mutability or current state."  # noqa: E501


class InvalidSyntax(BadRequest):
    """400 ``invalidSyntax``: the request body is not parsable or violates the schema."""

    scim_type = "invalidSyntax"
    default_detail = (
        "The request body message structure was invalid or did not conform to the request schema."
    )


class InvalidPath(BadRequest):
    """400 ``invalidPath``: a PATCH ``path`` is malformed or names nothing known."""

    scim_type = "invalidPath"
    default_detail = "The path attribute was invalid or malformed."


class NoTarget(BadRequest):
    """400 ``noTarget``: a PATCH ``path`` matched nothing where the RFC requires a target."""

    scim_type = "noTarget"
    default_detail = "The specified path did not yield an attribute or attribute value that could be operated on."  # noqa: E501


class InvalidValue(BadRequest):
    """400 ``invalidValue``: a value is missing, of the wrong type, or not allowed."""

    scim_type = "invalidValue"
    default_detail = "A required value was missing, or the value specified was not compatible with the operation or attribute type, or resource schema."  # noqa: E501


class InvalidVersion(BadRequest):
    """400 ``invalidVers``: the protocol version is not supported."""

    scim_type = "invalidVers"
    default_detail = "The specified SCIM protocol version is not supported."


class InvalidCursor(BadRequest):
    """400 ``invalidCursor`` (RFC 9865): the cursor is unknown, malformed or tampered with."""

    scim_type = "invalidCursor"
    default_detail = "The cursor value is invalid."


class ExpiredCursor(BadRequest):
    """400 ``expiredCursor`` (RFC 9865): the cursor is no longer valid."""

    scim_type = "expiredCursor"
    default_detail = "The cursor has expired."


class InvalidCount(BadRequest):
    """400 ``invalidCount`` (RFC 9865): the ``count`` is not allowed with cursors."""

    scim_type = "invalidCount"
    default_detail = "The count value is invalid."


class Unauthorized(ScimError):
    """401: the request is not authenticated."""

    status = 401
    default_detail = "Authorization failure."


class Forbidden(ScimError):
    """403: the request is authenticated but not allowed."""

    status = 403
    default_detail = "The operation is not permitted."


class Sensitive(Forbidden):
    """403 ``sensitive`` (RFC 7644 §7.5.2): sensitive data in the URL; use POST ``/.search``."""

    scim_type = "sensitive"
    default_detail = "The specified request cannot be completed, due to the passing of sensitive information in a request URI."  # noqa: E501


class NotFound(ScimError):
    """404: the resource or endpoint does not exist."""

    status = 404
    default_detail = "Resource not found."


class MethodNotAllowed(ScimError):
    """405: the endpoint does not allow this HTTP method."""

    status = 405
    default_detail = "The method is not allowed on this endpoint."


class Conflict(ScimError):
    """409: the request conflicts with the stored state."""

    status = 409
    default_detail = "The request conflicts with the current state of the resource."


class Uniqueness(Conflict):
    """409 ``uniqueness``: a value that must be unique is already taken."""

    scim_type = "uniqueness"
    default_detail = "One or more of the attribute values are already in use or are reserved."


class PreconditionFailed(ScimError):
    """412: an ``If-Match`` precondition failed; the resource changed meanwhile."""

    status = 412
    default_detail = "The resource has changed on the server."


class PayloadTooLarge(ScimError):
    """413: the request is larger than the server's ``maxPayloadSize`` or ``maxOperations``."""

    status = 413
    default_detail = "The size of the request exceeds the maximum the server accepts."


class UnsupportedMediaType(ScimError):
    """415: the request body is not JSON (``application/scim+json`` or ``application/json``)."""

    status = 415
    default_detail = "The request body must be application/scim+json or application/json."


class TooManyRequests(ScimError):
    """429: the server is rate-limiting the client; ``Retry-After`` says when to come back."""

    status = 429
    default_detail = "Too many requests."


class InternalServerError(ScimError):
    """500: an unexpected failure; its detail never shows internals."""

    status = 500
    default_detail = "An internal error occurred."


class NotImplementedByServer(ScimError):
    """501: the service provider does not support the requested operation."""

    status = 501
    default_detail = "The requested operation is not supported."


class ServiceUnavailable(ScimError):
    """503: the server cannot answer now (``Retry-After`` may say when)."""

    status = 503
    default_detail = "The service is unavailable."


_BY_SCIM_TYPE: dict[str, type[ScimError]] = {
    cls.scim_type: cls
    for cls in (
        InvalidFilter,
        TooMany,
        Mutability,
        InvalidSyntax,
        InvalidPath,
        NoTarget,
        InvalidValue,
        InvalidVersion,
        InvalidCursor,
        ExpiredCursor,
        InvalidCount,
        Sensitive,
        Uniqueness,
    )
    if cls.scim_type is not None
}
_BY_STATUS: dict[int, type[ScimError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        TooManyRequests,
        InternalServerError,
        NotImplementedByServer,
        ServiceUnavailable,
    )
}


def error_for(status: int, scim_type: str | None = None, detail: str | None = None) -> ScimError:
    """The error for a ``status`` and ``scimType``, as a client reads them off a response.

    An unknown ``scimType`` falls back to the class for the status; an unknown
    status to :class:`BadRequest` (4xx) or :class:`InternalServerError`.

    >>> error_for(409, "uniqueness")
    Uniqueness('One or more of the attribute values are already in use or are reserved.')
    >>> type(error_for(404)).__name__
    'NotFound'
    """
    cls = _BY_SCIM_TYPE.get(scim_type or "")
    if cls is None or cls.status != status:
        cls = _BY_STATUS.get(status, BadRequest if 400 <= status < 500 else InternalServerError)
    return cls(detail)
