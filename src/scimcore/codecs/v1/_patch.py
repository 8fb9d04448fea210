"""SCIM 1.1 PATCH (Protocol 1.1 §3.3.2) as a SCIM 2.0 ``PatchOp`` for the one PATCH engine.

Theory of operation: a 1.1 PATCH body is a *partial resource*. It is read in
the order the 1.1 text gives, into an ordered list of 2.0 operations:

1. every name in ``meta.attributes`` -> ``remove name`` (first, as 1.1 says);
2. every multi-valued element marked ``"operation": "delete"`` ->
   ``remove attr[value eq "…"]``, or, when the element has no ``value``,
   ``remove attr[a eq "…" and b eq "…"]`` over every sub-attribute it gives
   (so only an exact match is deleted); ignored when ``attr`` is also listed
   in ``meta.attributes`` (it is removed once);
3. every other attribute is merged: a singular simple attribute ->
   ``replace``; a complex one -> one ``replace`` per sub-attribute given (the
   others are kept); ``null`` -> ``remove``; a multi-valued element is
   *added* when no element has its ``value`` and *merged* into the element
   that has it otherwise (one ``replace attr[value eq "…"].sub`` per
   sub-attribute given). Elements without a ``value`` (``addresses``) are
   added, as 1.1 says they cannot be merged.

Read-only attributes (``id``, ``meta``, ``groups``) in the body are ignored, as
1.1 says for PUT; so are sub-attributes that cannot change any more (a
read-only one, or an immutable one that already has a value, such as a group
member's ``display``). Whether an element "has" a value is decided on the
``current`` resource when it is given (the service always gives it); without
it every element is an ``add`` (which the engine treats as a no-op when an
equal element is already there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scimcore.codecs.v1._filter import NotExpressibleIn11
from scimcore.codecs.v1._translate import (
    CORE_SCHEMA,
    _find,
    _value_to_v1,
    name_to_v1,
    name_to_v2,
    urn_to_v1,
    urn_to_v2,
    value_to_v2,
)
from scimcore.errors import InvalidPath, InvalidSyntax, InvalidValue
from scimcore.filter import And, AttrPath, Compare, Filter, fold, parse_path
from scimcore.filter._visit import equality_terms
from scimcore.models import PatchOp, PatchOperation, Resource
from scimcore.policy import Policy
from scimcore.schema import Attribute, AttributeType, MutabilityKind

__all__ = ["decode_patch", "encode_patch"]

_FIXED = (MutabilityKind.READ_ONLY,)


def _get(data: Mapping[str, Any], name: str) -> Any:
    for key, value in data.items():
        if isinstance(key, str) and key.casefold() == name.casefold():
            return value
    return None


def _literal(value: Any) -> bool:
    return value is None or isinstance(value, str | bool | int | float)


def _selector(attribute: Attribute, element: Mapping[str, Any], location: str) -> str:
    """The value filter that selects ``element``: by ``value``, or by every sub-attribute."""
    value = _get(element, "value")
    if attribute.sub_attribute("value") is not None and value is not None:
        if not _literal(value):
            raise InvalidValue("A 'value' must be a string, number or boolean.", location=location)
        return str(Compare(AttrPath(None, "value", None), "eq", value))
    terms: list[Filter] = []
    for key, item in element.items():
        if not isinstance(key, str) or key.casefold() == "operation" or item is None:
            continue
        if attribute.sub_attribute(key) is None:
            continue
        if not _literal(item):
            raise InvalidValue(f"'{key}' must be a simple value.", location=f"{location}.{key}")
        terms.append(Compare(AttrPath(None, key, None), "eq", item))
    if not terms:
        raise InvalidValue("A value to delete must say which value it is.", location=location)
    return str(terms[0] if len(terms) == 1 else And(tuple(terms)))


def _container(resource: Any, schema_id: str) -> Any:
    if schema_id == type(resource).__scim_schema__.id:
        return resource
    return resource.extensions.get(schema_id)


def _equal(attribute: Attribute, a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str) and not attribute.case_exact:
        return fold(a) == fold(b)
    return bool(a == b) and type(a) is type(b)


def _existing(current: Any, schema_id: str, attribute: Attribute, value: Any) -> Any:
    """The element of ``current``'s multi-valued ``attribute`` whose ``value`` is ``value``."""
    if current is None:
        return None
    container = _container(current, schema_id)
    sub = attribute.sub_attribute("value")
    if container is None or sub is None:
        return None
    for element in getattr(container, attribute.python_name, None) or ():
        if _equal(sub, getattr(element, "value", None), value):
            return element
    return None


