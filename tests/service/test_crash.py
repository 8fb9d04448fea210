"""kill -9 during writes loses no acknowledged write (issue 21 item 9).

``scimcore serve`` runs as a user runs it, a real process on loopback, with a
SQLite file or a PostgreSQL schema; four clients create users as fast as it
answers; the server is killed with SIGKILL at a moment that varies from round to
round, then started again on the same data. Every user whose create was
answered 201 must be there, exactly once, and SQLite's integrity check must pass.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http import client as httpclient
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TOKEN = "crash-test-token"
#: The ``scimcore`` command of this environment, as ``pip install`` made it.
SCIMCORE = str(Path(sys.executable).with_name("scimcore"))
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """``scimcore serve`` in a child process, killed and restarted at will."""

    def __init__(self, *where: str) -> None:
        self.where = where
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *(SCIMCORE, "serve", *self.where, "--port", str(self.port)),
                *("--token", TOKEN, "--failed-auth-per-minute", "100000"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = self.request("GET", "/ServiceProviderConfig")
                if status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("scimcore serve did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        connection = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = None if body is None else json.dumps(body).encode()
            connection.request(
                method,
                "/scim/v2" + path,
                body=data,
                headers={
                    "Authorization": f"Bearer {TOKEN}",
                    "Content-Type": "application/scim+json",
                },
            )
            response = connection.getresponse()
            payload = response.read()
            return response.status, json.loads(payload) if payload else None
        finally:
            connection.close()

    def user_names(self) -> list[str]:
        names: list[str] = []
        start = 1
        while True:
            status, page = self.request("GET", f"/Users?startIndex={start}&count=1000")
            assert status == 200 and isinstance(page, dict)
            names += [r["userName"] for r in page.get("Resources", [])]
            start += 1000
            if start > page["totalResults"]:
                return names


def _write_until_killed(server: Server, round_: int, after: float) -> list[str]:
    """Four clients create users until the server dies ``after`` seconds in; the names of
    the creates answered 201."""
    acknowledged: list[str] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        for i in range(100_000):
            name = f"r{round_}-c{n}-{i}"
            try:
                status, _ = server.request("POST", "/Users", {"schemas": [USER], "userName": name})
            except (OSError, httpclient.HTTPException):  # the server is gone, maybe mid-answer
                return
            if status == 201:
                with lock:
                    acknowledged.append(name)

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for thread in clients:
        thread.start()
    time.sleep(after)
    server.kill()
    for thread in clients:
        thread.join(30)
    return acknowledged


def _rounds(server: Server) -> int:
    acknowledged: list[str] = []
    for round_, after in enumerate((0.4, 0.9, 1.3)):
        server.start()
        acknowledged += _write_until_killed(server, round_, after)
    server.start()
    try:
        names = server.user_names()
    finally:
        server.kill()
    assert set(acknowledged) <= set(names), sorted(set(acknowledged) - set(names))[:10]
    assert len(names) == len(set(names))
    return len(acknowledged)


def test_sqlite_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    acknowledged = _rounds(Server("--db", str(path)))
    assert acknowledged > 100  # about 1,500 on two cores
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


@pytest.fixture
def postgres_schema(postgres_dsn: str) -> Iterator[str]:
    import psycopg

    schema = f"scim_crash_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.mark.postgres
def test_postgres_loses_no_acknowledged_write(postgres_dsn: str, postgres_schema: str) -> None:
    separator = "&" if "?" in postgres_dsn else "?"
    dsn = f"{postgres_dsn}{separator}options=-csearch_path%3D{postgres_schema}"
    assert _rounds(Server("--postgres", dsn)) > 100
