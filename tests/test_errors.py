"""The error tree: status, scimType and the exact RFC 7644 §3.12 Error message."""

from __future__ import annotations

import pytest

import scimcore
from scimcore import errors
from scimcore.errors import ERROR_SCHEMA, ScimError, error_for

# (class, status, scimType): RFC 7644 Table 9 (uniqueness 409 per §3.3, sensitive 403 per §7.5.2),
# RFC 9865 §3, and the status-only errors of Table 8.
TABLE = [
    (errors.InvalidFilter, 400, "invalidFilter"),
    (errors.TooMany, 400, "tooMany"),
    (errors.Uniqueness, 409, "uniqueness"),
    (errors.Mutability, 400, "mutability"),
    (errors.InvalidSyntax, 400, "invalidSyntax"),
    (errors.InvalidPath, 400, "invalidPath"),
    (errors.NoTarget, 400, "noTarget"),
    (errors.InvalidValue, 400, "invalidValue"),
    (errors.InvalidVersion, 400, "invalidVers"),
    (errors.Sensitive, 403, "sensitive"),
    (errors.InvalidCursor, 400, "invalidCursor"),
    (errors.ExpiredCursor, 400, "expiredCursor"),
    (errors.InvalidCount, 400, "invalidCount"),
    (errors.BadRequest, 400, None),
    (errors.Unauthorized, 401, None),
    (errors.Forbidden, 403, None),
    (errors.NotFound, 404, None),
    (errors.MethodNotAllowed, 405, None),
    (errors.Conflict, 409, None),
    (errors.PreconditionFailed, 412, None),
    (errors.PayloadTooLarge, 413, None),
    (errors.UnsupportedMediaType, 415, None),
    (errors.TooManyRequests, 429, None),
    (errors.ServiceUnavailable, 503, None),
    (errors.InternalServerError, 500, None),
    (errors.NotImplementedByServer, 501, None),
]


@pytest.mark.parametrize(("cls", "status", "scim_type"), TABLE)
def test_status_and_scim_type(cls: type[ScimError], status: int, scim_type: str | None) -> None:
    error = cls("Something specific.")
    assert (error.status, error.scim_type, error.detail) == (
        status,
        scim_type,
        "Something specific.",
    )
    expected = {"schemas": [ERROR_SCHEMA], "detail": "Something specific.", "status": str(status)}
    if scim_type is not None:
        expected["scimType"] = scim_type
    assert error.to_dict() == expected
    assert list(error.to_dict()) == [
        "schemas",
        *(["scimType"] if scim_type else []),
        "detail",
        "status",
    ]
    assert isinstance(error, ScimError)
    assert error_for(status, scim_type, "x").__class__ is cls


def test_every_error_class_is_in_the_table() -> None:
    classes = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, ScimError) and obj is not ScimError
    }
    assert classes == {cls for cls, _, _ in TABLE}


def test_rfc7644_3_12_example() -> None:
    """RFC 7644 §3.12: the 404 example and the 400 mutability example (with erratum 7898's comma)."""
    assert errors.NotFound("Resource 2819c223-7f76-453a-919d-413861904646 not found").to_dict() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "detail": "Resource 2819c223-7f76-453a-919d-413861904646 not found",
        "status": "404",
    }
    assert errors.Mutability("Attribute 'id' is readOnly").to_dict() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "scimType": "mutability",
        "detail": "Attribute 'id' is readOnly",
        "status": "400",
    }


def test_default_detail() -> None:
    assert errors.NotFound().detail == "Resource not found."
    assert errors.InvalidFilter().to_dict()["detail"].startswith("The specified filter syntax")


def test_the_root_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        ScimError("x")


def test_caret_under_the_fault() -> None:
    error = errors.InvalidFilter(
        "Expected an operator after 'userName'.", source='userName xx "bjensen"', span=(9, 11)
    )
    assert str(error) == (
        "Expected an operator after 'userName'.\n  userName xx \"bjensen\"\n           ^^"
    )
    empty_span = errors.InvalidPath("Unexpected end.", source="emails[", span=(7, 7))
    assert str(empty_span) == "Unexpected end.\n  emails[\n         ^"


def test_location_is_shown() -> None:
    error = errors.InvalidValue("Expected a string.", location="$.emails[0].value")
    assert str(error) == "Expected a string. (at $.emails[0].value)"
    assert repr(error) == "InvalidValue('Expected a string.')"


@pytest.mark.parametrize(
    ("status", "scim_type", "expected"),
    [
        (400, "noSuchType", errors.BadRequest),
        (418, None, errors.BadRequest),
        (502, None, errors.InternalServerError),
        (503, None, errors.ServiceUnavailable),
        (404, "uniqueness", errors.NotFound),  # the status wins over a mismatched scimType
    ],
)
def test_error_for_falls_back(status: int, scim_type: str | None, expected: type) -> None:
    assert type(error_for(status, scim_type)) is expected


def test_design_names_are_exported() -> None:
    for name in (
        "ScimError",
        "InvalidFilter",
        "InvalidPath",
        "InvalidValue",
        "InvalidSyntax",
        "Mutability",
        "NoTarget",
        "Uniqueness",
        "TooMany",
        "NotFound",
        "PreconditionFailed",
    ):
        assert getattr(scimcore, name) is getattr(errors, name)
