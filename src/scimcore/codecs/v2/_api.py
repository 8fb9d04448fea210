"""``decode`` and ``encode``, and their one-attribute twins for PATCH values."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from scimcore.codecs.v2._codegen import Context, decoder, encoder
from scimcore.codecs.v2._converter import converter_for
from scimcore.codecs.v2._values import (
    Fault,
    check_binary,
    check_string,
    format_datetime,
    parse_datetime,
    to_bool,
    to_float,
    to_int,
)
from scimcore.errors import InvalidPath, InvalidSyntax
from scimcore.models._base import Resource, complex_children
from scimcore.policy import Policy
from scimcore.schema import Attribute, AttributeRef

__all__ = ["decode", "decode_value", "encode", "encode_value"]

T = TypeVar("T")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _loads(data: str | bytes | bytearray) -> Any:
    try:
        return json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise InvalidSyntax(f"The body is not valid JSON: {exc}.", location="$") from None


def decode(
    data: Mapping[str, Any] | str | bytes,
    model: type[T],
    *,
    context: Context | str | None = None,
    policy: Policy | None = None,
) -> T:
    """Read a SCIM 2.0 JSON document (a mapping, or JSON text) into ``model``.

    ``context`` defaults to :attr:`Context.RESPONSE`: the whole resource as a
    response or a store carries it. Bad input raises
    :class:`~scimcore.errors.InvalidValue` or :class:`~scimcore.errors.InvalidSyntax`
    with the JSON path of the fault.

    >>> from scimcore.models import User
    >>> decode('{"userName": 5}', User)
    Traceback (most recent call last):
    ...
    scimcore.errors.InvalidValue: Expected a string, got a number. (at $.userName)
    """
    if isinstance(data, str | bytes | bytearray):
        data = _loads(data)
    ctx = Context.RESPONSE if context is None else Context(context)
    result: T = converter_for(ctx, policy).structure(data, model)
    return result


def encode(
    resource: Any,
    *,
    attributes: Iterable[str] | None = None,
    excluded_attributes: Iterable[str] | None = None,
    full: bool = False,
) -> dict[str, Any]:
    """The SCIM 2.0 JSON object (a dict) for a model instance.

    ``returned: never`` attributes (``password``) and ``returned: request`` ones
    are left out unless ``full`` is true, which gives the complete stored form.
    ``attributes`` and ``excluded_attributes`` project the result as RFC 7644
    §3.4.2.5 and §3.9 say.

    >>> from scimcore.models import User
    >>> encode(User(user_name="bjensen", password="t1meMa$heen"))
    {'schemas': ['urn:ietf:params:scim:schemas:core:2.0:User'], 'userName': 'bjensen'}
    """
    if attributes is None and excluded_attributes is None:
        result: dict[str, Any] = encoder(type(resource), full)(resource)
        return result
    from scimcore.codecs.v2._projection import project

    return project(resource, attributes, excluded_attributes, full=full)


def _target(model: type[Resource], path: str | AttributeRef) -> tuple[Attribute, Any]:
    """The attribute a path names, and the model class of its complex values (if any)."""
    if isinstance(path, str):
        ref = model.scim_registry().resolve(path, resource_type=model.__scim_resource_type__)
        if ref is None:
            raise InvalidPath(f"No attribute '{path}' in {model.__name__}.")
    else:
        ref = path
    base = model.__scim_schema__.id
    container: Any = model
    if not (ref.common or ref.schema.id == base):
        for urn, ext in model.__scim_extensions__.items():
            if urn.casefold() == ref.schema.id.casefold():
                container = ext
                break
        else:
            raise InvalidPath(f"{model.__name__} has no extension '{ref.schema.id}'.")
    for attribute in ref.chain:
        child = complex_children(container).get(attribute.python_name)
        container = child
    return ref.target, container


def _leaf(attribute: Attribute, policy: Policy) -> Callable[[Any], Any]:
    kind = attribute.type.value
    if kind in ("string", "reference"):
        return check_string
    if kind == "binary":
        return check_binary
    if kind == "boolean":
        flag = policy.string_booleans
        return lambda v: to_bool(v, flag)
    if kind == "integer":
        return to_int
    if kind == "decimal":
        return to_float
    return parse_datetime


def decode_value(
    value: Any,
    model: type[Resource],
    path: str | AttributeRef,
    *,
    element: bool = False,
    context: Context | str = Context.PATCH,
    policy: Policy | None = None,
    location: str = "$.value",
) -> Any:
    """The Python value of one attribute of ``model`` (named by a path or an
    :class:`~scimcore.schema.AttributeRef`), read from its JSON ``value``.

    A multi-valued attribute gives a list (a single value becomes a
    one-element list when the policy allows); with ``element=True`` the value
    is one element of it. ``null`` gives ``None`` (or ``[]``).

    >>> from scimcore.models import User
    >>> decode_value([{"value": "a@example.com", "primary": "True"}], User, "emails")
    [Email(value='a@example.com', display=None, type=None, primary=True)]
    >>> decode_value("2011-08-01T18:29:49Z", User, "meta.created").year
    2011
    """
    policy = policy or Policy()
    ctx = Context(context)
    attribute, child = _target(model, path)
    one = decoder(child, ctx, policy) if isinstance(child, type) else _leaf(attribute, policy)
    try:
        if value is None:
            return [] if attribute.multi_valued and not element else None
        if attribute.multi_valued and not element:
            if not isinstance(value, list):
                if not policy.single_value_as_list:
                    raise Fault("Expected an array (the attribute is multi-valued).")
                value = [value]
            out = []
            for i, item in enumerate(value):
                try:
                    out.append(one(item))
                except Fault as fault:
                    fault.parts.append(f"[{i}]")
                    raise
            return out
        return one(value)
    except Fault as fault:
        error = fault.located()
        error.location = location + (error.location or "$")[1:]
        raise error from None


def encode_value(value: Any, model: type[Resource], path: str | AttributeRef) -> Any:
    """The JSON form of one attribute's Python value (the inverse of :func:`decode_value`).

    >>> from scimcore.models import User, Name
    >>> encode_value(Name(given_name="Barbara"), User, "name")
    {'givenName': 'Barbara'}
    """
    attribute, child = _target(model, path)

    def one(item: Any) -> Any:
        if isinstance(child, type):
            return encoder(child, True)(item)
        if attribute.type.value == "dateTime":
            return format_datetime(item)
        return item

    if isinstance(value, list):
        return [one(item) for item in value]
    return None if value is None else one(value)
