"""The Dockerfile and the documented ``docker run`` lines: their commands are scimcore's own."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

from scimcore.cli import _joined, _parser

ROOT = Path(__file__).parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _instruction(name: str) -> list[str]:
    (line,) = [line for line in DOCKERFILE.splitlines() if line.startswith(name + " ")]
    value: list[str] = json.loads(line[len(name) + 1 :])
    return value


def test_the_image_runs_scimcore_serve_on_every_interface() -> None:
    assert _instruction("ENTRYPOINT") == ["scimcore"]
    args = _parser().parse_args(_instruction("CMD"))
    assert (args.host, args.port, args.db) == ("0.0.0.0", 8000, "scimcore.sqlite3")
    assert "WORKDIR /data" in DOCKERFILE and "VOLUME /data" in DOCKERFILE  # the db is kept
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    installed = re.search(r'"/src\[(.+?)\]"', DOCKERFILE)
    assert installed is not None
    assert set(installed.group(1).split(",")) <= set(extras["optional-dependencies"])


def test_the_documented_docker_run_lines_parse() -> None:
    text = DOCKERFILE + (ROOT / "docs" / "identity-providers.md").read_text()
    lines = re.findall(r"docker run [^\n]*?scimcore ((?:\\\n|[^\n])+)", text)
    commands = [shlex.split(line.replace("\\\n", " ").replace("#", "")) for line in lines]
    assert len(commands) == 4
    for command in commands:
        args = _parser().parse_args(_joined(command))
        assert args.command in ("serve", "token")
        if args.command == "serve":
            assert (args.host, args.base_url) == ("0.0.0.0", "https://scim.example.com")
