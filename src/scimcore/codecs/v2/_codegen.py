"""Generated decode and encode functions, one per model class (and context).

Theory of operation: for each model class the codec writes the Python source
of a function that reads exactly that class's attributes, compiles it once and
caches it. Characteristics (type, multiValued, required, mutability, returned)
are read from the schema model while the source is written, so a call does no
schema lookup at all.

Decoding a JSON object:

1. Fast path: every key is a canonical wire name (``userName``); each
   attribute is one ``dict.get``.
2. Otherwise the keys are normalised first: matched case-insensitively
   (RFC 7643 §2.1), unknown ones dropped or refused per
   :attr:`Policy.unknown_attributes <scimcore.policy.Policy>`, and two keys that
   differ only in case refused (``invalidSyntax``).
3. Each value is checked against its attribute's type; ``null`` is
   "unassigned" (``None``, or ``[]`` for a multi-valued attribute).
4. Interop (per :class:`~scimcore.policy.Policy`): a single value where a list
   is expected becomes a list; ``"True"``/``"False"`` are booleans; the
   enterprise ``manager`` given as a bare string means ``{"value": …}``.
5. In a request context (creation, replacement) read-only attributes are
   skipped and required ones checked; the response context keeps everything.

A failure raises :class:`~._values.Fault`; each generated function adds its
path segment as the fault passes, so the final error names ``$.emails[0].value``.
"""

from __future__ import annotations

import linecache
import typing
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import attrs

from scimcore.codecs.v2 import _values as values
from scimcore.errors import InvalidSyntax, InvalidValue
from scimcore.models._base import Resource, complex_children, model_attributes
from scimcore.models._messages import Message
from scimcore.policy import Policy
from scimcore.schema import ENTERPRISE_USER_SCHEMA, Attribute, MutabilityKind, ReturnedKind

__all__ = ["Context", "FieldSpec", "decoder", "encoder", "field_specs"]


class Context(StrEnum):
    """What a document is, which decides the rules applied when decoding it.

    - ``RESPONSE`` (the default): a resource as a service provider returns or
      stores it; every attribute is kept, nothing is required.
    - ``CREATION`` (POST) and ``REPLACEMENT`` (PUT): a client's request;
      read-only attributes are ignored, required ones must be present and
      ``schemas`` must name the base schema.
    - ``PATCH``: a value inside a PATCH operation; nothing is dropped (the
      PATCH engine reports read-only targets as ``mutability``) and nothing is
      required.

    >>> Context("creation").is_request, Context.RESPONSE.is_request
    (True, False)
    """

    RESPONSE = "response"
    CREATION = "creation"
    REPLACEMENT = "replacement"
    PATCH = "patch"

    @property
    def is_request(self) -> bool:
        """Whether read-only attributes are ignored and required ones checked."""
        return self in (Context.CREATION, Context.REPLACEMENT)


@attrs.frozen
class FieldSpec:
    """How one field travels: its Python and wire names and what it holds.

    ``kind`` is an :class:`AttributeType` value, or ``"json"`` for a raw JSON
    value carried as is (a PATCH ``value``), or ``"resource"`` for a
    ListResponse item.
    """

    name: str
    wire: str
    kind: str
    multi: bool = False
    required: bool = False
    read_only: bool = False
    returned: ReturnedKind = ReturnedKind.DEFAULT
    child: type | None = None
    attribute: Attribute | None = None


def field_specs(cls: type) -> tuple[FieldSpec, ...]:
    """The fields of a model class, read from its schema (or its ``__scim_fields__``)."""
    custom = cls.__dict__.get("__scim_fields__")
    if custom is not None:
        return tuple(custom)
    children = complex_children(cls)
    specs = []
    for a in model_attributes(cls):
        child = children.get(a.python_name)
        kind = child if isinstance(child, str) else a.type.value
        specs.append(
            FieldSpec(
                name=a.python_name,
                wire=a.name,
                kind=kind,
                multi=a.multi_valued,
                required=a.required,
                read_only=a.mutability is MutabilityKind.READ_ONLY,
                returned=a.returned,
                child=child if isinstance(child, type) else None,
                attribute=a,
            )
        )
    return tuple(specs)


