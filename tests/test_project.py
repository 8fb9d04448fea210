"""The project's own promises: CI runs the README's test command and the gates, and the
architecture page's diagram is the import graph the layers contract checks."""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
SRC = ROOT / "src" / "scimcore"
#: The third-party packages the diagram shows (the optional ones: extras and test tools).
OPTIONAL = frozenset(
    {"uvicorn", "psycopg", "psycopg_pool", "hypothesis", "pytest", "starlette", "fastapi"}
    | {"django", "flask", "httpx", "sqlalchemy"}
)


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", readme)


def _ci_lines() -> list[str]:
    return (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_opens_with_two_commands() -> None:
    commands = _readme_commands()
    assert len(commands) >= 2
    assert commands[0].startswith("python -m pip install")
    assert commands[1] == 'python -m pip install -e ".[test]" && python -m pytest -n auto'


def test_ci_runs_the_readme_test_command() -> None:
    assert _readme_commands()[1] in _ci_lines()


def test_ci_runs_the_gates_after_the_tests() -> None:
    lines = [line for line in _ci_lines() if line and not line.lstrip().startswith("#")]
    tests = lines.index(_readme_commands()[1])
    gates = [line.split()[0] for line in lines[tests + 1 :]]
    for gate in ("ruff", "mypy", "lint-imports"):
        assert gate in gates, f".ci/run does not run {gate} after the tests"


def test_ci_lints_what_the_lint_session_lints() -> None:
    noxfile = (ROOT / "noxfile.py").read_text()
    for command in ("check", "format"):
        session = re.search(rf'session\.run\("ruff", "{command}", (.+?)\)\n', noxfile)
        assert session is not None
        nox_args = ast.literal_eval(f"[{session.group(1)}]")
        ci = [line for line in _ci_lines() if line.startswith(f"ruff {command} ")]
        assert len(ci) == 1, ci
        assert shlex.split(ci[0])[2:] == nox_args


# -- docs/architecture.md: the diagram is the import graph -----------------------------------


def _top(path: Path) -> str:
    """``scimcore.<top>`` for a source file: its top-level module or package (``""``: root)."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return "" if parts == ("__init__",) else parts[0]


def _imports() -> dict[str, set[str]]:
    """Each top-level module's imports: other top-level modules, and optional packages."""
    graph: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        top = _top(path)
        package = path.relative_to(SRC.parent).parent.parts  # for relative imports
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = list(package[: len(package) - node.level + 1])
                    module = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    module = node.module or ""
                names.add(module)
                if module == "scimcore":
                    names.update(f"scimcore.{alias.name}" for alias in node.names)
        found = graph.setdefault(top, set())
        for name in names:
            parts = name.split(".")
            if parts[0] == "scimcore" and len(parts) > 1 and parts[1] != top:
                found.add(parts[1])
            elif parts[0] in OPTIONAL:
                found.add("+" + parts[0])
    return graph


def _diagram() -> tuple[list[str], dict[str, set[str]]]:
    """The diagram's layers (top to bottom) and each module's listed imports."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"```text\n(.+?)```", page, re.DOTALL)
    assert block is not None
    layers: list[str] = []
    listed: dict[str, set[str]] = {}
    module = ""
    for line in block.group(1).splitlines():
        if line.startswith("───"):
            layers.append(line.strip("─ "))
            continue
        if not layers or not line.strip():
            continue
        if "→" in line:
            module, _, line = line.partition("→")
            module = module.strip()
            listed[module] = set()
        imported, _, optional = line.partition("+")
        listed[module].update(name.strip() for name in imported.split(",") if name.strip())
        listed[module].update("+" + name.strip() for name in optional.split(",") if name.strip())
    return layers, listed


def _layers_contract() -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return contract  # type: ignore[no-any-return]


def test_the_diagram_is_the_layers_contract() -> None:
    layers, listed = _diagram()
    contract = _layers_contract()
    assert contract["containers"] == ["scimcore"]
    assert layers == contract["layers"]
    in_layers = [name.strip() for layer in layers for name in layer.split("|")]
    assert sorted(in_layers) == sorted(listed)


def test_the_diagram_is_the_import_graph() -> None:
    graph = _imports()
    _, listed = _diagram()
    del graph[""]  # the package itself, the facade over every layer
    assert sorted(listed) == sorted(graph), "a module is missing from the diagram"
    wrong = {
        module: {"diagram": sorted(listed[module]), "source": sorted(graph[module])}
        for module in graph
        if listed[module] != graph[module]
    }
    assert not wrong, f"docs/architecture.md's diagram differs from the imports: {wrong}"
