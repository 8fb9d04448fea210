"""Hypothesis: decode(encode(x)) == x for every core type and for generated custom schemas."""

from __future__ import annotations

import keyword
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimcore.codecs.v2 import decode, encode
from scimcore.models import (
    BulkRequest,
    BulkResponse,
    EnterpriseUser,
    Error,
    Group,
    ListResponse,
    PatchOp,
    ResourceTypeResource,
    SchemaResource,
    SearchRequest,
    ServiceProviderConfigResource,
    User,
    make_model,
)
from scimcore.schema import (
    Attribute,
    AttributeType,
    ResourceType,
    Schema,
    SchemaExtension,
    python_name,
)
from scimcore.strategies import resources

CORE: list[Any] = [
    User,
    Group,
    EnterpriseUser,
    ServiceProviderConfigResource,
    ResourceTypeResource,
    SchemaResource,
    ListResponse,
    SearchRequest,
    PatchOp,
    BulkRequest,
    BulkResponse,
    Error,
]


@pytest.mark.parametrize("model", CORE, ids=lambda m: m.__name__)
def test_round_trip_core(model: Any) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(resources(model))
    def check(instance: Any) -> None:
        assert decode(encode(instance, full=True), model) == instance

    check()


_RESERVED = {"schemas", "id", "external_id", "meta", "extensions"}
_NAMES = st.from_regex(r"[a-zA-Z][a-zA-Z0-9]{0,8}", fullmatch=True).filter(
    lambda n: (
        python_name(n).isidentifier()
        and not keyword.iskeyword(python_name(n))
        and python_name(n) not in _RESERVED
        and n.casefold() not in {"schemas", "id", "externalid", "meta", "extensions"}
    )
)
_LEAF_TYPES = [t for t in AttributeType if t is not AttributeType.COMPLEX]


def _unique(attributes: list[Attribute]) -> list[Attribute]:
    seen: set[str] = set()
    out = []
    for attribute in attributes:
        key = attribute.python_name
        if key not in seen and attribute.name.casefold() not in seen:
            seen.update({key, attribute.name.casefold()})
            out.append(attribute)
    return out


def _leaf_attribute() -> Any:
    return st.builds(
        Attribute,
        name=_NAMES,
        type=st.sampled_from(_LEAF_TYPES),
        multi_valued=st.booleans(),
        returned=st.sampled_from(["always", "never", "default", "request"]),
        mutability=st.sampled_from(["readOnly", "readWrite", "immutable", "writeOnly"]),
    )


def _attribute() -> Any:
    complex_ = st.builds(
        Attribute,
        name=_NAMES,
        type=st.just(AttributeType.COMPLEX),
        multi_valued=st.booleans(),
        sub_attributes=st.lists(_leaf_attribute(), min_size=1, max_size=4).map(_unique),
    )
    return st.one_of(_leaf_attribute(), complex_)


@st.composite
def custom_models(draw: Any) -> Any:
    attributes = _unique(draw(st.lists(_attribute(), min_size=1, max_size=6)))
    ext_attributes = _unique(draw(st.lists(_attribute(), min_size=1, max_size=3)))
    schema = Schema("urn:example:schemas:Thing", "Thing", attributes=attributes)
    ext_schema = Schema(
        "urn:example:schemas:extension:Thing", "ThingExt", attributes=ext_attributes
    )
    ext = make_model(ext_schema)
    resource_type = ResourceType(
        name="Thing",
        endpoint="/Things",
        schema=schema.id,
        schema_extensions=[SchemaExtension(ext_schema.id)],
    )
    return make_model(schema, resource_type=resource_type, extensions=[ext])


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), custom_models())
def test_round_trip_custom_schemas(data: Any, model: Any) -> None:
    instance = data.draw(resources(model))
    assert decode(encode(instance, full=True), model) == instance


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_attribute(), min_size=1, max_size=6).map(_unique))
def test_schema_model_schema(attributes: list[Attribute]) -> None:
    """A model made from a generated schema derives that same schema back."""
    from scimcore.models import schema_from_class

    schema = Schema("urn:example:schemas:Gen", "Gen", attributes=attributes)
    assert schema_from_class(make_model(schema), schema.id, name="Gen") == schema