_MISSING = object()
_counter = [0]


def _compile(name: str, source: str, namespace: dict[str, Any]) -> Callable[..., Any]:
    _counter[0] += 1
    filename = f"<scimcore generated {name} #{_counter[0]}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    function: Callable[..., Any] = namespace[name]
    return function


# ----------------------------------------------------------------------------- decode

DecodeFn = Callable[[Any], Any]
_DECODERS: dict[tuple[Any, Context, Policy | None], DecodeFn] = {}


def decoder(model: Any, context: Context, policy: Policy | None) -> DecodeFn:
    """The decode function of ``model`` (JSON object -> instance), generated once.

    ``model`` is a model class, or a ``ListResponse[User | Group]`` alias whose
    arguments are the models of the items.
    """
    key = (model, context, policy)
    found = _DECODERS.get(key)
    if found is None:
        origin = typing.get_origin(model)
        items: tuple[type, ...] = ()
        if origin is not None:
            for arg in typing.get_args(model):
                items += typing.get_args(arg) or (arg,)
            model = origin
        if not (isinstance(model, type) and hasattr(model, "__scim_schema__")):
            raise TypeError(f"{model!r} is not a scimcore model")
        found = _make_decoder(model, context, policy or Policy(), items)
        _DECODERS[key] = found
    return found


