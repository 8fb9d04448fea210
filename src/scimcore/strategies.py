"""Hypothesis strategies for fuzzing SCIM servers and libraries.

Hypothesis is an optional dependency: import this module only where it is
installed. The module is registered as a Hypothesis entry point, so the
strategies for scimcore's types are known to ``st.from_type`` as soon as
Hypothesis loads.
"""

from __future__ import annotations

from typing import Any

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    """Called by Hypothesis when it loads (its ``hypothesis`` entry point)."""
    _register_filter_types()


# ----------------------------------------------------------------------------- resources
# Owned by the models developer (scimcore.models, scimcore.codecs.v2). resources(model)
# generates typed instances of any model class, read from its schema; every one survives
# decode(encode(x, full=True), type(x)) == x.

__all__ += ["resources"]


def _text() -> Any:
    from hypothesis import strategies as st

    return st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


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
            [timezone.utc, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
        )
        return st.datetimes(timezones=zones)
    if kind == "json":
        leaves = st.none() | st.booleans() | st.integers(-100, 100) | _text()
        return st.recursive(
            leaves,
            lambda inner: st.lists(inner, max_size=3)
            | st.dictionaries(_text(), inner, max_size=3),
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


# ----------------------------------------------------------------------------- filters and paths
# Owned by the filter module: the strategies live in scimcore.filter._strategies. filters(model)
# and paths(model) draw ASTs (over a model's real attributes, with well-typed values);
# filter_strings() and path_strings() draw text from grammar.lark with hypothesis.extra.lark.

from scimcore.filter._strategies import (  # noqa: E402
    filter_strings,
    filters,
    path_strings,
    paths,
)
from scimcore.filter._strategies import register_types as _register_filter_types  # noqa: E402

__all__ += ["filter_strings", "filters", "path_strings", "paths"]
