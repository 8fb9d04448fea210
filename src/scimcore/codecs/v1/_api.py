"""``decode`` and ``encode`` for SCIM 1.1, over the same typed models as SCIM 2.0."""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from scimcore.codecs import v2
from scimcore.codecs.v1._translate import (
    CORE_SCHEMA,
    name_to_v2,
    resource_to_v1,
    resource_to_v2,
    urn_to_v1,
)
from scimcore.codecs.v2 import Context
from scimcore.errors import InvalidSyntax, InvalidValue, ScimError
from scimcore.models import LIST_RESPONSE_SCHEMA, Error, ListResponse, Resource
from scimcore.policy import Policy

__all__ = ["decode", "decode_error", "encode", "encode_error"]

T = TypeVar("T")


def _loads(data: Mapping[str, Any] | str | bytes) -> Any:
    if isinstance(data, str | bytes | bytearray):
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise InvalidSyntax(f"The body is not valid JSON: {exc}.", location="$") from None
    return data


def _object(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidSyntax("Expected a JSON object.", location="$")
    return data


def _get(data: Mapping[str, Any], name: str) -> Any:
    for key, value in data.items():
        if isinstance(key, str) and key.casefold() == name.casefold():
            return value
    return None


def _located_v1(error: ScimError, model: type[Resource]) -> ScimError:
    """Rewrite the 2.0 URNs in an error's location into their 1.1 names."""
    if error.location:
        location = error.location
        for urn in model.__scim_extensions__:
            location = location.replace(repr(urn), repr(urn_to_v1(urn)))
        error.location = location
    return error


def _resource_model(model: Any) -> type[Resource] | None:
    return model if isinstance(model, type) and issubclass(model, Resource) else None


def decode(
    data: Mapping[str, Any] | str | bytes,
    model: type[T],
    *,
    context: Context | str | None = None,
    policy: Policy | None = None,
) -> T:
    """Read a SCIM 1.1 JSON document (a mapping, or JSON text) into ``model``.

    A 1.1 document does not say what it is (User and Group both carry
    ``urn:scim:schemas:core:1.0``), so ``model`` is required: a resource class,
    ``ListResponse[Model]`` or :class:`~scimcore.models.Error` (from the
    ``Errors`` envelope). ``context`` and ``policy`` are those of
    :func:`scimcore.codecs.v2.decode`.

    >>> from scimcore.models import User, EnterpriseUser
    >>> user = decode({"schemas": ["urn:scim:schemas:core:1.0",
    ...                            "urn:scim:schemas:extension:enterprise:1.0"],
    ...                "userName": "bjensen",
    ...                "urn:scim:schemas:extension:enterprise:1.0": {
    ...                    "manager": {"managerId": "26118915", "displayName": "John Smith"}}},
    ...               User)
    >>> user[EnterpriseUser].manager.value
    '26118915'
    """
    raw = _loads(data)
    resource_model = _resource_model(model)
    if resource_model is not None:
        document = resource_to_v2(_object(raw), resource_model)
        try:
            return v2.decode(document, model, context=context, policy=policy)
        except ScimError as error:
            raise _located_v1(error, resource_model) from None
    if typing.get_origin(model) is ListResponse or model is ListResponse:
        return typing.cast(T, _decode_list(_object(raw), model, context, policy))
    if model is Error:
        return typing.cast(T, decode_error(raw))
    raise TypeError(f"{model!r} has no SCIM 1.1 form")


def _decode_list(
    data: Mapping[str, Any], model: Any, context: Context | str | None, policy: Policy | None
) -> ListResponse[Any]:
    items: tuple[Any, ...] = ()
    for arg in typing.get_args(model):
        items += typing.get_args(arg) or (arg,)
    if len(items) > 1:
        raise TypeError(
            "SCIM 1.1 resources do not say their type: decode a ListResponse of one model"
        )
    resources = _get(data, "Resources")
    if resources is not None and not isinstance(resources, list):
        raise InvalidValue("Expected an array of resources.", location="$.Resources")
    decoded: list[Any] = []
    for i, item in enumerate(resources or ()):
        if not items:
            decoded.append(item)
            continue
        try:
            decoded.append(decode(item, items[0], context=context, policy=policy))
        except ScimError as error:
            error.location = f"$.Resources[{i}]" + (error.location or "$")[1:]
            raise
    envelope = {
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": _get(data, "totalResults"),
        "startIndex": _get(data, "startIndex"),
        "itemsPerPage": _get(data, "itemsPerPage"),
    }
    result = v2.decode({k: v for k, v in envelope.items() if v is not None}, ListResponse)
    result.resources = decoded
    return result


def encode(
    resource: Any,
    *,
    attributes: Iterable[str] | None = None,
    excluded_attributes: Iterable[str] | None = None,
    full: bool = False,
) -> dict[str, Any]:
    """The SCIM 1.1 JSON object (a dict) for a resource, a ``ListResponse`` or an ``Error``.

    ``attributes`` and ``excluded_attributes`` take 1.1 or 2.0 names and
    project as in SCIM 2.0; ``full`` gives the complete stored form. What 1.1
    cannot carry (``$ref``, ``meta.resourceType``) is left out.

    >>> from scimcore.models import Group, GroupMember
    >>> encode(Group(display_name="Tour Guides",
    ...              members=[GroupMember(value="2819c223", ref="https://x/Users/2819c223")]))
    {'schemas': ['urn:scim:schemas:core:1.0'], 'displayName': 'Tour Guides',
     'members': [{'value': '2819c223'}]}
    """
    if isinstance(resource, Resource):
        model = type(resource)
        names = None if attributes is None else [name_to_v2(n, model) for n in attributes]
        excluded = (
            None
            if excluded_attributes is None
            else [name_to_v2(n, model) for n in excluded_attributes]
        )
        document = v2.encode(resource, attributes=names, excluded_attributes=excluded, full=full)
        return resource_to_v1(document, model)
    if isinstance(resource, ListResponse):
        out: dict[str, Any] = {"schemas": [CORE_SCHEMA]}
        if resource.total_results is not None:
            out["totalResults"] = resource.total_results
        if resource.items_per_page is not None:
            out["itemsPerPage"] = resource.items_per_page
        if resource.start_index is not None:
            out["startIndex"] = resource.start_index
        out["Resources"] = [
            encode(
                item,
                attributes=attributes,
                excluded_attributes=excluded_attributes,
                full=full,
            )
            if isinstance(item, Resource)
            else item
            for item in resource.resources
        ]
        return out
    if isinstance(resource, Error | ScimError):
        return encode_error(resource)
    raise TypeError(f"{type(resource).__name__} has no SCIM 1.1 form")


def encode_error(*errors: Error | ScimError | Mapping[str, Any]) -> dict[str, Any]:
    """The 1.1 ``Errors`` envelope for one or more errors (objects or 2.0 Error JSON).

    1.1 has no ``scimType``: it is kept at the start of the description, in brackets.

    >>> from scimcore.errors import Uniqueness
    >>> encode_error(Uniqueness("User already exists in the database."))
    {'Errors': [{'description': '[uniqueness] User already exists in the database.',
                 'code': '409'}]}
    """
    out = []
    for error in errors:
        if isinstance(error, ScimError):
            status, scim_type, detail = str(error.status), error.scim_type, error.described
        elif isinstance(error, Error):
            status, scim_type, detail = str(error.status), error.scim_type, error.detail or ""
        else:
            status = str(_get(error, "status"))
            scim_type, detail = _get(error, "scimType"), _get(error, "detail") or ""
        description = f"[{scim_type}] {detail}" if scim_type else detail
        out.append({"description": description, "code": status})
    return {"Errors": out}


def decode_error(data: Mapping[str, Any] | str | bytes) -> Error:
    """The 2.0 :class:`~scimcore.models.Error` for a 1.1 ``Errors`` envelope.

    The first error's ``code`` is the status (a string, or a number as Okta
    sends it); the descriptions are joined with ``"; "``; a leading
    ``[scimType]`` (as :func:`encode_error` writes) is read back.

    >>> error = decode_error({"Errors": [{"description": "User already exists.", "code": 409}]})
    >>> error.status, error.detail, type(error.to_exception()).__name__
    ('409', 'User already exists.', 'Conflict')
    """
    raw = _object(_loads(data))
    errors = _get(raw, "Errors")
    if isinstance(errors, Mapping):
        errors = [errors]
    if (
        not isinstance(errors, list)
        or not errors
        or not all(isinstance(e, Mapping) for e in errors)
    ):
        raise InvalidSyntax("Expected {'Errors': [{'description': …, 'code': …}]}.", location="$")
    code = _get(errors[0], "code")
    if isinstance(code, bool) or not isinstance(code, int | str) or not str(code).isdigit():
        raise InvalidValue("An error 'code' is an HTTP status.", location="$.Errors[0].code")
    scim_type: str | None = None
    details = []
    for error in errors:
        text = _get(error, "description")
        text = "" if text is None else str(text)
        if text.startswith("[") and "] " in text:
            tag, _, rest = text[1:].partition("] ")
            if tag.isalnum():
                scim_type = scim_type or tag
                text = rest
        details.append(text)
    status = str(code)
    return Error(status=status, scim_type=scim_type, detail="; ".join(d for d in details if d))
