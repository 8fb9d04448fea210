"""``decode`` and ``encode``: the public entry points of the SCIM 2.0 codec."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from scimcore.codecs.v2._codegen import Context, decoder, encoder
from scimcore.codecs.v2._values import Fault
from scimcore.errors import InvalidSyntax
from scimcore.policy import Policy

__all__ = ["decode", "encode"]

T = TypeVar("T")


def decode(
    data: Mapping[str, Any] | str | bytes,
    model: type[T],
    *,
    context: Context | str | None = None,
    policy: Policy | None = None,
) -> T:
    """Read a SCIM 2.0 JSON document (a mapping or JSON text) into ``model``.

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
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise InvalidSyntax(f"The body is not valid JSON: {exc}.", location="$") from None
    ctx = Context.RESPONSE if context is None else Context(context)
    try:
        result: T = decoder(model, ctx, policy)(data)
    except Fault as fault:
        raise fault.located() from None
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
        return encoder(type(resource), full)(resource)
    from scimcore.codecs.v2._projection import project

    return project(resource, attributes, excluded_attributes, full=full)
