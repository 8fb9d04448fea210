"""Development sessions: ``nox -s tests lint typing docs bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "coverage", "lint", "typing", "docs"]
nox.options.default_venv_backend = "venv"


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite: unit, property, doctests and the docs' examples."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def coverage(session: nox.Session) -> None:
    """Branch coverage of the filter package (grammar, AST, evaluator) must stay at 100%."""
    session.install("-e", ".[test]")
    session.run(
        "python",
        "-m",
        "pytest",
        "tests/filter",
        "src/scimcore/filter",
        "docs/filters.md",
        "--cov=scimcore.filter",
        "--cov-branch",
        "--cov-report=term-missing",
        "--cov-fail-under=100",
    )


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py", "docs")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py", "docs")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict over src and tests."""
    session.install("-e", ".[typing]")
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the docs with warnings as errors, then run their examples."""
    session.install("-e", ".[docs]")
    session.run("sphinx-build", "-W", "--keep-going", "-b", "html", "docs", "docs/_build/html")
    session.run("python", "-m", "pytest", "docs", "-p", "no:randomly")


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmarks, side by side with the pinned peers; prints ratios."""
    session.install("-e", ".[bench,test]")
    session.run("python", "benchmarks/run.py", *session.posargs)
