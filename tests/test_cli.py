"""The command line, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import scimcore
from scimcore.schema import core_schemas


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scimcore.cli", *args], capture_output=True, text=True, check=False
    )


def test_schemas_prints_the_core_schemas() -> None:
    result = _run("schemas")
    assert result.returncode == 0, result.stderr
    documents = json.loads(result.stdout)
    assert documents == [schema.to_dict() for schema in core_schemas().schemas]


def test_one_schema_by_name_or_urn() -> None:
    by_name = json.loads(_run("schemas", "group").stdout)
    by_urn = json.loads(_run("schemas", "urn:ietf:params:scim:schemas:core:2.0:Group").stdout)
    assert by_name == by_urn
    assert by_name["id"] == "urn:ietf:params:scim:schemas:core:2.0:Group"


def test_unknown_schema() -> None:
    result = _run("schemas", "Device")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "scimcore: no core schema is called 'Device'\n"


def test_version() -> None:
    assert _run("--version").stdout == f"scimcore {scimcore.__version__}\n"
