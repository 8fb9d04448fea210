"""Hypothesis strategies for fuzzing SCIM servers and libraries.

Hypothesis is an optional dependency: import this module only where it is
installed. The module is registered as a Hypothesis entry point, so the
strategies for scimcore's types are known to ``st.from_type`` as soon as
Hypothesis loads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

__all__: list[str] = ["patch_requests"]


def _hypothesis_setup_hook() -> None:
    """Called by Hypothesis when it loads (its ``hypothesis`` entry point)."""
    _register_filter_types()
    _register_resource_types()


# ----------------------------------------------------------------------------- PATCH requests
# patch_requests(model) generates RFC 7644 §3.5.2 request bodies for a resource model, read
# from its schemas: mostly well-formed and well-typed, with the deviations identity providers
# send, and some faults (unknown attributes, wrong types, filters that match nothing), so that a
# server sees what it must refuse as well as accept.


def patch_requests(model: type, *, max_operations: int = 4) -> Any:
    """A strategy for PATCH request bodies (JSON objects) for resources of ``model``.

    Paths are drawn from the model's schemas (base, extensions, common attributes),
    in any case, plain, dotted, URN-qualified or with a value filter; values follow
    the attribute's type most of the time.

    >>> from hypothesis import find
    >>> from scimcore.models import User
    >>> body = find(patch_requests(User), lambda b: b["Operations"][0]["op"] == "remove")
    >>> body["schemas"], sorted(body["Operations"][0])
    (['urn:ietf:params:scim:api:messages:2.0:PatchOp'], ['op', 'path'])
    """
    from hypothesis import strategies as st

    operation = _patch_operations(model)
    return st.builds(
        lambda ops: {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": ops,
        },
        st.lists(operation, min_size=1, max_size=max_operations),
    )


def _patch_targets(model: type) -> list[tuple[str, Any, Any]]:
    """(path text, top attribute, targeted attribute) for every attribute of ``model``."""
    registry = model.scim_registry()  # type: ignore[attr-defined]
    resource_type = model.__scim_resource_type__  # type: ignore[attr-defined]
    base = resource_type.schema
    targets: list[tuple[str, Any, Any]] = []
    schemas = [registry.schema(base)] + [registry.schema(u) for u in resource_type.extension_urns]
    for schema in schemas:
        prefix = "" if schema.id == base else f"{schema.id}:"
        attributes = list(schema.attributes)
        if schema.id == base:
            attributes += list(registry.common_attributes)
        for attribute in attributes:
            targets.append((prefix + attribute.name, attribute, attribute))
            for sub in attribute.sub_attributes:
                targets.append((f"{prefix}{attribute.name}.{sub.name}", attribute, sub))
    return targets


_FILTER_WORDS = ("work", "home", "other", "a", "User", "x@example.com")


def _patch_value(attribute: Any, *, element: bool = False) -> Any:
    """JSON values for ``attribute`` (a list for a multi-valued one unless ``element``)."""
    from hypothesis import strategies as st

    from scimcore.schema import AttributeType

    if attribute.multi_valued and not element:
        one = _patch_value(attribute, element=True)
        return st.one_of(st.lists(one, max_size=3), one)
    kind = attribute.type
    words = st.sampled_from(_FILTER_WORDS)
    if kind is AttributeType.COMPLEX:
        subs = {sub.name: _patch_value(sub) for sub in attribute.sub_attributes}
        return st.fixed_dictionaries({}, optional=subs)
    if kind is AttributeType.BOOLEAN:
        return st.one_of(st.booleans(), st.sampled_from(["True", "False", "true", "notabool"]))
    if kind is AttributeType.INTEGER:
        return st.integers(-(2**31), 2**31)
    if kind is AttributeType.DECIMAL:
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if kind is AttributeType.DATETIME:
        return st.sampled_from(["2011-05-13T04:42:34Z", "2024-02-29T12:00:00.5+01:00", "notadate"])
    if kind is AttributeType.BINARY:
        return st.sampled_from(["TWFu", "", "not base64!"])
    return st.one_of(words, st.text(max_size=8), st.integers(0, 9))


def _patch_operations(model: type) -> Any:
    from hypothesis import strategies as st

    targets = _patch_targets(model)
    # The strategies a draw picks from, each made once: one made in a draw is made (and
    # validated) again for every example, which cost more than the draw itself.
    made: dict[tuple[Any, ...], Any] = {}

    def once(key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        if key not in made:
            made[key] = make()
        return made[key]

    def value(attribute: Any, element: bool = False) -> Any:
        return once(
            ("value", id(attribute), element), lambda: _patch_value(attribute, element=element)
        )

    def ops_case(op: str) -> Any:
        return once(("op", op), lambda: st.sampled_from([op, op.upper(), op.capitalize()]))

    operations = st.sampled_from(["add", "remove", "replace"])
    chosen_targets = st.sampled_from(targets)
    shapes = st.sampled_from(["plain", "plain", "filter", "pathless", "unknown", "selection"])
    words = st.sampled_from(_FILTER_WORDS)

    @st.composite
    def one(draw: Any) -> dict[str, Any]:
        op = draw(operations)
        text, top, target = draw(chosen_targets)
        shape = draw(shapes)
        operation: dict[str, Any] = {"op": draw(ops_case(op))}
        if shape == "selection" and top.multi_valued and target is top:
            # remove_with_value: Entra sends {"op": "Remove", "path": "members", "value": [{…}]}
            operation["op"] = draw(ops_case("remove"))
            operation["path"] = text
            operation["value"] = draw(value(top))
            return operation
        if shape == "unknown":
            operation["path"] = "noSuchAttribute"
            operation["value"] = "x"
            return operation
        if shape == "pathless" and op != "remove":
            key = draw(
                once(("key", text), lambda: st.sampled_from([text, text.lower(), text.upper()]))
            )
            operation["value"] = {key: draw(value(target))}
            return operation
        if shape == "filter" and top.multi_valued and top.sub_attributes and target is top:
            subs = once(("subs", id(top)), lambda: st.sampled_from(top.sub_attributes))
            sub = draw(subs)
            word = draw(words)
            path = f'{text}[{sub.name} eq "{word}"]'
            leaf = draw(once(("leaf", id(top)), lambda: st.none() | subs))
            if leaf is not None:
                path += f".{leaf.name}"
                values = value(leaf)
            else:
                values = value(top, element=True)
            operation["path"] = path
            if op != "remove":
                operation["value"] = draw(values)
            return operation
        operation["path"] = draw(
            once(("path", text), lambda: st.sampled_from([text, text.upper()]))
        )
        if op != "remove":
            operation["value"] = (
                draw(once(("or none", id(target)), lambda: st.none() | value(target)))
                if op == "replace"
                else draw(value(target))
            )
        return operation

    return one()


# ----------------------------------------------------------------------------- resources
# resources(model) generates typed instances of any model class, read from its schema; every
# one survives decode(encode(x, full=True), type(x)) == x.

__all__ += ["resources"]


def _text() -> Any:
    from hypothesis import strategies as st

    return st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


def _value_strategy(kind: str) -> Any:
    import base64
    from datetime import timedelta, timezone

    from hypothesis import strategies as st

    if kind in ("string", "reference"):
        return _text()
    if kind == "binary":
        return st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode("ascii"))
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers(-(2**53), 2**53)
    if kind == "decimal":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "dateTime":
        zones = st.sampled_from(
            [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
        )
        return st.datetimes(timezones=zones)
    if kind == "json":
        leaves = st.none() | st.booleans() | st.integers(-100, 100) | _text()
        return st.recursive(
            leaves,
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text(), inner, max_size=3),
            max_leaves=6,
        )
    raise ValueError(f"no strategy for {kind!r}")


def _model_strategy(cls: type, depth: int = 0) -> Any:
    from hypothesis import strategies as st

    from scimcore.codecs.v2._codegen import field_specs
    from scimcore.models import Resource

    fields: dict[str, Any] = {}
    for spec in field_specs(cls):
        if spec.name == "schemas" or spec.kind == "resource":
            continue
        if spec.child is not None:
            one = _model_strategy(spec.child, depth + 1)
        else:
            one = _value_strategy(spec.kind)
        fields[spec.name] = st.lists(one, max_size=2) if spec.multi else st.none() | one
    strategy = st.fixed_dictionaries({}, optional=fields)
    if issubclass(cls, Resource):
        extensions = {
            urn: st.none() | _model_strategy(ext, depth + 1)
            for urn, ext in cls.__scim_extensions__.items()
        }
        base = cls.__scim_schema__.id

        def build(values: dict[str, Any], exts: dict[str, Any]) -> Any:
            present = {urn: ext for urn, ext in exts.items() if ext is not None}
            return cls(schemas=[base, *present], extensions=present, **values)

        return st.builds(build, strategy, st.fixed_dictionaries(extensions))
    return st.builds(lambda values: cls(**values), strategy)


def resources(model: type) -> Any:
    """A strategy for instances of a model class: any resource, extension, complex
    type or message, built from its schema.

    Values follow each attribute's type (aware datetimes, finite floats, base64
    text for binary); extensions are present or not, and ``schemas`` lists the
    base URN and those present.

    >>> from hypothesis import given, settings
    >>> from scimcore.codecs.v2 import decode, encode
    >>> from scimcore.models import User
    >>> @settings(max_examples=20, deadline=None)
    ... @given(resources(User))
    ... def round_trip(user):
    ...     assert decode(encode(user, full=True), User) == user
    >>> round_trip()
    """
    return _model_strategy(model)


def _deferred(model: type) -> Any:
    from hypothesis import strategies as st

    return st.deferred(lambda: resources(model))


def _register_resource_types() -> None:
    """Make ``st.from_type`` draw every built-in model class (called by the Hypothesis hook)."""
    from hypothesis import strategies as st

    import scimcore.models as models

    abstract = {models.Complex, models.Extension, models.Resource, models.Message}
    for name in models.__all__:
        cls = getattr(models, name)
        if isinstance(cls, type) and issubclass(cls, models.ScimModel) and cls not in abstract:
            st.register_type_strategy(cls, _deferred(cls))


# ----------------------------------------------------------------------------- filters and paths
# The strategies live in scimcore.filter._strategies. filters(model) and paths(model) draw
# ASTs (over a model's real attributes, with well-typed values); filter_strings() and
# path_strings() draw text from grammar.lark with hypothesis.extra.lark.

from scimcore.filter._strategies import (  # noqa: E402
    filter_strings,
    filters,
    path_strings,
    paths,
)
from scimcore.filter._strategies import register_types as _register_filter_types  # noqa: E402

__all__ += ["filter_strings", "filters", "path_strings", "paths"]
