"""``attributes`` and ``excludedAttributes`` (RFC 7644 §3.4.2.5, §3.9), and ``returned``.

The resource is first encoded in full; the projection then walks that JSON
with the schema in hand:

- ``returned: always`` attributes (``id``, ``schemas``) are always kept;
- ``returned: never`` ones (``password``) are never kept, even when asked for
  (unless the caller asked for the ``full`` stored form);
- ``returned: request`` ones are kept only when ``attributes`` names them
  (a sub-attribute must be named itself: naming its parent is not enough);
- ``attributes`` and ``excludedAttributes`` may be given as lists or as the
  comma-separated text of a URL query;
- with ``attributes``, everything else is kept only when named, and naming a
  sub-attribute (``name.givenName``, ``emails.value``) keeps only that part of
  the complex value; with ``excludedAttributes``, the named attributes or
  sub-attributes are removed from the default set.

Names are matched case-insensitively and may be URN-qualified; a bare
extension URN names the whole extension. A name that resolves to nothing is
ignored, so ``excludedAttributes=members`` is harmless anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scimcore.codecs.v2._codegen import encoder
from scimcore.errors import InvalidValue
from scimcore.models._base import Resource, model_attributes
from scimcore.models._messages import ListResponse
from scimcore.schema import Attribute, ReturnedKind

__all__ = ["project", "project_document"]

_Selection = dict[tuple[str, str], set[str] | None]


def _select(cls: type[Resource], paths: Iterable[str]) -> _Selection:
    """(container URN, attribute name) -> sub-attribute names, or ``None`` for all of it."""
    base = cls.__scim_schema__.id
    extensions = {urn.casefold(): urn for urn in cls.__scim_extensions__}
    registry = cls.scim_registry()
    resource_type = cls.__scim_resource_type__
    selection: _Selection = {}
    for path in paths:
        path = path.strip()
        urn = extensions.get(path.casefold())
        if urn is not None:
            selection[(urn, "")] = None
            continue
        ref = registry.resolve(path, resource_type=resource_type)
        if ref is None:
            continue
        container = base if ref.common or ref.schema.id == base else ref.schema.id
        key = (container, ref.chain[0].name)
        if len(ref.chain) == 1:
            selection[key] = None
        elif key not in selection or selection[key] is not None:
            subs = selection.setdefault(key, set())
            assert subs is not None
            subs.add(ref.chain[1].name)
    return selection


# Per-schema lookups, built once (schemas and their attributes are immutable).
_BY_NAME: dict[int, tuple[tuple[Attribute, ...], dict[str, Attribute]]] = {}
_RETURNED: dict[int, tuple[Attribute, dict[str, ReturnedKind]]] = {}
_MODEL_ATTRIBUTES: dict[type, tuple[Attribute, ...]] = {}


def _by_name(attributes: tuple[Attribute, ...]) -> dict[str, Attribute]:
    cached = _BY_NAME.get(id(attributes))
    if cached is None or cached[0] is not attributes:
        cached = _BY_NAME[id(attributes)] = (attributes, {a.name: a for a in attributes})
    return cached[1]


def _returned_of(attribute: Attribute) -> dict[str, ReturnedKind]:
    cached = _RETURNED.get(id(attribute))
    if cached is None or cached[0] is not attribute:
        returned = {s.name: s.returned for s in attribute.sub_attributes}
        cached = _RETURNED[id(attribute)] = (attribute, returned)
    return cached[1]


# The default response of an object: the keys kept (``returned`` default or always)
# and, for complex attributes, the sub-attribute keys kept when some are not.
_Plan = tuple[frozenset[str], dict[str, frozenset[str]]]
_DEFAULT_PLANS: dict[type, tuple[_Plan, dict[str, _Plan]]] = {}
_SHOWN = (ReturnedKind.DEFAULT, ReturnedKind.ALWAYS)


def _plan_of(attributes: tuple[Attribute, ...]) -> _Plan:
    keep = frozenset(a.name for a in attributes if a.returned in _SHOWN)
    subs = {
        a.name: frozenset(s.name for s in a.sub_attributes if s.returned in _SHOWN)
        for a in attributes
        if a.name in keep and any(s.returned not in _SHOWN for s in a.sub_attributes)
    }
    return keep, subs


def _default_plan(cls: type[Resource]) -> tuple[_Plan, dict[str, _Plan]]:
    plan = _DEFAULT_PLANS.get(cls)
    if plan is None:
        extensions = {
            urn: _plan_of(ext.__scim_schema__.attributes)
            for urn, ext in cls.__scim_extensions__.items()
        }
        plan = _DEFAULT_PLANS[cls] = (_plan_of(model_attributes(cls)), extensions)
    return plan


def _strip(value: Any, kept: frozenset[str]) -> Any:
    """A complex value (or a list of them) with only the ``kept`` sub-attributes."""
    if isinstance(value, list):
        return [
            {k: v for k, v in item.items() if k in kept} if isinstance(item, dict) else item
            for item in value
        ]
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in kept}
    return value


def _apply_plan(
    doc: dict[str, Any], plan: _Plan, extensions: dict[str, _Plan] | None = None
) -> dict[str, Any]:
    keep, subs = plan
    if keep.issuperset(doc) and (not subs or subs.keys().isdisjoint(doc)):
        return dict(doc)  # nothing to leave out, the common case: one C-level check
    out = {}
    for key, value in doc.items():
        if key in keep:
            kept = subs.get(key)
            out[key] = value if kept is None else _strip(value, kept)
        elif extensions is not None:
            extension = extensions.get(key)
            if extension is not None and isinstance(value, dict):
                projected = _apply_plan(value, extension)
                if projected:
                    out[key] = projected
    return out


def _project_default(cls: type[Resource], doc: dict[str, Any]) -> dict[str, Any]:
    """The default response form of a full document: what ``returned`` allows."""
    plan, extensions = _default_plan(cls)
    return _apply_plan(doc, plan, extensions)


def _subs(
    value: Any, attribute: Attribute, subs: set[str] | None, *, include: bool, full: bool
) -> Any:
    """A complex value (or list of them) with its sub-attributes projected.

    ``subs`` are the sub-attributes named (``None``: the whole attribute was
    named, or nothing was); ``include`` says whether they were named by
    ``attributes`` (keep them) or by ``excludedAttributes`` (drop them).
    """
    if not attribute.sub_attributes:
        return value
    returned = _returned_of(attribute)

    def keep(name: str) -> bool:
        kind = returned.get(name, ReturnedKind.DEFAULT)
        if kind is ReturnedKind.ALWAYS:
            return True
        if kind is ReturnedKind.NEVER:
            return full
        if kind is ReturnedKind.REQUEST:
            return include and subs is not None and name in subs
        if include:
            return subs is None or name in subs
        return subs is None or name not in subs

    def one(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        return {k: v for k, v in item.items() if keep(k)}

    if isinstance(value, list):
        return [one(item) for item in value]
    return one(value)


def _project_object(
    doc: dict[str, Any],
    container: str,
    attributes: tuple[Attribute, ...],
    selection: _Selection,
    include: bool,
    full: bool,
) -> dict[str, Any]:
    by_name = _by_name(attributes)
    whole = (container, "") in selection
    out: dict[str, Any] = {}
    for name, value in doc.items():
        attribute = by_name.get(name)
        if attribute is None:
            continue
        key = (container, name)
        named = key in selection
        subs = selection.get(key)
        kind = attribute.returned
        if kind is ReturnedKind.NEVER and not full:
            continue
        if kind is ReturnedKind.ALWAYS or (include and whole):
            out[name] = _subs(value, attribute, subs, include=True, full=full)
        elif include:
            if named:
                out[name] = _subs(value, attribute, subs, include=True, full=full)
        elif kind is ReturnedKind.REQUEST or (named and subs is None):
            continue
        else:
            out[name] = _subs(value, attribute, subs, include=False, full=full)
    return out


def project(
    resource: Any,
    attributes: Iterable[str] | None,
    excluded_attributes: Iterable[str] | None,
    *,
    full: bool = False,
) -> dict[str, Any]:
    """Encode ``resource`` keeping what ``attributes``/``excluded_attributes`` ask for.

    >>> from scimcore.models import User, Name
    >>> user = User(id="1", user_name="bjensen", name=Name(given_name="B", family_name="J"))
    >>> project(user, ["name.givenName"], None)
    {'schemas': ['urn:ietf:params:scim:schemas:core:2.0:User'], 'id': '1',
     'name': {'givenName': 'B'}}
    """
    if isinstance(attributes, str):
        attributes = [a for a in attributes.split(",") if a.strip()]
    if isinstance(excluded_attributes, str):
        excluded_attributes = [a for a in excluded_attributes.split(",") if a.strip()]
    if attributes is not None and excluded_attributes is not None:
        raise InvalidValue("'attributes' and 'excludedAttributes' are mutually exclusive.")
    cls = type(resource)
    if isinstance(resource, ListResponse):
        envelope = encoder(cls, full)(resource)
        if "Resources" in envelope:
            envelope["Resources"] = [
                project(item, attributes, excluded_attributes, full=full)
                if isinstance(item, Resource)
                else envelope_item
                for item, envelope_item in zip(
                    resource.resources, envelope["Resources"], strict=True
                )
            ]
        return envelope
    if not issubclass(cls, Resource):
        result: dict[str, Any] = encoder(cls, full)(resource)
        return result
    return project_document(
        cls, encoder(cls, True)(resource), attributes, excluded_attributes, full=full
    )


def project_document(
    cls: type[Resource],
    doc: dict[str, Any],
    attributes: Iterable[str] | None,
    excluded_attributes: Iterable[str] | None,
    *,
    full: bool = False,
) -> dict[str, Any]:
    """:func:`project` for a resource already in its full JSON form.

    ``doc`` is ``encode(resource, full=True)`` of a ``cls`` instance, as a
    store keeps it; the result is what ``encode(resource, attributes=…,
    excluded_attributes=…)`` gives, without building the model.

    >>> from scimcore.models import User
    >>> doc = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1",
    ...        "userName": "bjensen", "password": "t1meMa$heen", "title": "Tour Guide"}
    >>> project_document(User, doc, None, None)
    {'schemas': ['urn:ietf:params:scim:schemas:core:2.0:User'], 'id': '1',
     'userName': 'bjensen', 'title': 'Tour Guide'}
    >>> project_document(User, doc, None, ["title"])
    {'schemas': ['urn:ietf:params:scim:schemas:core:2.0:User'], 'id': '1',
     'userName': 'bjensen'}
    """
    if isinstance(attributes, str):
        attributes = [a for a in attributes.split(",") if a.strip()]
    if isinstance(excluded_attributes, str):
        excluded_attributes = [a for a in excluded_attributes.split(",") if a.strip()]
    if attributes is None and not excluded_attributes and not full:
        return _project_default(cls, doc)
    include = attributes is not None
    paths = list(attributes if attributes is not None else excluded_attributes or ())
    selection = _select(cls, paths) if paths else {}
    base = cls.__scim_schema__.id
    attributes_ = _MODEL_ATTRIBUTES.get(cls)
    if attributes_ is None:
        attributes_ = _MODEL_ATTRIBUTES[cls] = model_attributes(cls)
    out = _project_object(doc, base, attributes_, selection, include, full)
    for urn, ext_cls in cls.__scim_extensions__.items():
        ext_doc = doc.get(urn)
        if not isinstance(ext_doc, dict):
            continue
        attrs_ = ext_cls.__scim_schema__.attributes
        if not include and (urn, "") in selection:
            continue
        projected = _project_object(ext_doc, urn, attrs_, selection, include, full)
        if projected:
            out[urn] = projected
    return {k: out[k] for k in doc if k in out}
