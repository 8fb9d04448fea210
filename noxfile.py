"""Development sessions: ``nox -s tests quick coverage lint typing docs bench``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "coverage", "lint", "typing", "docs"]
nox.options.default_venv_backend = "venv"
# Keep each session's virtualenv between runs (`nox -s quick` is a sub-minute loop);
# `nox --reuse-venv=no` starts afresh.
nox.options.reuse_venv = "yes"


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite: unit, property, doctests and the docs' examples, on every CPU."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-n", "auto", *session.posargs)


@nox.session
def quick(session: nox.Session) -> None:
    """Every test not marked ``slow``, on every CPU (about 30 s of CPU time)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", "-m", "not slow", "-n", "auto", *session.posargs)


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
    """ruff check, ruff format --check, and the import contracts (lint-imports)."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py", "docs")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py", "docs")
    session.run("lint-imports")


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


@nox.session
def soak(session: nox.Session) -> None:
    """The long reliability runs at the issues' scale (minutes; PostgreSQL for the postgres one)."""
    session.install("-e", ".[test]")
    for store in ("sqlite", "postgres", "memory"):
        session.run("python", "benchmarks/soak_searches.py", "--store", store)
    session.run("python", "benchmarks/soak_connections.py")
