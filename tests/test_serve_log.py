"""`scimcore serve`'s access log: one line a request, whatever the request holds."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from scimcore._serve import logged


async def _answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 401, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _log_line(caplog: pytest.LogCaptureFixture, path: str, query: bytes = b"") -> str:
    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": query,
        "client": ("127.0.0.1", 5000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    with caplog.at_level(logging.INFO, logger="scimcore.serve"):
        asyncio.run(logged(_answer)(scope, receive, send))
    (record,) = caplog.records
    return record.getMessage()


def test_a_decoded_newline_cannot_forge_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    # GET /scim/v2/Users/x%0a127.0.0.1%20GET%20/scim/v2/Users%20200: uvicorn decodes the path.
    line = _log_line(caplog, "/scim/v2/Users/x\n127.0.0.1 GET /scim/v2/Users 200")
    assert line.startswith(
        r"127.0.0.1 GET /scim/v2/Users/x\x0a127.0.0.1 GET /scim/v2/Users 200 401"
    )
    assert "\n" not in line


def test_terminal_escapes_and_separators_are_escaped(caplog: pytest.LogCaptureFixture) -> None:
    line = _log_line(caplog, "/scim/v2/Users/\x1b[2J\u2028\x9b\\x0a", b"filter=\x00")
    assert line.startswith(r"127.0.0.1 GET /scim/v2/Users/\x1b[2J\u2028\x9b\\x0a?filter=\x00 401")


def test_a_long_target_is_cut(caplog: pytest.LogCaptureFixture) -> None:
    line = _log_line(caplog, "/scim/v2/Users/" + "a" * 100_000)
    assert len(line) < 2100
    assert "…(98015 more) 401" in line


def test_a_scim_error_logs_its_scim_type_and_detail(caplog: pytest.LogCaptureFixture) -> None:
    from scimcore._serve import build_app
    from scimcore.policy import Policy
    from scimcore.stores import MemoryStore
    from tests._live import Client, LiveServer

    with (
        caplog.at_level(logging.INFO, logger="scimcore.serve"),
        LiveServer(build_app(MemoryStore(), ["t"], Policy())) as port,
    ):
        Client(port, "/scim/v2", "t").get("/Users?filter=" + "userName%20eq%0a")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "scimcore.serve"]
    assert line.startswith("127.0.0.1 GET /scim/v2/Users?filter=userName%20eq%0a 400 ")
    assert line.endswith(""" invalidFilter "Unexpected '\\x0a'; expected a space and a value.\"""")


def test_an_unexpected_error_is_one_line_and_the_traceback_is_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from scimcore.service import Request, ScimService
    from scimcore.stores import MemoryStore

    class Broken(MemoryStore):
        def get(self, model: Any, resource_id: str) -> Any:
            raise RuntimeError("disk on fire\n" + "x" * 10_000)

        get_document = get

    with caplog.at_level(logging.DEBUG, logger="scimcore"):
        response = ScimService(Broken()).handle(Request("GET", "/Users/a\nb"))
    assert response.status == 500
    error, debug = caplog.records
    assert (error.levelname, error.exc_info, debug.levelname) == ("ERROR", None, "DEBUG")
    assert error.getMessage().startswith(
        "scimcore: unexpected error serving GET /Users/a\\x0ab: RuntimeError: disk on fire\\x0axxx"
    )
    assert len(error.getMessage()) < 700
    assert debug.exc_info is not None
