"""Custom schemas both ways: models from schemas, schemas from attrs classes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from scimcore.codecs.v2 import Context, decode, encode
from scimcore.errors import InvalidValue
from scimcore.models import (
    Complex,
    Extension,
    Resource,
    User,
    make_model,
    schema_from_class,
    scim_attribute,
    scim_extension,
    scim_resource,
)
from scimcore.schema import (
    Attribute,
    AttributeType,
    ResourceType,
    Schema,
    SchemaExtension,
    core_schemas,
)

DEVICE = "urn:example:schemas:Device"
WARRANTY = "urn:example:schemas:extension:Warranty:2.0:Device"


@attrs.define(kw_only=True)
class Port(Complex):
    number: int | None = scim_attribute(required=True)
    protocol: str | None = scim_attribute(canonical_values=["tcp", "udp"])


@scim_extension(WARRANTY, name="Warranty")
@attrs.define(kw_only=True)
class Warranty(Extension):
    expires: datetime | None = None
    coverage: float | None = scim_attribute(description="The share of costs covered.")


@scim_resource(DEVICE, name="Device", endpoint="/Devices", extensions=[Warranty])
@attrs.define(kw_only=True)
class Device(Resource):
    serial_number: str | None = scim_attribute(required=True, case_exact=True, uniqueness="server")
    firmware: str | None = scim_attribute(type="binary")
    owner_ref: str | None = scim_attribute(
        name="ownerRef", type="reference", reference_types=["User"]
    )
    secret: str | None = scim_attribute(mutability="writeOnly", returned="never")
    ports: list[Port] = attrs.field(factory=list)
    tags: list[str] = attrs.field(factory=list)
    online: bool | None = None


def test_schema_derived_from_class() -> None:
    schema = Device.__scim_schema__
    assert schema.id == DEVICE
    assert [a.name for a in schema.attributes] == [
        "serialNumber",
        "firmware",
        "ownerRef",
        "secret",
        "ports",
        "tags",
        "online",
    ]
    serial = schema.attribute("serialNumber")
    assert serial is not None
    assert (serial.required, serial.case_exact, serial.uniqueness.value) == (True, True, "server")
    ports = schema.attribute("ports")
    assert ports is not None and ports.multi_valued and ports.type is AttributeType.COMPLEX
    assert [s.name for s in ports.sub_attributes] == ["number", "protocol"]
    assert Port.__scim_attribute__ == ports
    assert schema.attribute("firmware").type is AttributeType.BINARY  # type: ignore[union-attr]
    assert Device.__scim_resource_type__.extension_urns == (WARRANTY,)


def test_class_model_round_trips() -> None:
    device = Device(
        id="d1",
        serial_number="SN-1",
        ports=[Port(number=443, protocol="tcp")],
        tags=["rack-4"],
        online=True,
        secret="s",
    )
    device[Warranty] = Warranty(expires=datetime(2030, 1, 1, tzinfo=UTC), coverage=0.5)
    doc = encode(device, full=True)
    assert doc == {
        "schemas": [DEVICE, WARRANTY],
        "id": "d1",
        "serialNumber": "SN-1",
        "secret": "s",
        "ports": [{"number": 443, "protocol": "tcp"}],
        "tags": ["rack-4"],
        "online": True,
        WARRANTY: {"expires": "2030-01-01T00:00:00Z", "coverage": 0.5},
    }
    assert decode(doc, Device) == device
    assert "secret" not in encode(device)


def test_class_model_request_rules() -> None:
    with pytest.raises(InvalidValue) as info:
        decode(
            {"schemas": [DEVICE], "ports": [{"protocol": "udp"}], "serialNumber": "x"},
            Device,
            context=Context.CREATION,
        )
    assert info.value.location == "$.ports[0].number"


def test_schema_to_model_to_schema() -> None:
    """A model made from a schema describes that same schema."""
    for schema in core_schemas().schemas:
        model = make_model(schema)
        derived = schema_from_class(
            model, schema.id, name=schema.name, description=schema.description
        )
        assert derived == attrs.evolve(schema, meta=None)


def test_model_from_schema_round_trips_with_user_data() -> None:
    registry = core_schemas()
    user_schema = registry.schema("urn:ietf:params:scim:schemas:core:2.0:User")
    assert user_schema is not None
    dynamic_user = make_model(
        user_schema, resource_type=User.__scim_resource_type__, registry=registry, name="DynUser"
    )
    doc: dict[str, Any] = {
        "schemas": [user_schema.id],
        "userName": "u",
        "name": {"givenName": "G"},
        "emails": [{"value": "a@example.com", "primary": True}],
    }
    instance = decode(doc, dynamic_user)
    assert instance.name.given_name == "G"
    assert encode(instance) == doc
    assert encode(decode(doc, User)) == doc


def test_make_model_needs_extension_models() -> None:
    schema = Schema(DEVICE, "Device", attributes=[Attribute("serial")])
    resource_type = ResourceType(
        name="Device",
        endpoint="/Devices",
        schema=DEVICE,
        schema_extensions=[SchemaExtension(WARRANTY)],
    )
    with pytest.raises(ValueError, match="no model for the extension"):
        make_model(schema, resource_type=resource_type)
    model = make_model(schema, resource_type=resource_type, extensions=[Warranty])
    assert dict(model.__scim_extensions__) == {WARRANTY: Warranty}


def test_make_model_refuses_unusable_names() -> None:
    with pytest.raises(ValueError, match="no Python name"):
        make_model(Schema("urn:x", "X", attributes=[Attribute("class")]))
    with pytest.raises(ValueError, match="two attributes"):
        make_model(Schema("urn:x", "X", attributes=[Attribute("fooBar"), Attribute("foo_bar")]))
    with pytest.raises(ValueError, match="in any case"):
        make_model(Schema("urn:x", "X", attributes=[Attribute("tagA"), Attribute("TAGA")]))
    resource_type = ResourceType(name="X", endpoint="/X", schema="urn:x")
    with pytest.raises(ValueError, match="clashes with 'externalId'"):
        make_model(
            Schema("urn:x", "X", attributes=[Attribute("EXTERNALID")]), resource_type=resource_type
        )


def test_decorator_refuses_other_classes() -> None:
    with pytest.raises(TypeError):
        scim_resource("urn:x", name="X", endpoint="/X")(Port)


def test_class_derived_model_property() -> None:
    from hypothesis import HealthCheck, given, settings

    from scimcore.strategies import resources

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(resources(Device))
    def check(device: Device) -> None:
        assert decode(encode(device, full=True), Device) == device

    check()