class _Reader:
    def __init__(self, model: type[Resource], current: Any, policy: Policy) -> None:
        self.model = model
        self.current = current
        self.policy = policy
        self.removes: list[dict[str, Any]] = []
        self.deletes: list[dict[str, Any]] = []
        self.merges: list[dict[str, Any]] = []
        self.removed: set[str] = set()

    def path(self, schema_id: str, attribute: Attribute) -> str:
        if schema_id == self.model.__scim_schema__.id:
            return attribute.name
        return f"{schema_id}:{attribute.name}"

    def meta_attributes(self, names: Any) -> None:
        if names is None:
            return
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InvalidValue(
                "'meta.attributes' must be an array of attribute names.",
                location="$.meta.attributes",
            )
        for name in names:
            path = name_to_v2(name, self.model)
            self.removes.append({"op": "remove", "path": path})
            self.removed.add(path.casefold())

    def unknown(self, key: str, location: str) -> None:
        if self.policy.unknown_attributes == "error":
            raise InvalidSyntax(f"Unknown attribute '{key}'.", location=location)

    def members(self, schema_id: str, data: Mapping[str, Any], location: str) -> None:
        for key, value in data.items():
            if not isinstance(key, str):
                raise InvalidSyntax(f"Attribute names must be strings, got {key!r}.", location="$")
            folded = key.casefold()
            if schema_id == self.model.__scim_schema__.id and folded in ("schemas", "meta"):
                continue
            found = _find(self.model, schema_id, key)
            if found is None or (found[0] != schema_id):
                self.unknown(key, f"{location}.{key}")
                continue
            _, attribute = found
            if attribute.mutability in _FIXED:
                continue
            self.attribute(schema_id, attribute, value, f"{location}.{key}")

    def attribute(self, schema_id: str, attribute: Attribute, value: Any, location: str) -> None:
        path = self.path(schema_id, attribute)
        value = value_to_v2(value, schema_id, attribute)
        if value is None:
            if path.casefold() not in self.removed:
                self.merges.append({"op": "remove", "path": path})
            return
        if attribute.multi_valued:
            self.multi(schema_id, attribute, path, value, location)
        elif attribute.type is AttributeType.COMPLEX and isinstance(value, Mapping):
            for key, item in value.items():
                sub = attribute.sub_attribute(key) if isinstance(key, str) else None
                if sub is None:
                    self.unknown(str(key), f"{location}.{key}")
                    continue
                if sub.mutability in _FIXED:
                    continue
                if item is None:
                    self.merges.append({"op": "remove", "path": f"{path}.{sub.name}"})
                else:
                    self.merges.append(
                        {"op": "replace", "path": f"{path}.{sub.name}", "value": item}
                    )
        else:
            self.merges.append({"op": "replace", "path": path, "value": value})

    def multi(
        self, schema_id: str, attribute: Attribute, path: str, value: Any, location: str
    ) -> None:
        if not isinstance(value, list):
            if not self.policy.single_value_as_list:
                self.merges.append({"op": "add", "path": path, "value": value})
                return
            value = [value]
        adds: list[Any] = []
        listed = path.casefold() in self.removed
        for i, element in enumerate(value):
            where = f"{location}[{i}]"
            if not isinstance(element, Mapping):
                adds.append(element)
                continue
            operation = _get(element, "operation")
            element = {
                k: v
                for k, v in element.items()
                if not (isinstance(k, str) and k.casefold() == "operation")
            }
            if operation is not None:
                if not (isinstance(operation, str) and operation.casefold() == "delete"):
                    raise InvalidValue(
                        f"Unknown operation {operation!r}; SCIM 1.1 defines only 'delete'.",
                        location=f"{where}.operation",
                    )
                if not listed:
                    selector = _selector(attribute, element, where)
                    self.deletes.append({"op": "remove", "path": f"{path}[{selector}]"})
                continue
            key = _get(element, "value")
            existing = None
            if key is not None and not listed and _literal(key):
                existing = _existing(self.current, schema_id, attribute, key)
            if existing is None:
                adds.append(element)
                continue
            selector = _selector(attribute, element, where)
            for name, item in element.items():
                sub = attribute.sub_attribute(name) if isinstance(name, str) else None
                if sub is None or sub.name == "value" or sub.mutability in _FIXED:
                    continue
                old = getattr(existing, sub.python_name, None)
                if sub.mutability is MutabilityKind.IMMUTABLE and old is not None:
                    continue
                target = f"{path}[{selector}].{sub.name}"
                if item is None:
                    self.merges.append({"op": "remove", "path": target})
                else:
                    self.merges.append({"op": "replace", "path": target, "value": item})
        if adds:
            self.merges.append({"op": "add", "path": path, "value": adds})


