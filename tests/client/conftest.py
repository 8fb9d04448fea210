"""Real servers for the client's live tests, each in a child process on a free port.

- ``scimcore serve`` on a SQLite file, and on PostgreSQL (a schema of its own,
  through the DSN's ``search_path``);
- scim2-server 0.8.3 from PyPI (``scim2-server`` command), a foreign server.

``live_server`` is parametrized over the three: ``(name, base_url, token)``.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

TOKEN = "client-test-token-0123456789"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(process: subprocess.Popen[bytes], url: str) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        try:
            urllib.request.urlopen(request, timeout=2).close()
            return True
        except urllib.error.HTTPError as error:
            error.close()
            time.sleep(0.05)
        except OSError:
            time.sleep(0.05)
    return False


def spawn(command: list[str], probe: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start a server (``{port}`` in the command and the probe URL), retrying on a taken port."""
    for _ in range(5):
        port = free_port()
        with log.open("wb") as out:
            process = subprocess.Popen(
                [part.format(port=port) for part in command],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if _wait(process, probe.format(port=port)):
            return process, port
        stop(process)
    raise RuntimeError(f"{command[0]} did not start:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _scimcore(where: list[str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    command = [str(BIN / "scimcore"), "serve", *where, "--port", "{port}", "--token", TOKEN]
    probe = "http://127.0.0.1:{port}/scim/v2/ServiceProviderConfig"
    process, port = spawn(command, probe, log)
    return process, f"http://127.0.0.1:{port}/scim/v2"


@pytest.fixture(scope="module")
def sqlite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``scimcore serve --db FILE``: its base URL."""
    directory = tmp_path_factory.mktemp("serve")
    process, url = _scimcore(["--db", str(directory / "scim.sqlite3")], directory / "log")
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory, postgres_dsn: str) -> Iterator[str]:
    """``scimcore serve --postgres DSN`` in a schema of its own: its base URL."""
    import psycopg

    schema = f"scim_client_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in postgres_dsn else "?"
    dsn = f"{postgres_dsn}{separator}options=-csearch_path%3D{schema}"
    directory = tmp_path_factory.mktemp("serve-pg")
    try:
        process, url = _scimcore(["--postgres", dsn], directory / "log")
        try:
            yield url
        finally:
            stop(process)
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="module")
def scim2_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """scim2-server 0.8.3 (in memory): its base URL."""
    directory = tmp_path_factory.mktemp("scim2-server")
    command = [str(BIN / "scim2-server"), "--port", "{port}", "--bearer-token", TOKEN]
    process, port = spawn(
        command, "http://127.0.0.1:{port}/v2/ServiceProviderConfig", directory / "log"
    )
    try:
        yield f"http://127.0.0.1:{port}/v2"
    finally:
        stop(process)


@pytest.fixture(
    scope="module",
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        "scim2-server",
    ],
)
def live_server(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Each server in turn: ``(name, base URL)``."""
    name: str = request.param
    fixture = {"sqlite": "sqlite_server", "postgres": "postgres_server"}.get(name, "scim2_server")
    url: str = request.getfixturevalue(fixture)
    return name, url
