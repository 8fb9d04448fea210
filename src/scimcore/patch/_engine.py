"""The PATCH engine: RFC 7644 §3.5.2 applied to typed resources.

Theory of operation
-------------------

1. **Pure and atomic by construction.** The engine never writes to the input.
   It works on a *draft*: a shallow copy of the resource. Every container it
   writes to (the extensions dict, an extension object, a list, a complex
   value, an element of a list) is copied the first time it is written and
   remembered as *owned*; only owned objects are ever mutated. When an
   operation fails, the exception propagates and the draft is dropped: there is
   nothing to restore. The result shares the values it did not change with the
   input (structural sharing), which is what makes a PATCH cost what it
   touches rather than what the resource holds.

2. **One target model.** A ``path`` is parsed by :func:`scimcore.filter.parse_path`
   and resolved against the model's :class:`~scimcore.schema.SchemaRegistry` to a
   :class:`_Target`: the top-level attribute (``ref``), an optional
   sub-attribute (``name.givenName``, ``emails[…].value``) and an optional
   value filter. A path-less ``add``/``replace`` is split key by key into the
   same targets. Everything is then one of: a whole attribute, a sub-attribute
   of a singular complex value, a sub-attribute of every element, or the
   elements a filter selects (optionally one sub-attribute of them).

3. **Values are decoded by the codec** (:mod:`scimcore.codecs.v2`, PATCH-value
   context), so they obey the same rules and raise the same errors, with their
   JSON path under ``$.Operations[i].value``.

4. **Characteristics come from the schema**: ``mutability`` (readOnly:
   ``mutability``; immutable: settable while unassigned, and equal values are
   no change), ``required`` (cannot be removed or cleared), ``caseExact`` (the
   equality of values, for "already there" and value selection), ``primary``
   (one ``true`` clears the others, RFC 7644 §3.5.2).

5. **The result** compares the draft with the input on the attributes that
   were written, so ``changed`` is exact (an add of a value already there is no
   change), and computes the delta of each multi-valued attribute: values the
   draft did not touch are the same objects in both, so identity settles most.

6. **Large groups stay linear.** "Already there" and remove-with-value go
   through an index on the ``value`` sub-attribute (:class:`_Index`); value
   filters are compiled once per (attribute, filter, policy) and paths parsed
   once per (text, policy).
"""

from __future__ import annotations

import copy
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import attrs

from scimcore.errors import (
    InvalidFilter,
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    Mutability,
    NoTarget,
)
from scimcore.filter import AttrPath, Filter, PatchPath
from scimcore.filter._visit import equality_terms
from scimcore.patch import _bridge
from scimcore.patch._request import MISSING, Operation, operations
from scimcore.patch._result import PatchResult
from scimcore.policy import Policy
from scimcore.schema import Attribute, AttributeRef, AttributeType, MutabilityKind, python_name

__all__ = ["apply_patch", "patch_result"]

R = TypeVar("R")

_READ_ONLY = MutabilityKind.READ_ONLY
_IMMUTABLE = MutabilityKind.IMMUTABLE
_DEFAULT_POLICY = Policy()


def apply_patch(resource: R, patch: Any, *, policy: Policy | None = None) -> R:
    """Apply a PATCH request to a resource and return the patched resource.

    ``patch`` is a ``PatchOp`` or its JSON (a mapping or text). The input is
    never changed; when an operation fails, a :class:`~scimcore.ScimError` is
    raised and nothing is applied. ``policy`` chooses which identity-provider
    deviations are accepted (default: :meth:`Policy.interop`).

    >>> from scimcore.models import User
    >>> from scimcore.patch import apply_patch
    >>> user = User(user_name="bjensen", active=True)
    >>> patched = apply_patch(user, {
    ...     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    ...     "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})
    >>> patched.active, user.active
    (False, True)
    """
    patched: R = _run(resource, patch, policy).finish()
    return patched


def _run(resource: R, patch: Any, policy: Policy | None) -> _Patcher:
    policy = _DEFAULT_POLICY if policy is None else policy
    ops = operations(patch, policy)
    patcher = _Patcher(resource, policy)
    for operation in ops:
        patcher.apply(operation)
    return patcher


def patch_result(resource: R, patch: Any, *, policy: Policy | None = None) -> PatchResult[R]:
    """Apply a PATCH request and say what changed (see :class:`PatchResult`).

    >>> from scimcore.models import User
    >>> from scimcore.patch import patch_result
    >>> user = User(user_name="bjensen", nick_name="Babs")
    >>> result = patch_result(user, {
    ...     "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    ...     "Operations": [{"op": "add", "path": "nickName", "value": "Babs"}]})
    >>> result.changed
    False
    """
    return _run(resource, patch, policy).result()


# --------------------------------------------------------------------------- values


@lru_cache(maxsize=4096)
def _py(name: str) -> str:
    return python_name(name)


def _pn(attribute: Attribute) -> str:
    """``attribute.python_name``, memoised (the property runs a regex)."""
    return _py(attribute.name)


_FIELDS: dict[type, tuple[str, ...]] = {}
_set = object.__setattr__


def _copy(obj: Any) -> Any:
    """A shallow copy of a model instance (twice as fast as ``copy.copy`` on slots)."""
    cls = type(obj)
    names = _FIELDS.get(cls)
    if names is None:
        if not attrs.has(cls) or not hasattr(cls, "__slots__"):
            return copy.copy(obj)
        names = _FIELDS[cls] = tuple(f.name for f in attrs.fields(cls))
    new = object.__new__(cls)
    for name in names:
        _set(new, name, getattr(obj, name))
    return new


