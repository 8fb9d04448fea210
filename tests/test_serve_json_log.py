"""`serve --log-format json --log-level warning`: refused requests only, one JSON object each."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from scimcore._serve import build_app, configure_logging
from scimcore.policy import Policy
from scimcore.stores import MemoryStore
from tests._live import Client, LiveServer

USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger("scimcore")
    saved = (root.handlers[:], root.level, root.propagate)
    configure_logging("warning", "json")
    out = io.StringIO()
    root.handlers[0].setStream(out)  # type: ignore[attr-defined]
    try:
        yield out
    finally:
        root.handlers[:], root.level, root.propagate = saved


def test_json_lines_of_the_refused_requests(stream: io.StringIO) -> None:
    with LiveServer(build_app(MemoryStore(), ["t"], Policy.strict())) as port:
        client = Client(port, "/scim/v2", "t")
        assert client.post("/Users", {"schemas": [USER], "userName": "ok"}).status == 201
        assert (
            client.post("/Users", {"schemas": [USER], "userName": "x", "active": "True"}).status
            == 400
        )
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1  # the 201 is below --log-level warning
    (line,) = lines
    assert {k: line[k] for k in ("level", "method", "target", "status", "scimType", "detail")} == {
        "level": "warning",
        "method": "POST",
        "target": "/scim/v2/Users",
        "status": 400,
        "scimType": "invalidValue",
        "detail": "Expected a boolean, got a string. (at active)",
    }
    assert line["client"] == "127.0.0.1" and line["time"].endswith("Z") and line["ms"] >= 0