def decode_patch(
    data: Mapping[str, Any],
    model: type[Resource],
    *,
    current: Any = None,
    policy: Policy | None = None,
) -> PatchOp:
    """The SCIM 2.0 :class:`~scimcore.models.PatchOp` a SCIM 1.1 PATCH body stands for.

    Apply it with :func:`scimcore.patch.apply_patch` (or let the service do it).
    ``current`` is the resource the PATCH applies to: with it a multi-valued
    element whose ``value`` is already there is merged into that element
    rather than added again. An empty result (a body that changes nothing)
    has no operations.

    >>> from scimcore.models import Group
    >>> body = {"schemas": ["urn:scim:schemas:core:1.0"],
    ...         "members": [{"value": "id1", "operation": "delete"},
    ...                     {"value": "id2", "display": "James Smith"}]}
    >>> [(o.op, o.path, o.value) for o in decode_patch(body, Group).operations]
    [('remove', 'members[value eq "id1"]', None),
     ('add', 'members', [{'value': 'id2', 'display': 'James Smith'}])]
    """
    if not isinstance(data, Mapping):
        raise InvalidSyntax("A SCIM 1.1 PATCH body is a JSON object (a partial resource).")
    reader = _Reader(model, current, policy or Policy())
    meta = _get(data, "meta")
    if meta is not None:
        if not isinstance(meta, Mapping):
            raise InvalidValue("'meta' must be an object.", location="$.meta")
        reader.meta_attributes(_get(meta, "attributes"))
    base = model.__scim_schema__.id
    core: dict[str, Any] = {}
    for key, value in data.items():
        urn = urn_to_v2(key, model) if isinstance(key, str) else key
        if isinstance(urn, str) and urn in model.__scim_extensions__:
            if value is None:
                reader.merges.append({"op": "remove", "path": urn})
            elif not isinstance(value, Mapping):
                raise InvalidValue("An extension is a JSON object.", location=f"$[{key!r}]")
            else:
                reader.members(urn, value, f"$[{key!r}]")
        elif isinstance(key, str) and key.casefold().startswith("urn:") and ":" in key[4:]:
            if not reader.policy.unknown_schemas:
                raise InvalidSyntax(f"Unknown schema extension '{key}'.", location=f"$[{key!r}]")
        else:
            core[key] = value
    reader.members(base, core, "$")
    operations = reader.removes + reader.deletes + reader.merges
    return PatchOp(operations=[PatchOperation(**op) for op in operations])


# ----------------------------------------------------------------------------- 2.0 -> 1.1


