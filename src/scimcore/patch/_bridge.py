"""Where the PATCH engine meets the codec, the models and the filter module.

PATCH values are decoded with the codec's own pieces (the generated decoder of
each complex model class in the ``PATCH`` context, and the codec's leaf checks
for the RFC 7643 §2.3 types), so a value is accepted or refused exactly as in a
POST body, with the same error class and detail; only the ``location`` is
re-rooted under the operation (``$.Operations[0].value[1].value``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from scimcore.codecs.v2 import _values as values
from scimcore.codecs.v2._codegen import Context, decoder
from scimcore.filter import Filter, PatchPath, _parser, compile_value_filter
from scimcore.models._base import complex_children
from scimcore.policy import Policy
from scimcore.schema import Attribute, AttributeRef, AttributeType

__all__ = [
    "decode_sub_value",
    "decode_value",
    "element_matcher",
    "extension_class",
    "parse_path",
]


def parse_path(text: str, policy: Policy) -> PatchPath:
    """The filter module's PATCH path parser."""
    return _parser.parse_path(text, policy=policy)


def extension_class(model: type, urn: str) -> type:
    """The model class of an extension the resource type declares."""
    extensions: dict[str, type] = model.__scim_extensions__  # type: ignore[attr-defined]
    return extensions[urn]


def _container_class(model: type, ref: AttributeRef) -> type:
    base = model.__scim_schema__.id.casefold()  # type: ignore[attr-defined]
    if ref.common or ref.schema.id.casefold() == base:
        return model
    for urn, cls in model.__scim_extensions__.items():  # type: ignore[attr-defined]
        if urn.casefold() == ref.schema.id.casefold():
            return cls  # type: ignore[no-any-return]
    raise KeyError(ref.schema.id)


@cache
def _child(container: type, python_name: str) -> type | None:
    child = complex_children(container).get(python_name)
    return child if isinstance(child, type) else None


def _leaf_decoder(attribute: Attribute, policy: Policy) -> Callable[[Any], Any]:
    kind = attribute.type
    if kind is AttributeType.STRING or kind is AttributeType.REFERENCE:
        return lambda v: v if type(v) is str else values.check_string(v)
    if kind is AttributeType.BINARY:
        return values.check_binary
    if kind is AttributeType.BOOLEAN:
        string_booleans = policy.string_booleans
        return lambda v: v if type(v) is bool else values.to_bool(v, string_booleans)
    if kind is AttributeType.INTEGER:
        return lambda v: v if type(v) is int else values.to_int(v)
    if kind is AttributeType.DECIMAL:
        return lambda v: v if type(v) is float else values.to_float(v)
    if kind is AttributeType.DATETIME:
        return values.parse_datetime
    raise AssertionError(kind)


def _as_is(value: Any) -> Any:
    return value


_DECODERS: dict[tuple[type, str, str, Policy], Callable[[Any], Any]] = {}


def _single_decoder(
    model: type, ref: AttributeRef, attribute: Attribute, policy: Policy
) -> Callable[[Any], Any]:
    key = (model, ref.schema.id, attribute.name, policy)
    found = _DECODERS.get(key)
    if found is None:
        if attribute.is_complex:
            child = _child(_container_class(model, ref), attribute.python_name)
            if child is None:  # a field that carries raw JSON
                return _as_is
            found = decoder(child, Context.PATCH, policy)
        else:
            found = _leaf_decoder(attribute, policy)
        _DECODERS[key] = found
    return found


def _decode_multi(one: Callable[[Any], Any], raw: Any, policy: Policy) -> list[Any]:
    if type(raw) is not list:
        if not policy.single_value_as_list:
            raise values.wrong(raw, "an array (the attribute is multi-valued)")
        raw = [raw]
    out = []
    for i, item in enumerate(raw):
        try:
            if item is None:
                raise values.wrong(item, "a value")
            out.append(one(item))
        except values.Fault as fault:
            fault.parts.append(f"[{i}]")
            raise
    return out


def _located(fault: values.Fault, location: str) -> Exception:
    return fault.error(fault.detail, location=location + "".join(reversed(fault.parts)))


def decode_value(
    model: type,
    ref: AttributeRef,
    raw: Any,
    *,
    location: str,
    policy: Policy,
    element: bool = False,
) -> Any:
    """Decode the JSON ``raw`` for a top-level attribute as the codec does.

    A multi-valued attribute gives a list, unless ``element`` asks for one of its
    values. Errors are the codec's, located under ``location``.
    """
    attribute = ref.attribute
    one = _single_decoder(model, ref, attribute, policy)
    try:
        if attribute.multi_valued and not element:
            return _decode_multi(one, raw, policy)
        return one(raw)
    except values.Fault as fault:
        raise fault.error(
            fault.detail, location=location + "".join(reversed(fault.parts))
        ) from None


def decode_sub_value(
    model: type,
    ref: AttributeRef,
    sub: Attribute,
    raw: Any,
    *,
    location: str,
    policy: Policy,
) -> Any:
    """Decode the JSON ``raw`` for a sub-attribute of a complex attribute."""
    one = _leaf_decoder(sub, policy)
    try:
        if sub.multi_valued:
            return _decode_multi(one, raw, policy)
        return one(raw)
    except values.Fault as fault:
        raise fault.error(
            fault.detail, location=location + "".join(reversed(fault.parts))
        ) from None


_MATCHERS: dict[tuple[str, str, Filter, Policy], Callable[[Any], bool]] = {}


def element_matcher(
    model: type, ref: AttributeRef, node: Filter, policy: Policy
) -> Callable[[Any], bool]:
    """A predicate over one value of ``ref``'s attribute: the filter module's evaluator.

    Compiled once per (attribute, filter, policy).
    """
    key = (ref.schema.id, ref.attribute.name, node, policy)
    found = _MATCHERS.get(key)
    if found is None:
        if len(_MATCHERS) > 4096:
            _MATCHERS.clear()
        found = compile_value_filter(node, ref.attribute, policy=policy)
        _MATCHERS[key] = found
    return found
