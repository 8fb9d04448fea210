"""Independent checkers against scimcore: scim2-tester in-process and, over loopback,
``scimcore serve`` checked by scim2-cli's ``test`` and by ``scim-sanity probe``.

Needs the test tools ``scim2-tester==0.5.2``, ``scim2-cli==0.6.0`` and
``scim-sanity==0.7.4`` (they are test dependencies; nothing is skipped).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from scimcore.service import ScimService
from scimcore.stores import SQLiteStore
from scimcore.wsgi import create_app

pytestmark = pytest.mark.slow  # external checkers against real servers

BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    """The console script of a test tool, next to this Python or on PATH."""
    local = BIN / name
    return str(local) if local.exists() else name


def test_scim2_tester_in_process_against_the_wsgi_app(tmp_path: Path) -> None:
    # Imported here, not at collection: scim2-tester loads pydantic models (~2 s), and
    # `-m "not slow"` collects this module without running it.
    from scim2_client.engines.wsgi import WSGISCIMClient
    from scim2_tester import Status, check_server

    store = SQLiteStore(tmp_path / "scim.sqlite3")
    app = create_app(ScimService(store, tokens=["t"]), prefix="/scim/v2")
    client = WSGISCIMClient(
        app, base_url="http://localhost/scim/v2", headers={"Authorization": "Bearer t"}
    )
    results = check_server(client, raise_exceptions=True)
    store.close()
    failures = [(r.title, r.resource_type, r.reason) for r in results if r.status != Status.SUCCESS]
    assert failures == []
    assert len(results) == 135


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(timeout=20)
    if process.stdout is not None:
        process.stdout.close()


def _answers(process: subprocess.Popen[str], url: str, token: str) -> bool:
    """Wait until this server answers with this token; False if it exited (port taken)."""
    request = urllib.request.Request(
        f"{url}/Groups?count=0", headers={"Authorization": f"Bearer {token}"}
    )
    deadline = time.monotonic() + 20
    while process.poll() is None:
        try:
            urllib.request.urlopen(request, timeout=2).close()
            return True
        except OSError as error:
            if isinstance(error, urllib.error.HTTPError):
                error.close()  # another server's answer (401): ours is not up yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """``scimcore serve`` as a user runs it, on SQLite, with the token it makes and prints.

    The port is free when chosen; if another process (another pytest-xdist worker) binds it
    before the server does, the server exits and is started again on another port. Only this
    server knows the token it printed, so an answer from another one is not mistaken for it.
    """
    directory = tmp_path_factory.mktemp("serve")
    log = directory / "serve.log"
    for _ in range(5):
        port = _free_port()
        with log.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "-m", "scimcore.cli", "serve", "--port", str(port)],
                cwd=directory,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        try:
            assert process.stdout is not None
            banner = process.stdout.readline() + process.stdout.readline()
            token = re.search(r"Authorization: Bearer (\S+)", banner)
            assert token is not None, banner
            url = f"http://127.0.0.1:{port}/scim/v2"
            started = _answers(process, url, token.group(1))
        except BaseException:
            _stop(process)
            raise
        if started:
            break
        _stop(process)
    else:
        pytest.fail(f"scimcore serve did not start:\n{log.read_text()}")
    try:
        yield url, token.group(1), directory
    finally:
        _stop(process)


def test_serve_uses_a_sqlite_file_and_logs_one_line_per_request(
    served: tuple[str, str, Path],
) -> None:
    url, token, directory = served
    request = urllib.request.Request(
        f"{url}/Users?count=1", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    assert (directory / "scimcore.sqlite3").exists()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{url}/Users", timeout=10)
    assert caught.value.code == 401
    caught.value.close()
    time.sleep(0.2)
    lines = (directory / "serve.log").read_text().splitlines()
    assert any(re.search(r"GET /scim/v2/Users\?count=1 200 \d+\.\dms$", line) for line in lines)
    refused = r'GET /scim/v2/Users 401 \d+\.\dms "A bearer token is required \(Authorization'
    assert any(re.search(refused, line) for line in lines)


def test_scim2_cli_reports_every_check_success(served: tuple[str, str, Path]) -> None:
    url, token, _ = served
    result = subprocess.run(
        [_tool("scim2"), "--url", url, "--header", f"Authorization: Bearer {token}", "test"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    statuses = re.findall(
        r"^(SUCCESS|ERROR|CRITICAL|SKIPPED|DEVIATION|COMPLIANT|ACCEPTABLE) ",
        result.stdout,
        re.MULTILINE,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert set(statuses) == {"SUCCESS"}
    assert len(statuses) == 135


def test_scim_sanity_probe_reports_no_failure(served: tuple[str, str, Path]) -> None:
    url, token, _ = served
    result = subprocess.run(
        [_tool("scim-sanity"), "probe", url, "--token", token, "--i-accept-side-effects"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    summary = re.search(
        r"(\d+) passed, (?:(\d+) failed, )?(\d+) skipped, (\d+) total", result.stdout
    )
    assert summary is not None, result.stdout[-3000:]
    assert summary.group(2) in (None, "0")
    assert "[FAIL]" not in result.stdout