class _Writer:
    """Composes 2.0 operations into one 1.1 body, refusing what would change meaning."""

    def __init__(self, model: type[Resource]) -> None:
        self.model = model
        self.body: dict[str, Any] = {}
        self.removed: list[str] = []
        self.written: set[tuple[str, str]] = set()
        self.extensions: set[str] = set()

    def container(self, schema_id: str) -> dict[str, Any]:
        if schema_id == self.model.__scim_schema__.id:
            return self.body
        self.extensions.add(schema_id)
        found: dict[str, Any] = self.body.setdefault(urn_to_v1(schema_id), {})
        return found

    def name(self, schema_id: str, attribute: Attribute, sub: str | None = None) -> str:
        text = attribute.name if sub is None else f"{attribute.name}.{sub}"
        if schema_id == self.model.__scim_schema__.id:
            return name_to_v1(text, self.model)
        return name_to_v1(f"{schema_id}:{text}", self.model)

    def remove(self, schema_id: str, attribute: Attribute, sub: str | None) -> None:
        if (schema_id, attribute.name) in self.written:
            raise NotExpressibleIn11(
                f"'{attribute.name}' is removed after it is set; SCIM 1.1 removes first."
            )
        self.removed.append(self.name(schema_id, attribute, sub))

    def delete(self, schema_id: str, attribute: Attribute, node: Filter) -> None:
        element = _element_of(attribute, node)
        if (schema_id, attribute.name) in self.written:
            raise NotExpressibleIn11(
                f"A value of '{attribute.name}' is removed after one is added; "
                "SCIM 1.1 deletes first."
            )
        element["operation"] = "delete"
        self.container(schema_id).setdefault(attribute.name, []).append(element)

    def set(
        self, schema_id: str, attribute: Attribute, sub: str | None, value: Any, replace: bool
    ) -> None:
        container = self.container(schema_id)
        value = _value_to_v1(value, schema_id, attribute) if sub is None else value
        if value is None or value == []:
            if replace or value is None:
                self.remove(schema_id, attribute, sub)
            return
        self.written.add((schema_id, attribute.name))
        if sub is not None:
            if attribute.multi_valued:
                raise NotExpressibleIn11(
                    f"'{attribute.name}.{sub}' sets a sub-attribute of every value; "
                    "SCIM 1.1 cannot say that."
                )
            wire = self.name(schema_id, attribute, sub).rsplit(".", 1)[1]
            container.setdefault(attribute.name, {})[wire] = value
        elif attribute.multi_valued:
            values = value if isinstance(value, list) else [value]
            if replace:
                self.removed.append(self.name(schema_id, attribute))
            container.setdefault(attribute.name, []).extend(values)
        elif attribute.is_complex and isinstance(value, Mapping):
            container.setdefault(attribute.name, {}).update(value)
        else:
            container[attribute.name] = value

    def merge(
        self, schema_id: str, attribute: Attribute, node: Filter, sub: str, value: Any
    ) -> None:
        element = _element_of(attribute, node, by_value_only=True)
        if value is None:
            raise NotExpressibleIn11("SCIM 1.1 cannot remove a sub-attribute of one value.")
        wire = self.name(schema_id, attribute, sub).rsplit(".", 1)[1]
        element[wire] = value
        self.written.add((schema_id, attribute.name))
        self.container(schema_id).setdefault(attribute.name, []).append(element)


def _element_of(
    attribute: Attribute, node: Filter, *, by_value_only: bool = False
) -> dict[str, Any]:
    """The 1.1 value object a 2.0 value filter stands for, or NotExpressibleIn11."""
    terms = equality_terms(node)
    if terms is None:
        raise NotExpressibleIn11(f"SCIM 1.1 selects values by equality only, not '{node}'.")
    element: dict[str, Any] = {}
    for term in terms:
        sub = attribute.sub_attribute(term.path.name)
        if sub is None:
            raise NotExpressibleIn11(f"'{attribute.name}' has no '{term.path.name}'.")
        element[sub.name] = term.value
    has_value = attribute.sub_attribute("value") is not None
    if has_value and set(element) != {"value"}:
        raise NotExpressibleIn11(
            f"SCIM 1.1 selects a value of '{attribute.name}' by its 'value' only, not '{node}'."
        )
    if by_value_only and not has_value:
        raise NotExpressibleIn11(f"SCIM 1.1 cannot change one value of '{attribute.name}'.")
    return element


