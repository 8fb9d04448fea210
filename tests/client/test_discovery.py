"""Discovery against a real server: a custom resource type becomes a model the client made
from the server's own schema; SCIM 1.1 on the wire with the same models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scimcore import Group, NotFound, User
from scimcore.asgi import create_app
from scimcore.client import Client, attr
from scimcore.models import make_model
from scimcore.schema import Attribute, ResourceType, Schema
from scimcore.service import ScimService, ScimV1Service
from scimcore.stores import SQLiteStore
from tests._live import LiveServer

DEVICE = "urn:example:schemas:Device"
SERVER_DEVICE = make_model(
    Schema(
        DEVICE,
        "Device",
        attributes=[
            Attribute("serialNumber", required=True, case_exact=True, uniqueness="server"),
            Attribute("ports", "integer", multi_valued=True),
        ],
    ),
    resource_type=ResourceType(name="Device", endpoint="/Devices", schema=DEVICE),
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of Users, Groups and Devices, SCIM 2.0 and 1.1: its root (without /v2)."""
    models = (User, Group, SERVER_DEVICE)
    path: Path = tmp_path_factory.mktemp("discovery") / "scim.sqlite3"
    store = SQLiteStore(path, models=models)
    service = ScimService(store, resource_types=models)
    v1 = ScimV1Service(service)
    with LiveServer(
        _both(create_app(service, prefix="/scim/v2"), create_app(v1, prefix="/scim/v1"))
    ) as port:
        yield f"http://127.0.0.1:{port}/scim"
    store.close()


def _both(v2: object, v1: object) -> object:
    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        path = str(scope.get("path", ""))
        target = v1 if path.startswith("/scim/v1") else v2
        await target(scope, receive, send)  # type: ignore[operator]

    return app


def test_a_custom_type_is_made_from_the_servers_schema(base: str) -> None:
    with Client(f"{base}/v2") as client:
        device = client.model("Device")
        assert device is not SERVER_DEVICE  # the client's own, made from /Schemas
        assert device.__scim_resource_type__.endpoint == "/Devices"
        created = client.create(device(serial_number="X1", ports=[80, 443]))
        assert (created.serial_number, created.ports) == ("X1", [80, 443])
        found = client.search(device, attr("ports").eq(443))
        assert [d.serial_number for d in found.resources] == ["X1"]
        assert [d.id for d in client.iter_resources(device)] == [created.id]
        assert sorted(client.discover().resource_types) == ["Device", "Group", "User"]


def test_scim_1_1(base: str) -> None:
    with Client(f"{base}/v1", version=1) as client:
        created = client.create(User(user_name="v1user", title="Tour Guide"))
        assert created.id is not None
        assert client.get(User, created.id).title == "Tour Guide"
        page = client.search(User, attr("userName").eq("v1user"))
        assert [u.id for u in page.resources] == [created.id]
        patched = client.patch(
            User, created.id, {"Operations": [{"op": "replace", "path": "title", "value": "Boss"}]}
        )
        assert (patched or client.get(User, created.id)).title == "Boss"
        assert created.id in [u.id for u in client.iter_resources(User, page_size=2)]
        client.delete(User, created.id)
        with pytest.raises(NotFound):
            client.get(User, created.id)
        assert client.discover().config.bulk.max_operations == 1000  # /ServiceProviderConfigs
