"""Service over HTTP on loopback: scimcore vs scim2-server 0.8.3, 5,000 users.

Both servers run as separate processes under the same uvicorn (one worker;
httptools and uvloop when installed, as ``uvicorn[standard]`` gives), each
holding the same 5,000 users created over HTTP. scim2-server keeps them in its
``AsyncInMemoryStorage``; scimcore runs in three variants, each against a fresh
scim2-server (``SCIMCORE_BENCH_VARIANTS=sqlite,memory,thread`` picks them):
``sqlite``, a ``SQLiteStore`` file as ``scimcore serve`` runs it (calls on the
event loop, the default for a store with ``short_calls``); ``memory``, a
``MemoryStore``, like for like with scim2-server; ``thread``, the SQLite store
with ``sync_to_thread=True``; and, when asked for, ``serve`` and ``inspect``:
``scimcore serve``'s whole app (its log and failed-authentication wrapper, and its
connections: ``guarded_protocol``) on the SQLite store, without and with
``--inspect``. Targets from issue 7, as ratios of requests per second: GET by id
≥3×, a filter on a non-indexed attribute (``title``) ≥20×, create ≥3×.

The load generator is ``wrk`` (Debian's ``apt-get install wrk``) when it is
on ``PATH``: one process, one thread, ``CONNECTIONS`` keep-alive connections,
so the server is never idle and the client costs little per request. Each
timed call is one wrk run of a fixed number of requests (a Lua script stops
it), so the harness's ratio is a ratio of requests per second; the rates wrk
reports are printed after the table. Starting and stopping wrk costs about
3.5 ms a run, counted in the run's time: each case sends enough requests that
scimcore's runs last 150 ms or more, so that this costs it under 2.5% (with
400 filter requests a run, it cost 5%; the peer's runs last seconds). Without
wrk the benchmark falls back to a lean raw-socket Python client on one
keep-alive connection, which measures latency rather than throughput and
compresses every ratio toward 1 (the client's own cost is in both times). The
header line says which was used.

A first row times a trivial ASGI app (a fixed 200 body) under the same
uvicorn with the same client: the HTTP floor no SCIM server can go below.

    python benchmarks/run.py service
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from _harness import Case

USERS = 5_000
TITLES = 500  # each title is held by 10 users
USER = "urn:ietf:params:scim:schemas:core:2.0:User"

_SERVERS: list[subprocess.Popen[bytes]] = []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(kind: str, port: int, directory: str) -> None:
    """Run one server in this process (the child side)."""
    import uvicorn

    from scimcore._guard import Limits, guarded_protocol

    http: Any = "auto"
    if kind == "floor":
        body = b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]}'

        async def trivial(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/scim+json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})

        app: Any = trivial
    elif kind in ("scimcore-serve", "scimcore-inspect"):
        from scimcore._serve import build_app
        from scimcore.policy import Policy
        from scimcore.stores import SQLiteStore

        # What `scimcore serve` runs (its logging and failed-authentication wrappers), with
        # `--inspect` (200 requests kept) or without.
        inspect = {"inspect": 200} if kind == "scimcore-inspect" else {}
        store = SQLiteStore(Path(directory) / "bench.sqlite3")
        app = build_app(store, [], Policy.interop(), **inspect)
        # ...and its connections (the read deadline, the connection cap, the writes of a
        # loop's turn made as one).
        http = guarded_protocol(Limits())
    elif kind.startswith("scimcore"):
        from scimcore.asgi import create_app
        from scimcore.service import ScimService
        from scimcore.stores import MemoryStore, SQLiteStore

        store: Any = (
            MemoryStore()
            if kind == "scimcore-memory"
            else SQLiteStore(Path(directory) / "bench.sqlite3")
        )
        app = create_app(
            ScimService(store),
            prefix="/scim/v2",
            # The default: a SQLiteStore runs on the event loop (short_calls).
            sync_to_thread=True if kind == "scimcore-thread" else None,
        )
    else:
        from scim2_server.applications.asgi import ASGIApplication
        from scim2_server.memory import AsyncInMemoryStorage
        from scim2_server.utils import load_default_provider

        app = ASGIApplication(AsyncInMemoryStorage(), load_default_provider())
    # The fastest stack uvicorn offers (uvicorn[standard]: httptools, uvloop), for both.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="auto",
        http=http,
        timeout_keep_alive=3600,
    )


class Client:
    """One keep-alive HTTP/1.1 connection, as lean as a load generator's.

    Requests are written as bytes and responses read by ``Content-Length``, so
    that the client costs little next to the servers it measures (http.client
    alone takes about 100 µs a request here). The JSON body is parsed only when
    the caller asks for it.
    """

    def __init__(self, port: int, prefix: str) -> None:
        self.port = port
        self.prefix = prefix
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _read_response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        chunked = False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        self.buffer = rest
        if not chunked:
            data = self._exactly(length)
            return status, data
        body = b""
        while True:
            size = int(self._line(), 16)
            if size == 0:
                self._line()
                return status, body
            body += self._exactly(size)
            self._line()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        self.buffer += chunk

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            self._fill()
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def call(
        self, method: str, path: str, body: Any = None, *, parse: bool = False
    ) -> tuple[int, Any]:
        data = b"" if body is None else json.dumps(body).encode()
        request = (
            f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Accept: application/scim+json\r\nContent-Type: application/scim+json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode() + data
        try:
            self.sock.sendall(request)
            status, payload = self._read_response()
        except (ConnectionError, OSError):
            self.sock.close()
            self.sock = socket.create_connection(("127.0.0.1", self.port))
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buffer = b""
            self.sock.sendall(request)
            status, payload = self._read_response()
        return status, json.loads(payload) if parse and payload else None


def _start(kind: str, prefix: str) -> Client:
    port = _free_port()
    directory = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", kind, str(port), directory],
        stdout=subprocess.DEVNULL,
    )
    _SERVERS.append(process)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    return Client(port, prefix)


def _stop() -> None:
    for process in _SERVERS:
        process.terminate()
        process.wait(timeout=10)


atexit.register(_stop)


def _user(i: int) -> dict[str, Any]:
    return {
        "schemas": [USER],
        "userName": f"user{i:05d}",
        "name": {"givenName": f"Given{i}", "familyName": f"Family{i % 977}"},
        "displayName": f"User {i}",
        "title": f"Title {i % TITLES}",
        "active": i % 3 != 0,
        "emails": [{"value": f"user{i}@example.com", "type": "work", "primary": True}],
    }


def _seed(client: Client) -> list[str]:
    ids = []
    for i in range(USERS):
        status, body = client.call("POST", "/Users", _user(i), parse=True)
        assert status == 201, (status, body)
        ids.append(body["id"])
    return ids


WRK = shutil.which("wrk")
CONNECTIONS = 4
_RATES: list[str] = []


def _lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string literal is a valid Lua string literal here


def _wrk_script(directory: str, name: str, total: int, body: str) -> str:
    """A wrk script: ``body`` defines ``request()``; the run stops after ``total`` responses."""
    script = Path(directory) / f"{name}.lua"
    script.write_text(
        body
        + f"""