def encode_patch(patch: PatchOp | Mapping[str, Any], model: type[Resource]) -> dict[str, Any]:
    """The SCIM 1.1 PATCH body (a partial resource) for a SCIM 2.0 ``PatchOp``.

    The operations are composed into one body: removes into ``meta.attributes``,
    a remove of one value (``members[value eq "x"]``) into ``"operation":
    "delete"``, adds and replaces into the body (a replace of a multi-valued
    attribute also lists it in ``meta.attributes``). What 1.1 cannot say raises
    :class:`NotExpressibleIn11`: a value selected by anything but its ``value``,
    a sub-attribute set on every value, or operations whose order 1.1 would
    change (a remove after an add of the same attribute).

    >>> from scimcore.models import Group
    >>> encode_patch({"Operations": [
    ...     {"op": "remove", "path": 'members[value eq "id1"]'},
    ...     {"op": "add", "path": "members", "value": [{"value": "id2"}]}]}, Group)
    {'schemas': ['urn:scim:schemas:core:1.0'],
     'members': [{'value': 'id1', 'operation': 'delete'}, {'value': 'id2'}]}
    >>> from scimcore.models import User
    >>> encode_patch({"Operations": [{"op": "replace", "value": "1 Main St",
    ...     "path": 'addresses[type eq "work"].streetAddress'}]}, User)
    Traceback (most recent call last):
    ...
    scimcore.codecs.v1._filter.NotExpressibleIn11: SCIM 1.1 cannot change one value of 'addresses'.
    """
    if isinstance(patch, PatchOp):
        operations = [(o.op, o.path, o.value) for o in patch.operations]
    else:
        raw = _get(patch, "Operations")
        if not isinstance(raw, list) or not all(isinstance(o, Mapping) for o in raw):
            raise InvalidSyntax("A PatchOp needs an 'Operations' list of objects.")
        operations = [(_get(o, "op"), _get(o, "path"), _get(o, "value")) for o in raw]
    writer = _Writer(model)
    extensions = {urn.casefold(): urn for urn in model.__scim_extensions__}
    for op, path, value in operations:
        kind = op.casefold() if isinstance(op, str) else ""
        if kind not in ("add", "remove", "replace"):
            raise InvalidValue(f"Unknown PATCH operation {op!r}.")
        if path is None:
            if kind == "remove" or not isinstance(value, Mapping):
                raise InvalidValue("A PATCH operation without a path needs an object value.")
            for key, item in value.items():
                urn = extensions.get(key.casefold()) if isinstance(key, str) else None
                if urn is not None and isinstance(item, Mapping):
                    for sub_key, sub_item in item.items():
                        _write(writer, kind, f"{urn}:{sub_key}", sub_item)
                else:
                    _write(writer, kind, str(key), item)
            continue
        if not isinstance(path, str):
            raise InvalidValue("A PATCH 'path' is a string.")
        _write(writer, kind, path, value)
    out: dict[str, Any] = {
        "schemas": [CORE_SCHEMA, *sorted(urn_to_v1(u) for u in writer.extensions)]
    }
    out.update(writer.body)
    if writer.removed:
        out["meta"] = {"attributes": list(dict.fromkeys(writer.removed))}
    return out


def _write(writer: _Writer, kind: str, path: str, value: Any) -> None:
    parsed = parse_path(path)
    attr = parsed.path
    found = _find(writer.model, attr.urn, attr.name)
    if found is None:
        raise InvalidPath(f"No attribute '{path}' in {writer.model.__name__}.")
    schema_id, attribute = found
    sub = attr.sub or parsed.sub
    if sub is not None:
        sub_attribute = attribute.sub_attribute(sub)
        if sub_attribute is None:
            raise InvalidPath(f"No attribute '{path}' in {writer.model.__name__}.")
        sub = sub_attribute.name
    if parsed.filter is None:
        if kind == "remove":
            writer.remove(schema_id, attribute, sub)
        else:
            writer.set(schema_id, attribute, sub, value, replace=kind == "replace")
    elif kind == "remove":
        if sub is not None:
            raise NotExpressibleIn11("SCIM 1.1 cannot remove a sub-attribute of one value.")
        writer.delete(schema_id, attribute, parsed.filter)
    elif sub is not None:
        writer.merge(schema_id, attribute, parsed.filter, sub, value)
    else:
        raise NotExpressibleIn11(f"SCIM 1.1 cannot {kind} the values a filter selects: '{path}'.")
