"""The connection guard of `scimcore serve` on a real uvicorn: read deadlines, a connection cap."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from scimcore._guard import Limits, guarded_protocol
from scimcore.asgi import create_app
from scimcore.service import ScimService
from scimcore.stores import MemoryStore
from tests._live import Client, LiveServer

TOKEN = "guard-test-token"
HALF_HEADER = b"GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture(params=["httptools", "h11"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    base = HttpToolsProtocol if request.param == "httptools" else H11Protocol
    limits = Limits(read_timeout=0.5, max_connections=20)
    app = create_app(ScimService(MemoryStore(), tokens=[TOKEN]), prefix="/scim/v2")
    with LiveServer(app, http=guarded_protocol(limits, base)) as port:
        yield port


def _stalled(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(data)
    return sock


def _closed_by_server(sock: socket.socket, within: float = 10.0) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except (TimeoutError, ConnectionResetError) as exc:
        return isinstance(exc, ConnectionResetError)


def test_half_sent_headers_cannot_keep_a_client_out(port: int) -> None:
    stalled = [_stalled(port, HALF_HEADER) for _ in range(100)]
    try:
        reply = Client(port, "/scim/v2", TOKEN).get("/Users")
        assert reply.status == 200
        assert reply.json["totalResults"] == 0
        # The cap closed the oldest stalled connections to make room; the deadline closes the rest.
        assert all(_closed_by_server(sock) for sock in stalled)
    finally:
        for sock in stalled:
            sock.close()


def _post_head(token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""
    return (
        b"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + auth
        + b"Content-Type: application/scim+json\r\nContent-Length: 1000000\r\n\r\n{"
    )


def test_a_stalled_body_is_disconnected(port: int) -> None:
    sock = _stalled(port, _post_head(TOKEN))
    try:
        assert _closed_by_server(sock)
    finally:
        sock.close()


def test_a_body_without_a_token_is_refused_before_it_is_read(port: int) -> None:
    # 1 byte of the announced 1,000,000 is sent: the 401 cannot wait for the rest.
    with _stalled(port, _post_head(None)) as sock:
        sock.settimeout(10)
        reply = b""
        while chunk := sock.recv(65536):  # to the end: the server closes the connection
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 401 ")
    assert b'"status":"401"' in reply
    # ... with the connection: the server reads none of the rest.
    assert b"\r\nconnection: close\r\n" in reply.split(b"\r\n\r\n")[0].lower() + b"\r\n"


def test_a_keep_alive_connection_serves_request_after_request(port: int) -> None:
    request = (
        f"GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(3):
            sock.sendall(request)
            reply = b""
            while b'"totalResults":0' not in reply:
                chunk = sock.recv(65536)
                assert chunk, "the server closed a connection that was being served"
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 200 ")


def test_failed_authentications_beyond_the_budget_get_429() -> None:
    from scimcore._serve import build_app
    from scimcore.policy import Policy

    app = build_app(MemoryStore(), [TOKEN], Policy(), failed_auth_per_minute=1)
    with LiveServer(app) as port:
        intruder = Client(port, "/scim/v2", "wrong")
        statuses = [intruder.get("/Users").status for _ in range(22)]
        assert statuses == [401] * 20 + [429] * 2
        refused = intruder.get("/Users")
        assert refused.json == {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "429",
            "detail": "Too many failed authentications from this address; retry later.",
        }
        assert 50 <= int(refused.headers["retry-after"]) <= 60
        # A client with the token, from the same address, is still served.
        assert Client(port, "/scim/v2", TOKEN).get("/Users").status == 200
        assert Client(port, "/scim/v1", TOKEN).get("/Users").status == 200


def test_a_request_with_both_transfer_encoding_and_content_length_is_refused() -> None:
    # Request smuggling (RFC 9112 §6.3): httptools, the parser `serve` uses, refuses the pair.
    app = create_app(ScimService(MemoryStore(), tokens=[TOKEN]), prefix="/scim/v2")
    with LiveServer(app, http=guarded_protocol(Limits())) as port:
        smuggled = (
            b"POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            b"GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + TOKEN.encode()
            + b"\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(smuggled)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        assert reply.startswith(b"HTTP/1.1 400 ")
        assert reply.count(b"HTTP/1.1 ") == 1


def _created_location(port: int, prefix: str, host: str, schema: str) -> tuple[str, str]:
    import json
    from http import client as httpclient

    connection = httpclient.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"schemas": [schema], "userName": f"u{prefix[-1]}{host}"})
    connection.request(
        "POST",
        f"{prefix}/Users",
        body=body,
        headers={
            "Host": host,
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/scim+json",
        },
    )
    response = connection.getresponse()
    document = json.loads(response.read())
    connection.close()
    assert response.status == 201, document
    meta = document.get("meta", {})
    return response.getheader("Location") or "", meta.get("location", "")


V2_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
V1_USER = "urn:scim:schemas:core:1.0"


def test_an_untrusted_host_is_not_reflected_into_locations() -> None:
    from scimcore._serve import build_app
    from scimcore.policy import Policy

    app = build_app(MemoryStore(), [TOKEN], Policy(), trusted_hosts=["scim.example.com"])
    with LiveServer(app) as port:
        location, meta = _created_location(port, "/scim/v2", "evil.test", V2_USER)
        assert location.startswith(f"http://127.0.0.1:{port}/scim/v2/Users/")
        assert meta == location
        location, _ = _created_location(port, "/scim/v2", "SCIM.example.com", V2_USER)
        assert location.startswith("http://SCIM.example.com/scim/v2/Users/")
        location, _ = _created_location(port, "/scim/v1", "evil.test", V1_USER)
        assert location.startswith(f"http://127.0.0.1:{port}/scim/v1/Users/")


def test_the_base_url_makes_every_location() -> None:
    from scimcore._serve import build_app
    from scimcore.policy import Policy

    app = build_app(MemoryStore(), [TOKEN], Policy(), base_url="https://scim.example.com/")
    with LiveServer(app) as port:
        location, meta = _created_location(port, "/scim/v2", "evil.test", V2_USER)
        assert location.startswith("https://scim.example.com/scim/v2/Users/")
        assert meta == location
        location, _ = _created_location(port, "/scim/v1", "evil.test", V1_USER)
        assert location.startswith("https://scim.example.com/scim/v1/Users/")


def test_one_timer_closes_each_connection_at_its_own_deadline() -> None:
    """The read deadlines share one timer: the connections expire in the order their
    requests began, a restarted deadline counts from its restart, and a connection taken
    off (its request arrived) never expires."""
    import asyncio

    from scimcore._guard import _Deadlines

    expired: list[str] = []

    class Connection:
        def __init__(self, name: str) -> None:
            self.name = name

        def _too_slow(self) -> None:
            expired.append(self.name)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        deadlines = _Deadlines(0.05)
        first, second, answered, restarted = (Connection(n) for n in ("a", "b", "c", "d"))
        for connection in (first, restarted, second, answered):
            deadlines.start(connection, loop)
        deadlines.started.pop(answered)
        await asyncio.sleep(0.02)
        deadlines.start(restarted, loop)  # its next request began: a new deadline
        while len(expired) < 3:
            await asyncio.sleep(0.01)
        assert deadlines.timer is None and not deadlines.started

    asyncio.run(run())
    assert expired == ["a", "b", "d"]


class _Transport:
    """A transport that records what it is asked to do."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[bytes]]] = []

    def writelines(self, data: list[bytes]) -> None:
        self.calls.append(("writelines", list(data)))

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        self.calls.append(("close", []))

    def abort(self) -> None:
        self.calls.append(("abort", []))

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


def test_a_responses_head_and_body_go_out_in_one_write_at_the_end_of_the_turn() -> None:
    from scimcore._guard import _HeldWrites

    async def run() -> list[list[tuple[str, list[bytes]]]]:
        real = _Transport()
        held = _HeldWrites(real, asyncio.get_running_loop())
        seen = []
        held.write(b"HTTP/1.1 200 OK\r\n\r\n")
        held.write(b"{}")
        seen.append(list(real.calls))  # nothing written yet
        await asyncio.sleep(0)
        seen.append(list(real.calls))  # one write of both, at the end of the turn
        held.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        held.close()  # writes what is held first
        held.write(b"dropped")
        held.abort()  # drops what is held
        seen.append(list(real.calls))
        assert held.get_extra_info("peername") == "extra peername"
        return seen

    assert asyncio.run(run()) == [
        [],
        [("writelines", [b"HTTP/1.1 200 OK\r\n\r\n", b"{}"])],
        [
            ("writelines", [b"HTTP/1.1 200 OK\r\n\r\n", b"{}"]),
            ("writelines", [b"HTTP/1.1 400 Bad Request\r\n\r\n"]),
            ("close", []),
            ("abort", []),
        ],
    ]
