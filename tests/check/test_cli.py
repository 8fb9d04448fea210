"""``scimcore check URL`` against a real ``scimcore serve`` on loopback, in child processes."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client.conftest import BIN, TOKEN, free_port, spawn, stop


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [str(BIN / "scimcore"), "serve", "--memory", "--port", "{port}", "--token", TOKEN]
    process, port = spawn(command, "http://127.0.0.1:{port}/scim/v2/ServiceProviderConfig", log)
    try:
        yield f"http://127.0.0.1:{port}/scim/v2"
    finally:
        stop(process)


def scimcore_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "scimcore"), "check", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_served_scimcore_has_no_findings(served: str, tmp_path: Path) -> None:
    result = scimcore_check(
        served,
        "--token",
        TOKEN,
        "--max-examples",
        "40",
        "--allow-destructive",
        "--json",
        str(tmp_path / "report.json"),
        "--junit",
        str(tmp_path / "report.xml"),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"scimcore check {served} (SCIM 2.0)\n")
    assert "\nno findings; 14 checks, " in result.stdout
    assert "  filter.differential: passed (40 examples)\n" in result.stderr  # progress
    report = json.loads((tmp_path / "report.json").read_text())
    assert (report["target"], report["ok"], report["version"]) == (served, True, 2)
    assert [c["status"] for c in report["checks"]] == ["passed"] * 12 + ["skipped"] * 2
    suite = ElementTree.parse(tmp_path / "report.xml").getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("14", "0", "2")
    assert [case.get("name") for case in suite][:3] == [
        "discovery",
        "auth.bad_token",
        "errors.not_found",
    ]


def test_a_wrong_token_cannot_seed_and_says_so(served: str) -> None:
    result = scimcore_check(served, "--token", "wrong", "--quiet", "--only", "paging")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("scimcore: check: paging: creating a user answered 401")
    assert "Traceback" not in result.stderr


def test_an_unreachable_server_is_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}/scim/v2"
    result = scimcore_check(url, "--token", "t", "--quiet")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"scimcore: check: {url}: ")
    assert result.stderr.count("\n") == 1


def test_bad_arguments_are_usage_errors() -> None:
    result = scimcore_check("not-a-url", "--token", "t")
    assert (result.returncode, result.stderr) == (
        2,
        "scimcore: check: 'not-a-url' is not an http(s) URL\n",
    )
    result = scimcore_check("http://x", "--profile", "nope")
    assert result.returncode == 2
    assert "invalid choice: 'nope'" in result.stderr
