"""The cattrs converter of the SCIM 2.0 wire format.

One converter per configuration (request context, policy, full output), made
once by :func:`make_converter` and cached by :func:`converter_for`;
:func:`~scimcore.codecs.v2.decode` and :func:`~scimcore.codecs.v2.encode` go
through it.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import cattrs

from scimcore.codecs.v2._codegen import Context, decoder, encoder
from scimcore.codecs.v2._values import Fault, format_datetime, parse_datetime
from scimcore.models._base import ScimModel
from scimcore.policy import Policy

__all__ = ["ScimConverter", "converter_for", "make_converter"]


def is_model(cls: Any) -> bool:
    """Whether ``cls`` is a scimcore model class or a ``ListResponse[...]`` alias."""
    origin = typing.get_origin(cls) or cls
    return isinstance(origin, type) and issubclass(origin, ScimModel)


class ScimConverter(cattrs.Converter):
    """A :class:`cattrs.Converter` that reads and writes SCIM 2.0 JSON.

    ``context``, ``policy`` and ``full`` are fixed for the converter's life;
    they are what its generated hooks were built for.

    >>> make_converter(context="replacement").context
    <Context.REPLACEMENT: 'replacement'>
    """

    def __init__(self, *, context: Context, policy: Policy | None, full: bool) -> None:
        super().__init__()
        self.context = context
        self.policy = policy
        self.full = full


def _located(function: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def hook(value: Any, _type: Any) -> Any:
        try:
            return function(value)
        except Fault as fault:
            raise fault.located() from None

    return hook


def _datetime_hook(value: Any, _type: Any) -> datetime:
    try:
        return parse_datetime(value)
    except Fault as fault:
        raise fault.located() from None


def make_converter(
    *,
    context: Context | str = Context.RESPONSE,
    policy: Policy | None = None,
    full: bool = False,
) -> ScimConverter:
    """A new converter for SCIM 2.0 JSON; build it once and keep it.

    Hooks, registered simplest first:

    - structure ``datetime``: an xsd:dateTime string to an aware datetime
      (:func:`~scimcore.codecs.v2._values.parse_datetime`; no offset means UTC);
    - unstructure ``datetime``: RFC 3339 text, ``Z`` for UTC
      (:func:`~scimcore.codecs.v2._values.format_datetime`);
    - structure factory for every model class (resources, extensions, complex
      types, messages) and ``ListResponse[...]`` aliases: the generated decode
      function for this ``context`` and ``policy``. It matches attribute
      names case-insensitively, checks each value against its attribute's
      type, skips read-only attributes and checks required ones in request
      contexts, checks ``schemas``, reads extensions under their URN, and
      raises :class:`~scimcore.errors.InvalidValue` or
      :class:`~scimcore.errors.InvalidSyntax` with the JSON path of the fault;
    - unstructure factory for every model class: the generated encode
      function: wire names (camelCase, ``$ref``, extension URNs), unassigned
      attributes left out, ``returned: never``/``request`` ones left out unless
      ``full``.

    >>> from scimcore.models import Group
    >>> converter = make_converter(context="creation")
    >>> converter.structure({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
    ...                      "id": "ignored", "displayName": "Admins"}, Group).id is None
    True
    >>> converter.unstructure(Group(display_name="Admins"))["displayName"]
    'Admins'
    """
    ctx = Context(context)
    converter = ScimConverter(context=ctx, policy=policy, full=full)
    converter.register_structure_hook(datetime, _datetime_hook)
    converter.register_unstructure_hook(datetime, format_datetime)
    converter.register_structure_hook_factory(
        is_model, lambda cls: _located(decoder(cls, ctx, policy))
    )
    converter.register_unstructure_hook_factory(is_model, lambda cls: encoder(cls, full))
    return converter


@cache
def converter_for(
    context: Context = Context.RESPONSE, policy: Policy | None = None, full: bool = False
) -> ScimConverter:
    """The shared converter for this configuration, made on first use.

    >>> converter_for() is converter_for()
    True
    """
    return make_converter(context=context, policy=policy, full=full)
