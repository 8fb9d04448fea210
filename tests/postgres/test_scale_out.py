"""Several servers, one database, nothing lost: real ``scimcore serve`` processes over HTTP.

PostgreSQL: two ``scimcore serve --postgres`` processes on one database (their
own schema). SQLite: one multi-threaded ``scimcore serve --db`` process. Both
get the same traffic: 50 concurrent PATCH member-adds to one group, spread
over the servers, and concurrent ``If-Match`` updates of one user. Every member
must land, every stale ``If-Match`` must get 412, and nothing may be silently
overwritten.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from scimcore.models import User
from scimcore.stores import PostgresStore, SQLiteStore
from tests._live import Client

from .conftest import schema_name

pytestmark = [pytest.mark.postgres, pytest.mark.slow]  # real `scimcore serve` processes

TOKEN = "scale-out-token-0123456789"
PREFIX = "/scim/v2"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MEMBERS = 50
RIVALS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _request(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    reply = Client(port, PREFIX, TOKEN).request(method, path, body, headers=headers)
    return reply.status, reply.headers, reply.json


def _command() -> list[str]:
    found = shutil.which("scimcore")
    if found is not None:
        return [found]
    return [sys.executable, "-c", "import sys; from scimcore.cli import main; sys.exit(main())"]


class Servers:
    """``scimcore serve`` processes, stopped (and their output shown on failure) at the end."""

    def __init__(self) -> None:
        self.processes: list[tuple[subprocess.Popen[bytes], Path]] = []
        self.ports: list[int] = []

    def start(self, tmp: Path, *store: str) -> int:
        """Start a server and wait until it answers; a port taken meanwhile is retried."""
        for _ in range(5):
            port = _free_port()
            log = tmp / f"serve-{port}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [*_command(), "serve", "--port", str(port), "--token", TOKEN, *store],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=tmp,
                )
            self.processes.append((process, log))
            if self._ready(process, port, log):
                self.ports.append(port)
                return port
        pytest.fail(f"scimcore serve did not start:\n{log.read_text()}")

    @staticmethod
    def _ready(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                if "address already in use" in log.read_text().lower():
                    return False
                pytest.fail(f"scimcore serve exited:\n{log.read_text()}")
            try:
                if _request(port, "GET", "/ServiceProviderConfig")[0] == 200:
                    return True
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"scimcore serve did not start:\n{log.read_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        for process, _ in self.processes:
            process.terminate()
        for process, _ in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _with_schema(dsn: str, schema: str) -> str:
    """The DSN with ``search_path`` set to ``schema`` (libpq ``options``)."""
    option = quote(f"-c search_path={schema}", safe="")
    return f"{dsn}{'&' if '?' in dsn else '?'}options={option}"


@pytest.fixture(params=["postgres", "sqlite"])
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[list[int], list[str]]]:
    """The servers' ports and the ids of 50 users made beforehand."""
    servers = Servers()
    if request.param == "postgres":
        dsn = request.getfixturevalue("postgres_dsn")
        schema = schema_name()
        store: Any = PostgresStore(dsn, schema=schema, pool_size=2)
        options = ["--postgres", _with_schema(dsn, schema)]
        copies = 2
    else:
        path = tmp_path / "scim.sqlite3"
        store = SQLiteStore(path)
        options = ["--db", str(path)]
        copies = 1
    try:
        ids = [str(store.create(User(user_name=f"member{i:02d}")).id) for i in range(MEMBERS)]
        ids.append(str(store.create(User(user_name="rival", title="0")).id))
        for _ in range(copies):
            servers.start(tmp_path, *options)
        yield servers.ports, ids
    finally:
        servers.stop()
        if isinstance(store, PostgresStore):
            store.drop()
        store.close()


def test_concurrent_member_adds_and_if_match_lose_nothing(
    deployment: tuple[list[int], list[str]],
) -> None:
    ports, ids = deployment
    members, rival = ids[:MEMBERS], ids[MEMBERS]
    status, _, group = _request(
        ports[0],
        "POST",
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Everyone"},
    )
    assert status == 201, group
    status, headers, _ = _request(ports[-1], "GET", f"/Users/{rival}")
    assert status == 200
    stale = headers["etag"]

    def add(n: int) -> int:
        body = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": members[n]}]}],
        }
        return _request(ports[n % len(ports)], "PATCH", f"/Groups/{group['id']}", body)[0]

    def rename(n: int) -> tuple[int, str]:
        body = {
            "schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "title", "value": f"rival-{n}"}],
        }
        status, headers, _ = _request(
            ports[n % len(ports)], "PATCH", f"/Users/{rival}", body, {"If-Match": stale}
        )
        return status, headers.get("etag", "")

    with ThreadPoolExecutor(MEMBERS + RIVALS) as pool:
        adds = [pool.submit(add, n) for n in range(MEMBERS)]
        renames = [pool.submit(rename, n) for n in range(RIVALS)]
        add_statuses = [f.result() for f in adds]
        rename_results = [f.result() for f in renames]

    assert add_statuses == [200] * MEMBERS
    for port in ports:  # every server sees every member
        status, _, stored = _request(port, "GET", f"/Groups/{group['id']}")
        assert status == 200
        assert sorted(m["value"] for m in stored["members"]) == sorted(members)
        status, _, listed = _request(port, "GET", f"/Users/{members[7]}")
        assert [g["value"] for g in listed["groups"]] == [group["id"]]

    statuses = sorted(status for status, _ in rename_results)
    assert statuses == [200] + [412] * (RIVALS - 1), statuses  # one winner, the rest refused
    winner = next(n for n, (status, _) in enumerate(rename_results) if status == 200)
    for port in ports:
        status, headers, stored = _request(port, "GET", f"/Users/{rival}")
        assert stored["title"] == f"rival-{winner}"  # nobody overwrote the winner
        assert headers["etag"] == rename_results[winner][1]

    # A stale If-Match stays stale on every server, for PUT and DELETE as well.
    replacement = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "rival",
        "title": "late",
    }
    for port in ports:
        assert _request(port, "PUT", f"/Users/{rival}", replacement, {"If-Match": stale})[0] == 412
        assert _request(port, "DELETE", f"/Users/{rival}", None, {"If-Match": stale})[0] == 412
    assert _request(ports[0], "GET", f"/Users/{rival}")[2]["title"] == f"rival-{winner}"