def _fold(text: str) -> str:
    if text.isascii():
        return text.casefold()
    return unicodedata.normalize("NFC", text).casefold()


def _is_empty(value: Any) -> bool:
    """Unassigned (RFC 7643 §2.5): null, [], or a complex value with every sub-attribute unassigned.

    An empty string is a value: the codec keeps it, so PATCH does too.
    """
    if value is None or value == []:
        return True
    if attrs.has(type(value)):
        return all(_is_empty(getattr(value, f.name)) for f in attrs.fields(type(value)))
    return False


def _same_scalar(a: Any, b: Any, attribute: Attribute) -> bool:
    if (
        isinstance(a, str)
        and isinstance(b, str)
        and not attribute.case_exact
        and attribute.type is AttributeType.STRING
    ):
        return a == b or _fold(a) == _fold(b)
    return bool(a == b) and type(a) is type(b)


def _covers(existing: Any, wanted: Any, attribute: Attribute) -> bool:
    """Whether ``existing`` holds every sub-attribute value ``wanted`` specifies.

    For a primitive attribute: whether they are the same value (caseExact-aware).
    """
    if not attribute.is_complex:
        return _same_scalar(existing, wanted, attribute)
    for sub in attribute.sub_attributes:
        name = _pn(sub)
        value = getattr(wanted, name, None)
        if _is_empty(value):
            continue
        if not _same_scalar(getattr(existing, name, None), value, sub):
            return False
    return True