def _mapping(value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    raise values.wrong(value, "an object")


def _normaliser(
    cls: type, specs: tuple[FieldSpec, ...], extensions: tuple[str, ...], policy: Policy
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    folded = {spec.wire.casefold(): spec.wire for spec in specs}
    folded.update({urn.casefold(): urn for urn in extensions})
    unknown_error = policy.unknown_attributes == "error"
    urn_error = not policy.unknown_schemas
    is_resource = issubclass(cls, Resource)

    def normalise(data: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in data.items():
            if type(key) is not str:
                raise Fault_(f"Attribute names must be strings, got {key!r}.", InvalidSyntax)
            wire = folded.get(key.casefold())
            if wire is None:
                if is_resource and ":" in key:
                    if urn_error:
                        fault = Fault_(f"Unknown schema extension '{key}'.", InvalidSyntax)
                        fault.parts.append(f"[{key!r}]")
                        raise fault
                    continue
                if unknown_error:
                    fault = Fault_(f"Unknown attribute '{key}'.", InvalidSyntax)
                    fault.parts.append(f".{key}")
                    raise fault
                continue
            if wire in out:
                fault = Fault_(f"Attribute '{wire}' is given twice (names are case-insensitive).")
                fault.error = InvalidSyntax
                fault.parts.append(f".{key}")
                raise fault
            out[wire] = value
        return out

    return normalise


Fault_ = values.Fault


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.indent = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)

    def source(self) -> str:
        return "\n".join(self.lines) + "\n"


def _leaf(kind: str, value: str, policy: Policy) -> str:
    """An expression that checks/converts ``value`` of a leaf kind."""
    if kind in ("string", "reference"):
        return f"({value} if type({value}) is str else _check_string({value}))"
    if kind == "binary":
        return f"_check_binary({value})"
    if kind == "boolean":
        return (
            f"({value} if type({value}) is bool else _to_bool({value}, {policy.string_booleans}))"
        )
    if kind == "integer":
        return f"({value} if type({value}) is int else _to_int({value}))"
    if kind == "decimal":
        return f"_to_float({value})"
    if kind == "dateTime":
        return f"_parse_datetime({value})"
    if kind == "json":
        return value
    raise AssertionError(kind)


def _make_decoder(
    cls: type, context: Context, policy: Policy, items: tuple[type, ...] = ()
) -> DecodeFn:
    specs = field_specs(cls)
    is_resource = issubclass(cls, Resource)
    has_schemas = is_resource or issubclass(cls, Message)
    extensions: tuple[str, ...] = ()
    if is_resource:
        extensions = tuple(getattr(cls, "__scim_extensions__", {}))
    ns: dict[str, Any] = {
        "_cls": cls,
        "_Fault": values.Fault,
        "_mapping": _mapping,
        "_normalise": _normaliser(cls, specs, extensions, policy),
        "_known": frozenset([s.wire for s in specs] + list(extensions)),
        "_check_string": values.check_string,
        "_check_binary": values.check_binary,
        "_to_bool": values.to_bool,
        "_to_int": values.to_int,
        "_to_float": values.to_float,
        "_parse_datetime": values.parse_datetime,
        "_not_list": _not_list_factory(policy),
        "_required": _required,
    }
    w = _Writer()
    w("def decode(data):")
    w.indent += 1
    w("if type(data) is not dict:")
    w("    data = _mapping(data)")
    w("if not _known.issuperset(data):")
    w("    data = _normalise(data)")
    kwargs: list[str] = []
    for index, spec in enumerate(specs):
        if spec.name == "schemas" and has_schemas:
            continue
        if context.is_request and spec.read_only:
            continue
        var = f"f{index}"
        kwargs.append(f"{spec.name}={var}")
        seg = f".{spec.wire}"
        if spec.child is not None:
            ns[f"_dec{index}"] = decoder(spec.child, context, policy)
        elif spec.kind == "resource":
            ns[f"_dec{index}"] = _resource_item_decoder(items, context, policy)
        w(f"v = data.get({spec.wire!r})")
        w("if v is None:")
        w(f"    {var} = {'[]' if spec.multi else 'None'}")
        if spec.required and context.is_request:
            w(f"    _required({seg!r})")
        w("else:")
        w.indent += 1
        if spec.multi:
            w("if type(v) is not list:")
            w(f"    v = _not_list(v, {seg!r})")
            w(f"{var} = []")
            w("i = 0")
            w("try:")
            w("    for i, x in enumerate(v):")
            if spec.child is not None or spec.kind == "resource":
                w(f"        {var}.append(_dec{index}(x))")
            else:
                w(f"        {var}.append({_leaf(spec.kind, 'x', policy)})")
            w("except _Fault as e:")
            w(f"    e.parts.append(f'{seg}[{{i}}]')")
            w("    raise")
            if spec.required and context.is_request:
                w(f"if not {var}:")
                w(f"    _required({seg!r})")
        else:
            if _is_manager(cls, spec) and policy.manager_as_string:
                w("if type(v) is str:")
                w("    v = {'value': v}")
            w("try:")
            if spec.child is not None or spec.kind == "resource":
                w(f"    {var} = _dec{index}(v)")
            else:
                w(f"    {var} = {_leaf(spec.kind, 'v', policy)}")
            w("except _Fault as e:")
            w(f"    e.parts.append({seg!r})")
            w("    raise")
            if spec.required and context.is_request and spec.child is None:
                # An empty string is no value: a required one is missing (RFC 7643 §2.5).
                w(f"if type({var}) is str and not {var}.strip():")
                w(f"    _required({seg!r}, 'empty')")
        w.indent -= 1
    if has_schemas:
        w("ext = {}")
        extension_models = getattr(cls, "__scim_extensions__", {}) if is_resource else {}
        for number, (urn, ext_cls) in enumerate(extension_models.items()):
            ns[f"_ext{number}"] = decoder(ext_cls, context, policy)
            w(f"v = data.get({urn!r})")
            w("if v is not None:")
            w("    try:")
            w(f"        ext[{urn!r}] = _ext{number}(v)")
            w("    except _Fault as e:")
            w(f"        e.parts.append({f'[{urn!r}]'!r})")
            w("        raise")
        ns["_schemas"] = _schemas_rule(cls, context, policy)
        w("schemas = _schemas(data.get('schemas'), ext)")
        kwargs[:0] = ["schemas=schemas", "extensions=ext"] if is_resource else ["schemas=schemas"]
    w(f"return _cls({', '.join(kwargs)})")
    return _compile("decode", w.source(), ns)


def _is_manager(cls: type, spec: FieldSpec) -> bool:
    """Whether ``spec`` is the Enterprise User ``manager`` (``Policy.manager_as_string``)."""
    schema = getattr(cls, "__scim_schema__", None)
    return (
        spec.name == "manager"
        and schema is not None
        and schema.id.casefold() == ENTERPRISE_USER_SCHEMA.casefold()
    )


def _required(seg: str, how: str = "missing") -> None:
    fault = values.Fault(f"The required attribute '{seg[1:]}' is {how}.", InvalidValue)
    fault.parts.append(seg)
    raise fault


def _not_list_factory(policy: Policy) -> Callable[[Any, str], list[Any]]:
    allowed = policy.single_value_as_list

    def not_list(value: Any, seg: str) -> list[Any]:
        if allowed:
            return [value]
        fault = values.wrong(value, "an array (the attribute is multi-valued)")
        fault.parts.append(seg)
        raise fault

    return not_list


def _schemas_rule(
    cls: type[Resource] | type[Message], context: Context, policy: Policy
) -> Callable[[Any, dict[str, object]], list[str]]:
    """The check of ``schemas`` (RFC 7643 §3): a list of URNs naming the base schema."""
    base = cls.__scim_schema__.id
    extensions: tuple[str, ...] = ()
    required_exts: list[str] = []
    if issubclass(cls, Resource):
        extensions = tuple(cls.__scim_extensions__)
        required_exts = [
            ext.schema for ext in cls.__scim_resource_type__.schema_extensions if ext.required
        ]
    declared = {urn.casefold(): urn for urn in (base, *extensions)}
    strict = context.is_request or issubclass(cls, Message)
    tolerate_unknown = policy.unknown_schemas

    def fault(detail: str, seg: str = "", error: type[Any] = InvalidSyntax) -> values.Fault:
        f = values.Fault(detail, error)
        f.parts.append(".schemas" + seg)
        return f

    def rule(raw: Any, ext: dict[str, object]) -> list[str]:
        schemas: list[str] = []
        if raw is None:
            if strict:
                raise fault("The 'schemas' attribute is required.")
        else:
            if type(raw) is not list:
                raise fault("Expected an array of schema URNs.", error=InvalidValue)
            for i, urn in enumerate(raw):
                if type(urn) is not str:
                    raise fault("Expected a schema URN string.", f"[{i}]", InvalidValue)
                if strict:
                    known = declared.get(urn.casefold())
                    if known is None:
                        if tolerate_unknown:
                            continue
                        raise fault(f"Unknown schema '{urn}' for {cls.__name__}.", f"[{i}]")
                    urn = known
                    if urn in schemas:
                        continue
                schemas.append(urn)
            if strict and base not in schemas:
                raise fault(f"'schemas' must contain '{base}'.")
        for urn in ext:
            if urn not in schemas and urn.casefold() not in {s.casefold() for s in schemas}:
                schemas.append(urn)
        if strict:
            for urn in required_exts:
                if urn not in ext:
                    f = values.Fault(f"The required extension '{urn}' is missing.", InvalidValue)
                    f.parts.append(f"[{urn!r}]")
                    raise f
        return schemas

    return rule


def _resource_item_decoder(
    models: tuple[type[Resource], ...], context: Context, policy: Policy
) -> DecodeFn:
    """The decoder of a ListResponse item: the model its ``schemas`` names, or raw JSON."""
    by_urn = {m.__scim_schema__.id.casefold(): m for m in models}

    def decode_item(value: Any) -> Any:
        data = _mapping(value)
        if not by_urn:
            return data
        schemas = data.get("schemas")
        if type(schemas) is not list:
            schemas = []
        for urn in schemas:
            if type(urn) is str and urn.casefold() in by_urn:
                return decoder(by_urn[urn.casefold()], context, policy)(data)
        if len(by_urn) == 1:
            (model,) = by_urn.values()
            return decoder(model, context, policy)(data)
        raise values.Fault("No model for this resource's 'schemas'.", InvalidValue)

    return decode_item


# ----------------------------------------------------------------------------- encode

EncodeFn = Callable[[Any], dict[str, Any]]
_ENCODERS: dict[tuple[type, bool], EncodeFn] = {}


def encoder(cls: type, full: bool = False) -> EncodeFn:
    """The encode function of ``cls`` (instance -> JSON object), generated once.

    ``full`` keeps every attribute; otherwise ``returned: never`` and
    ``returned: request`` ones are left out.
    """
    key = (cls, full)
    found = _ENCODERS.get(key)
    if found is None:
        found = _make_encoder(cls, full)
        _ENCODERS[key] = found
    return found


def _encode_any(value: Any, full: bool) -> Any:
    """Encode a model instance found where raw JSON may be (a ListResponse item)."""
    if attrs.has(type(value)) and hasattr(type(value), "__scim_schema__"):
        return encoder(type(value), full)(value)
    return value


def _encode_extensions(extensions: dict[str, object], out: dict[str, Any], full: bool) -> None:
    for urn, value in extensions.items():
        if value is None:
            continue
        if isinstance(value, Mapping):
            out[urn] = dict(value)
        else:
            out[urn] = encoder(type(value), full)(value)


def _schemas_out(schemas: list[str], extensions: dict[str, object]) -> list[str]:
    out = list(schemas)
    for urn, value in extensions.items():
        if value is not None and urn not in out:
            out.append(urn)
    return out


def _make_encoder(cls: type, full: bool) -> EncodeFn:
    specs = field_specs(cls)
    is_resource = issubclass(cls, Resource)
    has_schemas = is_resource or issubclass(cls, Message)
    ns: dict[str, Any] = {
        "_format_datetime": values.format_datetime,
        "_encode_extensions": _encode_extensions,
        "_schemas_out": _schemas_out,
        "_encode_any": _encode_any,
        "_full": full,
    }
    w = _Writer()
    w("def encode(o):")
    w.indent += 1
    w("d = {}")
    if is_resource:
        w("ext = o.extensions")
        w("s = _schemas_out(o.schemas, ext) if ext else o.schemas")
        w("if s:")
        w("    d['schemas'] = list(s)")
    elif has_schemas:
        w("if o.schemas:")
        w("    d['schemas'] = list(o.schemas)")
    tail: list[str] = []
    for index, spec in enumerate(specs):
        if spec.name == "schemas" and has_schemas:
            continue
        if not full and spec.returned in (ReturnedKind.NEVER, ReturnedKind.REQUEST):
            continue
        if spec.child is not None:
            ns[f"_enc{index}"] = encoder(spec.child, full)
            convert = f"_enc{index}({{}})"
        elif spec.kind == "dateTime":
            convert = "_format_datetime({})"
        elif spec.kind in ("json", "resource"):
            convert = "_encode_any({}, _full)"
        else:
            convert = "{}"
        lines = tail if (is_resource and spec.name == "meta") else w.lines
        pad = "    "
        lines.append(f"{pad}v = o.{spec.name}")
        if spec.multi:
            lines.append(f"{pad}if v:")
            item = convert.format("x")
            expr = "list(v)" if item == "x" else f"[{item} for x in v]"
            lines.append(f"{pad}    d[{spec.wire!r}] = {expr}")
        else:
            lines.append(f"{pad}if v is not None:")
            lines.append(f"{pad}    d[{spec.wire!r}] = {convert.format('v')}")
    if is_resource:
        w("if ext:")
        w("    _encode_extensions(ext, d, _full)")
        w.lines.extend(tail)
    w("return d")
    return _compile("encode", w.source(), ns)
