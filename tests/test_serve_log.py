"""`scimcore serve`'s access log: one line a request, whatever the request holds."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from scimcore._log import LineHandler
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


class _Writes:
    """A stream that remembers each write."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("form", ["text", "json"])
def test_serve_s_handler_writes_a_request_line_as_logging_would(form: str) -> None:
    stream = _Writes()
    handler = LineHandler(stream, form)  # type: ignore[arg-type]
    record = logging.LogRecord(
        "scimcore.serve", logging.WARNING, "", 0, "%s", ("GET /x 404",), None
    )
    record.scim = {"status": 404}
    record.created = 1_700_000_000.25
    record.msecs = 250.0
    expected = handler.format(record)
    handler.request_line(logging.WARNING, "GET /x 404", {"status": 404}, created=record.created)
    assert stream.writes == [expected + "\n"]


def test_the_lines_of_one_turn_of_the_loop_go_out_in_one_write_and_in_order() -> None:
    stream = _Writes()
    handler = LineHandler(stream)  # type: ignore[arg-type]
    logger = logging.getLogger("scimcore.test_lines")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)

    async def turn() -> tuple[list[str], list[str]]:
        handler.request_line(logging.INFO, "first", {})
        handler.request_line(logging.INFO, "second", {})
        logger.warning("third")  # a record the usual way writes what is kept before itself
        handler.request_line(logging.INFO, "fourth", {})
        handler.request_line(logging.INFO, "fifth", {})
        before = list(stream.writes)
        await asyncio.sleep(0)
        after_a_turn = list(stream.writes)  # kept for up to WAIT seconds, not one turn
        await asyncio.sleep(handler.WAIT * 3)
        return before, after_a_turn

    before, after_a_turn = asyncio.run(turn())
    messages = [[line.split(" ", 3)[2:] for line in w.splitlines()] for w in stream.writes]
    assert before == after_a_turn == stream.writes[:2]
    assert messages == [
        [["INFO", "first"], ["INFO", "second"]],
        [["WARNING", "third"]],
        [["INFO", "fourth"], ["INFO", "fifth"]],
    ]
    assert handler.takes(logger, logging.INFO) and not handler.takes(logger, logging.DEBUG)


def test_a_full_batch_of_lines_is_written_without_waiting() -> None:
    stream = _Writes()
    handler = LineHandler(stream)  # type: ignore[arg-type]
    handler.MOST_KEPT = 3

    async def turn() -> list[str]:
        for name in ("one", "two", "three", "four"):
            handler.request_line(logging.INFO, name, {})
        return list(stream.writes)

    written = asyncio.run(turn())
    assert [[line.split(" ", 3)[3] for line in w.splitlines()] for w in written] == [
        ["one", "two", "three"]
    ]
    handler.flush()
    assert stream.writes[1].split(" ", 3)[3] == "four\n"