def _key(value: Any) -> Any:
    """A hashable stand-in for a value, equal when the values are equal."""
    if attrs.has(type(value)):
        return (type(value), tuple(_key(getattr(value, f.name)) for f in attrs.fields(type(value))))
    if isinstance(value, list | tuple):
        return tuple(_key(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    return (type(value), value)


def _keyer(attribute: Attribute | None) -> Callable[[Any], Any]:
    """A hashable key of a scalar: equal for values :func:`_same_scalar` calls the same."""
    folding = (
        attribute is not None
        and not attribute.case_exact
        and attribute.type is AttributeType.STRING
    )

    def key(value: Any) -> Any:
        if value is None:
            return None
        if folding and type(value) is str:
            return value.casefold() if value.isascii() else _fold(value)
        return (type(value), value)

    return key


class _Index:
    """The values of a multi-valued attribute, looked up by their ``value`` (or themselves).

    Finding whether a value is "already there" (RFC 7644 §3.5.2.1) or which values a
    ``remove`` with a ``value`` selects is then one dict access per wanted value, not
    a scan of a 100 000-member group.
    """

    def __init__(self, attribute: Attribute, values: Sequence[Any]) -> None:
        self.attribute = attribute
        sub = attribute.sub_attribute("value") if attribute.is_complex else None
        self.values = list(values)
        self.by_key: dict[Any, list[Any]] | None = None
        self.usable = sub is not None or not attribute.is_complex
        self.name = None if sub is None else _pn(sub)
        self.key = _keyer(sub if attribute.is_complex else attribute)

    def _key_of(self, value: Any) -> Any:
        if self.name is not None:
            value = getattr(value, self.name)
        return self.key(value)

    def candidates(self, wanted: Any) -> Sequence[Any]:
        """The values that may hold ``wanted`` (a superset of those that do)."""
        key = self._key_of(wanted) if self.usable else None
        if key is None:
            return self.values
        if self.by_key is None:
            by_key: dict[Any, list[Any]] = {}
            keyer, name = self.key, self.name
            for value in self.values:
                k = keyer(value if name is None else getattr(value, name))
                found = by_key.get(k)
                if found is None:
                    by_key[k] = [value]
                else:
                    found.append(value)
            self.by_key = by_key
        return self.by_key.get(key, ())

    def covers(self, wanted: Any) -> bool:
        return any(_covers(v, wanted, self.attribute) for v in self.candidates(wanted))

    def add(self, value: Any) -> None:
        self.values.append(value)
        if self.by_key is not None and self.usable:
            self.by_key.setdefault(self._key_of(value), []).append(value)


# --------------------------------------------------------------------------- targets


@attrs.frozen(slots=True)
class _Target:
    """What a path designates on the resource."""

    ref: AttributeRef  # the top-level attribute (chain of one)
    sub: Attribute | None  # a sub-attribute of it
    filter: Filter | None  # a value filter on its elements
    matches: Callable[[Any], bool] | None
    text: str  # the path as written, for messages

    @property
    def attribute(self) -> Attribute:
        return self.ref.attribute


@lru_cache(maxsize=1024)
def _parse(text: str, policy: Policy) -> PatchPath:
    return _bridge.parse_path(text, policy)


# --------------------------------------------------------------------------- the patcher


class _Patcher:
    """Applies operations to a draft of one resource; see the module docstring."""

    def __init__(self, resource: Any, policy: Policy) -> None:
        model = type(resource)
        if not hasattr(model, "scim_registry") or not hasattr(model, "__scim_resource_type__"):
            raise TypeError(
                f"apply_patch needs a typed resource (a scimcore.models.Resource), "
                f"not {model.__name__}; decode JSON first with scimcore.codecs.v2.decode"
            )
        self.model = model
        self.policy = policy
        self.registry = model.scim_registry()
        self.resource_type = model.__scim_resource_type__
        self.base = self.resource_type.schema.casefold()
        self.extension_urns: dict[str, str] = {
            urn.casefold(): urn for urn in self.resource_type.extension_urns
        }
        self.original = resource
        self.draft = _copy(resource)
        self.owned: set[int] = {id(self.draft)}
        self.touched: dict[str, AttributeRef] = {}
        self.schemas_touched = False
        self.where: str | None = None  # the JSON path of the current operation's ``path``
        self.here = "$"  # the JSON path of the current operation's ``value``

    # ------------------------------------------------------------ containers

    def _own(self, obj: Any) -> Any:
        if id(obj) in self.owned:
            return obj
        new = _copy(obj)
        self.owned.add(id(new))
        return new

    def _is_base(self, ref: AttributeRef) -> bool:
        return ref.common or ref.schema.id.casefold() == self.base

    def _urn(self, ref: AttributeRef) -> str:
        return self.extension_urns.get(ref.schema.id.casefold(), ref.schema.id)

    def read(self, ref: AttributeRef, resource: Any = None) -> Any:
        """The value of a top-level attribute (``[]``/``None`` when absent)."""
        resource = self.draft if resource is None else resource
        container = resource
        if not self._is_base(ref):
            container = resource.extensions.get(self._urn(ref))
            if container is None:
                return [] if ref.attribute.multi_valued else None
        return getattr(container, _pn(ref.attribute))

    def write(self, ref: AttributeRef, value: Any) -> None:
        """Set a top-level attribute on the draft, making its container owned."""
        if ref.common and ref.attribute.name == "schemas":
            self._write_schemas(value)
            return
        if self._is_base(ref):
            container = self.draft
        else:
            urn = self._urn(ref)
            extensions = self.draft.extensions
            if id(extensions) not in self.owned:
                extensions = dict(extensions)
                self.owned.add(id(extensions))
                self.draft.extensions = extensions
            container = extensions.get(urn)
            if container is None:
                container = _bridge.extension_class(self.model, urn)()
                self.owned.add(id(container))
                self._add_schema(urn)
            else:
                container = self._own(container)
            extensions[urn] = container
        setattr(container, _pn(ref.attribute), value)
        self.touched[self._name(ref)] = ref

    def _write_schemas(self, value: list[str]) -> None:
        """``schemas`` written by an operation (RFC 7644 §3.5.2: later operations see it).

        Each URN is one the resource type declares (matched in any case; an unknown one
        is dropped under ``unknown_schemas``, else ``invalidValue``); the base schema must
        stay (``invalidValue``). ``schemas`` follows the data: the URN of an extension
        the resource holds stays listed (a client that echoes ``schemas`` in a path-less
        replace must not wipe the enterprise data); remove the extension's attributes,
        or the extension by its URN, to drop it.
        """
        declared = {self.base: self.resource_type.schema, **self.extension_urns}
        schemas: list[str] = []
        for urn in value:
            known = declared.get(urn.casefold())
            if known is None:
                if self.policy.unknown_schemas:
                    continue
                raise InvalidValue(
                    f"'{urn}' is not a schema of {self.resource_type.name}.", location=self.here
                )
            if known not in schemas:
                schemas.append(known)
        if self.resource_type.schema not in schemas:
            raise InvalidValue(
                f"'schemas' must contain '{self.resource_type.schema}' (RFC 7643 §3).",
                location=self.here,
            )
        for urn in self.draft.extensions:
            if urn not in schemas:
                schemas.append(urn)
        self.owned.add(id(schemas))
        self.draft.schemas = schemas
        self.schemas_touched = True

    def _add_schema(self, urn: str) -> None:
        schemas = self.draft.schemas
        if any(s.casefold() == urn.casefold() for s in schemas):
            return
        schemas = list(schemas)
        schemas.append(urn)
        self.draft.schemas = schemas
        self.schemas_touched = True

    def _name(self, ref: AttributeRef) -> str:
        if self._is_base(ref):
            return ref.attribute.name
        return f"{self._urn(ref)}:{ref.attribute.name}"

    # ------------------------------------------------------------ resolution

    def _resolve_attribute(self, text: str) -> AttributeRef | None:
        ref: AttributeRef | None = self.registry.resolve(text, resource_type=self.resource_type)
        if ref is None:
            return None
        if len(ref.chain) > 1:
            ref = AttributeRef(ref.schema, ref.chain[:1], ref.common)
        return ref

    def _target(self, operation: Operation) -> _Target:
        text = operation.path
        assert text is not None
        location = f"{operation.location}.path"
        try:
            parsed = _parse(text, self.policy)
        except (InvalidPath, InvalidFilter) as exc:
            exc.location = location
            raise
        path: AttrPath = parsed.path
        head = path.name if path.urn is None else f"{path.urn}:{path.name}"
        ref = self._resolve_attribute(head)
        if ref is None:
            raise InvalidPath(
                f"'{head}' is not an attribute of {self.resource_type.name}.",
                location=location,
                source=text,
                span=(0, len(head)),
            )
        attribute = ref.attribute
        sub_name = path.sub if path.sub is not None else parsed.sub
        if path.sub is not None and parsed.sub is not None:
            raise InvalidPath(f"'{text}' names two sub-attributes.", location=location)
        sub = None
        if sub_name is not None:
            sub = attribute.sub_attribute(sub_name) if attribute.is_complex else None
            if sub is None:
                raise InvalidPath(
                    f"'{attribute.name}' has no sub-attribute '{sub_name}'.",
                    location=location,
                    source=text,
                    span=(len(text) - len(sub_name), len(text)),
                )
        matches = None
        if parsed.filter is not None:
            if not attribute.multi_valued:
                raise InvalidPath(
                    f"'{attribute.name}' is single-valued: a value filter selects elements "
                    "of a multi-valued attribute.",
                    location=location,
                    source=text,
                )
            try:
                matches = _bridge.element_matcher(self.model, ref, parsed.filter, self.policy)
            except (InvalidFilter, InvalidPath) as exc:
                exc.location = location
                raise
        return _Target(ref, sub, parsed.filter, matches, text)

    # ------------------------------------------------------------ checks

    def _check_writable(self, target: _Target, location: str) -> None:
        for attribute in (target.attribute, target.sub):
            if attribute is not None and attribute.mutability is _READ_ONLY:
                raise Mutability(
                    f"'{attribute.name}' is readOnly.", location=self.where or location
                )

    def _check_immutable(self, attribute: Attribute, old: Any, new: Any, location: str) -> None:
        if attribute.mutability is _IMMUTABLE and not _is_empty(old) and old != new:
            raise Mutability(
                f"'{attribute.name}' is immutable and already has a value.",
                location=self.where or location,
            )

    def _check_element(self, attribute: Attribute, old: Any, new: Any, location: str) -> None:
        """An existing complex value changed into ``new``: its readOnly/immutable parts may not."""
        for sub in attribute.sub_attributes:
            if sub.mutability is not _IMMUTABLE and sub.mutability is not _READ_ONLY:
                continue
            before, after = getattr(old, _pn(sub)), getattr(new, _pn(sub))
            if before == after:
                continue
            if sub.mutability is _READ_ONLY or not _is_empty(before):
                raise Mutability(
                    f"'{attribute.name}.{sub.name}' is {sub.mutability.value}.",
                    location=self.where or location,
                )

    def _check_new_element(self, attribute: Attribute, element: Any, location: str) -> None:
        """A new complex value may not set a readOnly sub-attribute (``manager.displayName``)."""
        for sub in attribute.sub_attributes:
            if sub.mutability is _READ_ONLY and not _is_empty(getattr(element, _pn(sub))):
                raise Mutability(
                    f"'{attribute.name}.{sub.name}' is readOnly.", location=self.where or location
                )

    def _check_required(self, attribute: Attribute, value: Any, location: str) -> None:
        if attribute.required and _is_empty(value):
            raise Mutability(
                f"'{attribute.name}' is required: it cannot be removed.",
                location=self.where or location,
            )
        if attribute.required and type(value) is str and not value.strip():
            # As the codec refuses it in a request body: an empty string is no value.
            raise InvalidValue(
                f"The required attribute '{attribute.name}' is empty.",
                location=self.where or location,
            )

    def _check_required_subs(self, attribute: Attribute, element: Any, location: str) -> None:
        for sub in attribute.sub_attributes:
            if sub.required and _is_empty(getattr(element, _pn(sub))):
                raise Mutability(
                    f"'{attribute.name}.{sub.name}' is required: it cannot be removed.",
                    location=self.where or location,
                )

    # ------------------------------------------------------------ decoding

    def _decode(self, ref: AttributeRef, raw: Any, location: str, *, element: bool = False) -> Any:
        return _bridge.decode_value(
            self.model, ref, raw, location=location, policy=self.policy, element=element
        )

    def _decode_sub(self, target: _Target, raw: Any, location: str) -> Any:
        """A sub-attribute value, decoded as the codec does (wrapped in its parent)."""
        assert target.sub is not None
        if raw is None:
            return None
        return _bridge.decode_sub_value(
            self.model, target.ref, target.sub, raw, location=location, policy=self.policy
        )

    def _complex_raw(self, attribute: Attribute, raw: Any, location: str) -> Any:
        if (
            isinstance(raw, str)
            and self.policy.manager_as_string
            and attribute.is_complex
            and not attribute.multi_valued
            and attribute.sub_attribute("value") is not None
        ):
            return {"value": raw}  # manager_as_string: Entra sends "manager": "271"
        if not isinstance(raw, Mapping):
            raise InvalidValue(
                f"'{attribute.name}' is complex: the value must be an object.", location=location
            )
        return raw

    def _mentioned(self, attribute: Attribute, raw: Mapping[str, Any]) -> list[Attribute]:
        subs = []
        for key in raw:
            sub = attribute.sub_attribute(key) if isinstance(key, str) else None
            if sub is not None:
                subs.append(sub)
        return subs

    # ------------------------------------------------------------ dispatch

    def apply(self, operation: Operation) -> None:
        location = f"{operation.location}.value"
        self.where = None if operation.path is None else f"{operation.location}.path"
        self.here = location
        if operation.op == "remove":
            if operation.path is None:
                raise NoTarget(
                    "A 'remove' needs a 'path' (RFC 7644 §3.5.2.2).",
                    location=f"{operation.location}.path",
                )
            whole = self._bare_urn(operation.path)
            if whole is not None:
                self._remove_extension(whole, operation)
                return
            self._remove(self._target(operation), operation.value, location)
            return
        if operation.value is MISSING:
            raise InvalidValue(
                f"An '{operation.op}' needs a 'value' (RFC 7644 §3.5.2).", location=location
            )
        if operation.path is None:
            self._pathless(operation.op, operation.value, location)
            return
        urn = self._bare_urn(operation.path)
        if urn is not None:
            self._extension_object(operation.op, urn, operation.value, location)
            return
        target = self._target(operation)
        if operation.op == "add":
            if operation.value is None:
                raise InvalidValue("An 'add' needs a value, not null.", location=location)
            self._add(target, operation.value, location)
        else:
            self._replace(target, operation.value, location)

    def _bare_urn(self, path: str) -> str | None:
        """The extension URN a path names as a whole (not in RFC 7644's grammar), or None."""
        urn = self.extension_urns.get(path.strip().casefold())
        if urn is None:
            return None
        if not self.policy.bare_urn_path:
            raise InvalidPath(
                f"'{path}' is a schema URN, not an attribute path (RFC 7644 §3.5.2 Figure 7).",
                location=self.where,
                source=path,
                span=(0, len(path)),
            )
        return urn

    # ------------------------------------------------------------ path-less

    def _pathless(self, op: str, raw: Any, location: str) -> None:
        if not isinstance(raw, Mapping):
            raise InvalidValue(
                f"A path-less '{op}' needs an object of attributes as its value.",
                location=location,
            )
        for key, value in raw.items():
            key_location = f"{location}.{key}"
            if not isinstance(key, str):
                raise InvalidSyntax("Attribute names are strings.", location=key_location)
            urn = self.extension_urns.get(key.casefold())
            if urn is not None:
                self._extension_object(op, urn, value, key_location)
                continue
            if key.casefold() == self.base:
                # the base schema URN as a key (a client that nests everything)
                self._pathless(op, value, key_location)
                continue
            self._pathless_key(op, key, value, key_location)

    def _extension_object(self, op: str, urn: str, raw: Any, location: str) -> None:
        if not isinstance(raw, Mapping):
            raise InvalidValue(
                f"The value of '{urn}' must be an object of its attributes.", location=location
            )
        for key, value in raw.items():
            if not isinstance(key, str):
                raise InvalidSyntax("Attribute names are strings.", location=location)
            self._pathless_key(op, f"{urn}:{key}", value, f"{location}.{key}", qualified=True)

    def _remove_extension(self, urn: str, operation: Operation) -> None:
        extension_schema = self.registry.schema(urn)
        assert extension_schema is not None
        for attribute in extension_schema.attributes:
            ref = AttributeRef(extension_schema, (attribute,))
            target = _Target(ref, None, None, None, operation.path or urn)
            if _is_empty(self.read(ref)):
                continue
            self._remove(target, MISSING, f"{operation.location}.path")

    def _pathless_key(
        self, op: str, key: str, raw: Any, location: str, *, qualified: bool = False
    ) -> None:
        name = key.rpartition(":")[2] if qualified else key  # a URN holds dots ("2.0")
        dotted = "." in name or (":" in key and not qualified)
        if dotted and not self.policy.dotted_value_keys:
            ref = None
        else:
            ref = self.registry.resolve(key, resource_type=self.resource_type)
        if ref is None or len(ref.chain) > 2:
            if self.policy.unknown_attributes == "ignore":
                return
            raise InvalidSyntax(
                f"'{key}' is not an attribute of {self.resource_type.name}.", location=location
            )
        top = AttributeRef(ref.schema, ref.chain[:1], ref.common)
        sub = ref.chain[1] if len(ref.chain) == 2 else None
        target = _Target(top, sub, None, None, key)
        attribute = top.attribute
        if (
            sub is None
            and attribute.mutability is _READ_ONLY
            and attribute.name == "id"
            and top.common
            and self.policy.ignore_matching_id
            and raw == self.draft.id
        ):
            return  # ignore_matching_id: Okta renames a group with {"id": <its own id>, ...}
        if op == "add":
            if raw is None:
                return  # nothing to add
            self._add(target, raw, location)
        elif (
            sub is None
            and attribute.is_complex
            and not attribute.multi_valued
            and not self.policy.merge_partial_complex
        ):
            self._set_whole(target, raw, location)
        else:
            self._replace(target, raw, location)

    # ------------------------------------------------------------ add

    def _add(self, target: _Target, raw: Any, location: str) -> None:
        self._check_writable(target, location)
        attribute = target.attribute
        if target.filter is not None:
            self._on_selected(target, raw, location, replace=False)
        elif target.sub is not None:
            self._set_sub(target, raw, location)
        elif attribute.multi_valued:
            self._append(target, raw, location)
        elif attribute.is_complex:
            self._merge_complex(target, raw, location)
        else:
            self._set_whole(target, raw, location)

    def _append(self, target: _Target, raw: Any, location: str) -> None:
        ref, attribute = target.ref, target.attribute
        values = self._decode(ref, raw, location)
        current = self.read(ref)
        if attribute.mutability is _IMMUTABLE and current:
            if all(any(_covers(c, v, attribute) for c in current) for v in values):
                return
            raise Mutability(f"'{attribute.name}' is immutable and has values.", location=location)
        new = list(current)
        index = _Index(attribute, current)
        added = []
        for value in values:
            if _is_empty(value) and attribute.is_complex:
                continue
            if index.covers(value):
                continue  # already there: no change (RFC 7644 §3.5.2.1)
            if attribute.is_complex:
                self._check_new_element(attribute, value, location)
            new.append(value)
            index.add(value)
            added.append(len(new) - 1)
        if not added:
            return
        self.owned.add(id(new))
        self._fix_primary(attribute, new, added, location)
        self.write(ref, new)

    # ------------------------------------------------------------ replace

    def _replace(self, target: _Target, raw: Any, location: str) -> None:
        self._check_writable(target, location)
        attribute = target.attribute
        if target.filter is not None:
            self._on_selected(target, raw, location, replace=True)
        elif target.sub is not None:
            self._set_sub(target, raw, location)
        elif attribute.is_complex and not attribute.multi_valued and raw is not None:
            self._merge_complex(target, raw, location)
        else:
            self._set_whole(target, raw, location)

    def _set_whole(self, target: _Target, raw: Any, location: str) -> None:
        """Set a whole top-level attribute (``null``/``[]`` clears it)."""
        self._check_writable(target, location)
        ref, attribute = target.ref, target.attribute
        if raw is None or (attribute.multi_valued and raw == []):
            value: Any = [] if attribute.multi_valued else None
        else:
            if attribute.is_complex and not attribute.multi_valued:
                raw = self._complex_raw(attribute, raw, location)
            value = self._decode(ref, raw, location)
        old = self.read(ref)
        if attribute.multi_valued:
            self._check_required(attribute, value, location)
            self._check_immutable(attribute, old, value, location)
            if value == old:
                return
            if attribute.is_complex and any(
                sub.mutability is _READ_ONLY for sub in attribute.sub_attributes
            ):
                known = {_key(existing) for existing in old}
                for element in value:
                    if _key(element) not in known:
                        self._check_new_element(attribute, element, location)
            value = list(value)
            self.owned.add(id(value))
            self._fix_primary(attribute, value, list(range(len(value))), location)
            self.write(ref, value)
            return
        self._check_required(attribute, value, location)
        self._check_immutable(attribute, old, value, location)
        if attribute.is_complex and value is not None:
            if _is_empty(value):
                value = None
            elif old is None:
                self._check_new_element(attribute, value, location)
            else:
                self._check_element(attribute, old, value, location)
        if value == old and type(value) is type(old):
            return
        self.write(ref, value)

    def _merge_complex(self, target: _Target, raw: Any, location: str) -> None:
        """Merge sub-attributes into a singular complex value (RFC 7644 §3.5.2.1, §3.5.2.3)."""
        ref, attribute = target.ref, target.attribute
        raw = self._complex_raw(attribute, raw, location)
        decoded = self._decode(ref, raw, location)
        old = self.read(ref)
        mentioned = self._mentioned(attribute, raw)
        if old is None:
            self._check_new_element(attribute, decoded, location)
            new = decoded
        else:
            new = _copy(old)  # a new object, even if ``old`` is ours: it is compared below
            self.owned.add(id(new))
            for sub in mentioned:
                setattr(new, _pn(sub), getattr(decoded, _pn(sub)))
        if _is_empty(new):
            new = None
        self._check_immutable(attribute, old, new, location)
        if old is not None and new is not None:
            self._check_element(attribute, old, new, location)
        if new is not None:
            self._check_required_subs(attribute, new, location)
        self._check_required(attribute, new, location)
        if new == old:
            return
        self.write(ref, new)

    def _set_sub(self, target: _Target, raw: Any, location: str) -> None:
        """Set a sub-attribute: of the singular complex value, or of every element."""
        ref, attribute, sub = target.ref, target.attribute, target.sub
        assert sub is not None
        value = self._decode_sub(target, raw, location)
        if value is None and sub.required:
            raise Mutability(f"'{attribute.name}.{sub.name}' is required.", location=location)
        old = self.read(ref)
        if attribute.multi_valued:
            if not old:
                if value is None:
                    return
                raise NoTarget(
                    f"'{target.text}': '{attribute.name}' has no value to set '{sub.name}' on.",
                    location=self.where or location,
                )
            self._update_elements(target, list(range(len(old))), sub, value, location)
            return
        if old is None:
            if value is None:
                return
            new = self._decode(ref, {sub.name: raw}, location)
        else:
            self._check_immutable(sub, getattr(old, _pn(sub)), value, location)
            if getattr(old, _pn(sub)) == value:
                return
            new = _copy(old)
            self.owned.add(id(new))
            setattr(new, _pn(sub), value)
            if _is_empty(new):
                self._check_required(attribute, None, location)
                new = None
        if new == old:
            return
        self.write(ref, new)

    def _update_elements(
        self, target: _Target, indexes: list[int], sub: Attribute, value: Any, location: str
    ) -> None:
        ref, attribute = target.ref, target.attribute
        if value is True and len(indexes) > 1 and sub.name.casefold() == "primary":
            raise InvalidValue(
                f"'{target.text}' would make {len(indexes)} values primary; "
                "at most one may be (RFC 7643 §2.4).",
                location=location,
            )
        old = self.read(ref)
        new = list(old)
        changed = []
        for i in indexes:
            element = new[i]
            before = getattr(element, _pn(sub))
            if before == value and type(before) is type(value):
                continue
            self._check_immutable(sub, before, value, location)
            element = _copy(element)
            setattr(element, _pn(sub), value)
            new[i] = element
            changed.append(i)
        if not changed:
            return
        kept = [e for e in new if not _is_empty(e)]
        self.owned.add(id(kept))
        if sub.name.casefold() == "primary" and value is True:
            winner = next(i for i, e in enumerate(kept) if e is new[changed[0]])
            self._fix_primary(attribute, kept, [winner], location)
        self._check_required(attribute, kept, location)
        self.write(ref, kept)

    # ------------------------------------------------------------ value filters

    def _selected(self, target: _Target, values: Sequence[Any]) -> list[int]:
        assert target.matches is not None
        return [i for i, value in enumerate(values) if target.matches(value)]

    def _on_selected(self, target: _Target, raw: Any, location: str, *, replace: bool) -> None:
        """add/replace on ``attr[filter]`` or ``attr[filter].sub``."""
        ref, attribute, sub = target.ref, target.attribute, target.sub
        current = self.read(ref)
        indexes = self._selected(target, current)
        if not indexes:
            self._create_selected(target, raw, location)
            return
        if sub is not None:
            value = self._decode_sub(target, raw, location)
            if value is None and sub.required:
                raise Mutability(f"'{attribute.name}.{sub.name}' is required.", location=location)
            self._update_elements(target, indexes, sub, value, location)
            return
        if raw is None:
            if replace:
                self._remove_elements(target, indexes, location)
                return
            raise InvalidValue("An 'add' needs a value, not null.", location=location)
        if not attribute.is_complex:
            value = self._decode(ref, raw, location, element=True)
            new = list(current)
            for i in indexes:
                self._check_immutable(attribute, new[i], value, location)
                new[i] = value
            self._write_list(target, current, new, indexes, location)
            return
        raw = self._complex_raw(attribute, raw, location)
        decoded = self._decode(ref, raw, location, element=True)
        mentioned = self._mentioned(attribute, raw)
        new = list(current)
        for i in indexes:
            old = new[i]
            if replace:
                element = _copy(decoded)  # "all matching record values SHALL be replaced"
            else:
                element = _copy(old)
                for s in mentioned:
                    setattr(element, _pn(s), getattr(decoded, _pn(s)))
            self._check_element(attribute, old, element, location)
            self._check_required_subs(attribute, element, location)
            new[i] = element
        self._write_list(target, current, new, indexes, location)

    def _write_list(
        self, target: _Target, old: list[Any], new: list[Any], written: list[int], location: str
    ) -> None:
        written_ids = {id(new[i]) for i in written}
        new = [e for e in new if not _is_empty(e)]
        written = [i for i, e in enumerate(new) if id(e) in written_ids]
        self._check_required(target.attribute, new, location)
        if new == old:
            return
        self.owned.add(id(new))
        self._fix_primary(target.attribute, new, written, location)
        self.write(target.ref, new)

    def _create_selected(self, target: _Target, raw: Any, location: str) -> None:
        """A filter that matched nothing: ``noTarget``, or Entra's create-on-no-match."""
        attribute, sub = target.attribute, target.sub
        if not self.policy.create_on_no_match:
            raise NoTarget(
                f"'{target.text}' matches no value (RFC 7644 §3.5.2.3).",
                location=self.where or location,
            )
        seed = _equalities(target.filter)
        if seed is None:
            raise NoTarget(
                f"'{target.text}' matches no value, and its filter is not a conjunction of "
                "'eq' tests that could describe a new one.",
                location=self.where or location,
            )
        if raw is None:
            return
        if not attribute.is_complex:
            if set(seed) != {"value"}:
                raise NoTarget(
                    f"'{target.text}' matches no value.", location=self.where or location
                )
            element_raw: Any = raw
        elif sub is not None:
            element_raw = {**seed, sub.name: raw}
        else:
            raw = self._complex_raw(attribute, raw, location)
            element_raw = {**seed, **raw}
        if attribute.is_complex:
            for key in seed:
                if attribute.sub_attribute(key) is None:
                    raise NoTarget(
                        f"'{target.text}' matches no value.", location=self.where or location
                    )
        element = self._decode(target.ref, element_raw, location, element=True)
        if attribute.is_complex:
            self._check_new_element(attribute, element, location)
        current = self.read(target.ref)
        new = [*current, element]
        self._write_list(target, current, new, [len(new) - 1], location)

    # ------------------------------------------------------------ remove

    def _remove(self, target: _Target, raw: Any, location: str) -> None:
        self._check_writable(target, location)
        ref, attribute, sub = target.ref, target.attribute, target.sub
        if raw is not MISSING and raw is not None:
            self._remove_values(target, raw, location)
            return
        current = self.read(ref)
        if target.filter is not None:
            indexes = self._selected(target, current)
            if not indexes:
                return  # RFC 7644 §3.5.2.2's example: no match, no change, success
            if sub is None:
                self._remove_elements(target, indexes, location)
            else:
                if sub.required:
                    raise Mutability(
                        f"'{attribute.name}.{sub.name}' is required: it cannot be removed.",
                        location=location,
                    )
                self._update_elements(target, indexes, sub, None, location)
            return
        if sub is not None:
            if sub.required:
                raise Mutability(
                    f"'{attribute.name}.{sub.name}' is required: it cannot be removed.",
                    location=location,
                )
            if attribute.multi_valued:
                if current:
                    self._update_elements(target, list(range(len(current))), sub, None, location)
                return
            self._set_sub(target, None, location)
            return
        self._check_required(attribute, None, location)
        if _is_empty(current):
            return
        if attribute.mutability is _IMMUTABLE:
            raise Mutability(f"'{attribute.name}' is immutable.", location=location)
        self.write(ref, [] if attribute.multi_valued else None)

    def _remove_elements(self, target: _Target, indexes: list[int], location: str) -> None:
        current = self.read(target.ref)
        drop = set(indexes)
        new = [e for i, e in enumerate(current) if i not in drop]
        self._check_required(target.attribute, new, location)
        self.owned.add(id(new))
        self.write(target.ref, new)

    def _remove_values(self, target: _Target, raw: Any, location: str) -> None:
        """``remove`` with a ``value``: a selection (``remove_with_value``), or ``invalidValue``."""
        attribute = target.attribute
        if not self.policy.remove_with_value or target.filter is not None or target.sub:
            raise InvalidValue(
                "A 'remove' takes no 'value' (RFC 7644 §3.5.2.2); to remove some values, "
                "select them with a filter in 'path'.",
                location=location,
            )
        current = self.read(target.ref)
        if not attribute.multi_valued:
            wanted = self._decode(target.ref, raw, location)
            if attribute.is_complex:
                hit = current is not None and _covers(current, wanted, attribute)
            else:
                hit = current is not None and _same_scalar(current, wanted, attribute)
            if hit:
                self._remove(target, MISSING, location)
            return
        selectors = self._decode(target.ref, raw, location)
        selectors = [s for s in selectors if not _is_empty(s)]
        if not selectors:
            raise InvalidValue(
                "The 'value' of this 'remove' selects nothing; it would not be read as "
                "'remove every value'.",
                location=location,
            )
        index = _Index(attribute, current)
        selected = {
            id(existing)
            for wanted in selectors
            for existing in index.candidates(wanted)
            if _covers(existing, wanted, attribute)
        }
        indexes = [i for i, existing in enumerate(current) if id(existing) in selected]
        if indexes:
            self._remove_elements(target, indexes, location)

    # ------------------------------------------------------------ primary

    def _fix_primary(
        self, attribute: Attribute, values: list[Any], written: list[int], location: str
    ) -> None:
        """One ``primary: true`` among the values just written clears the others (in place)."""
        primary = attribute.sub_attribute("primary")
        if primary is None or primary.type is not AttributeType.BOOLEAN:
            return
        winners = [i for i in written if getattr(values[i], "primary", None) is True]
        if len(winners) > 1:
            raise InvalidValue(
                f"At most one '{attribute.name}' value may be primary (RFC 7643 §2.4).",
                location=location,
            )
        if not winners:
            return
        (winner,) = winners
        for i, value in enumerate(values):
            if i != winner and getattr(value, "primary", None) is True:
                value = _copy(value)
                value.primary = False
                values[i] = value

    # ------------------------------------------------------------ result

    def finish(self) -> Any:
        """The draft, its empty extensions dropped: the patched resource."""
        draft = self.draft
        # an extension left with no value is dropped, with its URN (as ``del r[Ext]`` does)
        extensions = draft.extensions
        if id(extensions) in self.owned:
            for urn, extension in list(extensions.items()):
                if id(extension) in self.owned and _is_empty(extension):
                    del extensions[urn]
                    schemas = [s for s in draft.schemas if s.casefold() != urn.casefold()]
                    if len(schemas) != len(draft.schemas):
                        draft.schemas = schemas
                        self.schemas_touched = True
        return draft

    def result(self) -> PatchResult[Any]:
        """The patched resource, and what changed."""
        original = self.original
        draft = self.finish()
        changed_names = []
        added: dict[str, tuple[Any, ...]] = {}
        removed: dict[str, tuple[Any, ...]] = {}
        for name, ref in self.touched.items():
            before, after = self.read(ref, original), self.read(ref, draft)
            if before == after:
                continue
            changed_names.append(name)
            if ref.attribute.multi_valued:
                added[name], removed[name] = _delta(before, after)
        if (
            self.schemas_touched
            and list(draft.schemas) != list(original.schemas)
            and "schemas" not in changed_names
        ):
            changed_names.append("schemas")
        changed = bool(changed_names)
        return PatchResult(draft, changed, frozenset(changed_names), added, removed)


def _delta(before: Sequence[Any], after: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(gained, lost) between two lists of values, as multisets.

    Values the draft did not touch are the very same objects in both lists, so
    identity settles most of them; only the rest are compared by value.
    """
    old_ids = {id(v) for v in before}
    new_ids = {id(v) for v in after}
    gained = [v for v in after if id(v) not in old_ids]
    lost = [v for v in before if id(v) not in new_ids]
    if not gained or not lost:
        return tuple(gained), tuple(lost)
    old = Counter(_key(v) for v in lost)
    new = Counter(_key(v) for v in gained)
    return _pick(gained, new - old), _pick(lost, old - new)


def _pick(values: Sequence[Any], wanted: Counter[Any]) -> tuple[Any, ...]:
    picked = []
    left = Counter(wanted)
    for value in values:
        key = _key(value)
        if left[key] > 0:
            left[key] -= 1
            picked.append(value)
    return tuple(picked)


def _equalities(node: Filter | None) -> dict[str, Any] | None:
    """``{sub: value}`` for a filter made only of ``sub eq value`` joined by ``and``, else None."""
    terms = None if node is None else equality_terms(node)
    if terms is None:
        return None
    seed: dict[str, Any] = {}
    for term in terms:
        if term.path.name in seed:
            return None
        seed[term.path.name] = term.value
    return seed