local done_count, bad = 0, 0
response = function(status, headers, body)
  done_count = done_count + 1
  if status >= 300 then bad = bad + 1 end
  if done_count == {total} then
    io.write("STOP\\n")
    io.flush()
    wrk.thread:stop()
  end
end
done = function(summary, latency, requests)
  io.write(string.format("requests %d errors %d\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""
    )
    return str(script)


class Load:
    """A fixed number of requests against one server: with wrk, or the Python client."""

    def __init__(self, client: Client, label: str, total: int, body: str, fallback: Any) -> None:
        self.client = client
        self.label = label
        self.total = total
        self.fallback = fallback
        self.directory = tempfile.mkdtemp(prefix="bench-wrk-")
        self.body = body
        self.runs = 0

    def __call__(self) -> None:
        if WRK is None:
            for _ in range(self.total):
                self.fallback()
            return
        url = f"http://127.0.0.1:{self.client.port}{self.client.prefix}"
        self.runs += 1  # RUN in the script: a new value every run (unique userNames)
        body = self.body.replace("RUN", str(self.runs))
        script = _wrk_script(self.directory, f"run{self.runs}", self.total, body)
        # wrk runs for its whole duration even once its thread stops; the script prints
        # STOP after the last response, and SIGINT ends wrk early (it still reports).
        process = subprocess.Popen(
            [WRK, "-t1", f"-c{CONNECTIONS}", "-d300s", "--timeout", "30s", "-s", script, url],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip() == "STOP":
                break
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0]
        errors = int(output.rsplit("errors", 1)[1].split()[0])
        if errors or "Non-2xx" in output:
            raise AssertionError(f"{self.label}: failed requests\n{output}")
        rate = output.split("Requests/sec:", 1)[1].split()[0]
        _RATES.append(f"{self.label:<64} {float(rate):>9,.0f} requests/s")


def _report_rates() -> None:
    if _RATES:
        print(f"\nrequests per second as wrk reports them (-t1 -c{CONNECTIONS}), every run:")
        print("\n".join(_RATES))


atexit.register(_report_rates)


def _cases_for(ours: Client, peer: Client, label: str) -> list[Case]:
    ours_ids, peer_ids = _seed(ours), _seed(peer)
    title = quote('title eq "Title 123"')
    for client in (ours, peer):  # both answer the same thing
        _, body = client.call("GET", f"/Users?filter={title}", parse=True)
        assert body["totalResults"] == USERS // TITLES, body

    def get(client: Client, ids: list[str], name: str) -> Load:
        table = ",".join(_lua_string(f"{client.prefix}/Users/{i}") for i in ids)
        script = f"""local paths = {{{table}}}
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {{["Accept"] = "application/scim+json"}})
end
"""
        ids_cycle = itertools.cycle(ids)

        def one() -> None:
            status, _ = client.call("GET", f"/Users/{next(ids_cycle)}")
            assert status == 200

        return Load(client, f"GET /Users/{{id}}{label} {name}", 5000, script, one)

    def search(client: Client, name: str) -> Load:
        path = f"{client.prefix}/Users?filter={title}"
        script = f"""request = function()
  return wrk.format("GET", {_lua_string(path)}, {{["Accept"] = "application/scim+json"}})
end
"""

        def one() -> None:
            status, _ = client.call("GET", f"/Users?filter={title}")
            assert status == 200

        return Load(client, f"filter{label} {name}", 1600, script, one)

    def create(client: Client, name: str) -> Load:
        # Same user document as the seed, with a unique userName per request; created
        # users get a title no filter above looks for.
        template = json.dumps(_user(0) | {"title": "Created"})
        before, after = template.split('"user00000"')
        script = f"""local n = 0
local tag = "RUN"
request = function()
  n = n + 1
  local body = {_lua_string(before)} .. '"wrk' .. tag .. '-' .. n .. '"' .. {_lua_string(after)}
  return wrk.format("POST", {_lua_string(client.prefix + "/Users")},
    {{["Content-Type"] = "application/scim+json", ["Accept"] = "application/scim+json"}}, body)
end
"""
        counter = itertools.count(USERS)

        def one() -> None:
            status, _ = client.call("POST", "/Users", _user(next(counter)) | {"title": "Created"})
            assert status == 201

        return Load(client, f"POST /Users{label} {name}", 1000, script, one)

    peer_name = "scim2-server 0.8.3"
    return [
        Case(
            f"GET /Users/{{id}}{label}",
            get(ours, ours_ids, "scimcore"),
            get(peer, peer_ids, "scim2-server"),
            peer_name,
            3,
            number=1,
        ),
        Case(
            f'GET /Users?filter=title eq "…" (no index){label}',
            search(ours, "scimcore"),
            search(peer, "scim2-server"),
            peer_name,
            20,
            number=1,
        ),
        Case(
            f"POST /Users{label}",
            create(ours, "scimcore"),
            create(peer, "scim2-server"),
            peer_name,
            3,
            number=1,
        ),
    ]


def _floor() -> Case:
    client = _start("floor", "")
    script = """request = function()
  return wrk.format("GET", "/", {["Accept"] = "application/scim+json"})
end
"""

    def one() -> None:
        status, _ = client.call("GET", "/")
        assert status == 200

    return Case(
        "floor: a trivial ASGI app (fixed 200 body)",
        Load(client, "floor: trivial ASGI app", 20000, script, one),
        None,
        number=1,
    )


def cases() -> list[Case]:
    """The floor, then the three issue-7 comparisons for each scimcore variant (see the
    module docstring); starts and seeds the servers.
    """
    client = f"wrk -t1 -c{CONNECTIONS} ({WRK})" if WRK else "Python raw-socket client, 1 connection"
    print(f"client: {client}; times are per {'wrk run' if WRK else 'batch'} of N requests")
    floor = _floor()
    variants = {
        # The default of `scimcore serve`: a SQLite file, its calls on the event loop.
        "sqlite": ("scimcore", ""),
        # Like for like with scim2-server's in-memory storage.
        "memory": ("scimcore-memory", " (MemoryStore)"),
        # The SQLite store with every request handed to a worker thread.
        "thread": ("scimcore-thread", " (sync_to_thread=True)"),
        # `scimcore serve`'s whole app on the SQLite store, without and with --inspect.
        "serve": ("scimcore-serve", " (serve's app)"),
        "inspect": ("scimcore-inspect", " (serve --inspect)"),
    }
    wanted = os.environ.get("SCIMCORE_BENCH_VARIANTS", "sqlite,memory,thread").split(",")
    out = [floor]
    for name in wanted:
        kind, label = variants[name.strip()]
        out += _cases_for(_start(kind, "/scim/v2"), _start("scim2-server", "/v2"), label)
    return out


if __name__ == "__main__" and len(sys.argv) == 5 and sys.argv[1] == "--serve":
    _serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
