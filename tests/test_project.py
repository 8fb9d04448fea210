"""The project's own promises: CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", readme)


def test_readme_opens_with_two_commands() -> None:
    commands = _readme_commands()
    assert len(commands) >= 2
    assert commands[0].startswith("python -m pip install")
    assert commands[1] == 'python -m pip install -e ".[test]" && python -m pytest'


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in ci
