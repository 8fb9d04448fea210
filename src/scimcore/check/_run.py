"""``check()``: one run of every check against a server, and the pytest helper."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from scimcore.check._findings import Finding, Outcome, Report
from scimcore.check._fuzz import check_filters, check_patches, check_projections
from scimcore.check._protocol import PROTOCOL_CHECKS, Skip, paging
from scimcore.check._replay import ENTRA, OKTA, replay
from scimcore.check._session import Budget, SeedError, Session
from scimcore.check._target import Target
from scimcore.client import TransportError
from scimcore.errors import ScimError
from scimcore.policy import Policy

__all__ = ["CHECKS", "PROFILES", "CheckError", "assert_conforms", "check"]

#: ``--profile`` names and the :class:`~scimcore.Policy` each compares with.
PROFILES: dict[str, Callable[[], Policy]] = {
    "interop": Policy.interop,
    "strict": Policy.strict,
    "entra": Policy.entra,
    "okta": Policy.okta,
}


class CheckError(Exception):
    """The run could not go on: the server is unreachable, or refused the seeded resources."""


def _filters(session: Session) -> tuple[list[Finding], int]:
    if session.config is not None and not session.config.filter.supported:
        raise Skip("filter.supported is false")
    result = check_filters(session)
    return ([result.finding] if result.finding else []), result.examples


def _projections(session: Session) -> tuple[list[Finding], int]:
    if session.version != 2:
        raise Skip("SCIM 1.1 projections are not compared yet")
    result = check_projections(session)
    return ([result.finding] if result.finding else []), result.examples


def _patches(session: Session) -> tuple[list[Finding], int]:
    if session.version != 2:
        raise Skip("SCIM 1.1 PATCH is not compared yet")
    if session.config is not None and not session.config.patch.supported:
        raise Skip("patch.supported is false")
    result = check_patches(session)
    return ([result.finding] if result.finding else []), result.examples


def _replay(provider: str) -> Callable[[Session], tuple[list[Finding], int]]:
    steps = {"Entra": ENTRA, "Okta": OKTA}[provider]
    preset = PROFILES[provider.lower()]

    def run(session: Session) -> tuple[list[Finding], int]:
        if session.policy != preset():
            raise Skip(f"a compatibility replay: runs with --profile {provider.lower()}")
        if session.version != 2:
            raise Skip("the replay is of SCIM 2.0 requests")
        return replay(session, provider, steps), 0

    return run


def _counted(
    function: Callable[[Session], list[Finding]],
) -> Callable[[Session], tuple[list[Finding], int]]:
    return lambda session: (function(session), 0)


#: Every check, in the order it runs: (name, function returning findings and examples).
CHECKS: tuple[tuple[str, Callable[[Session], tuple[list[Finding], int]]], ...] = (
    *((name, _counted(function)) for name, function in PROTOCOL_CHECKS),
    ("paging", paging),
    ("filter.differential", _filters),
    ("patch.differential", _patches),
    ("projection.differential", _projections),
    ("replay.entra", _replay("Entra")),
    ("replay.okta", _replay("Okta")),
)


def check(
    target: str | Callable[..., Any],
    *,
    token: str | None = None,
    version: int = 2,
    profile: str = "interop",
    max_examples: int = 200,
    time_budget: float | None = None,
    allow_destructive: bool = False,
    base_url: str | None = None,
    only: Iterable[str] | None = None,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Check a SCIM server against the RFCs and scimcore's reference; the :class:`Report`.

    ``target`` is the server's base URL (``https://example.com/scim/v2``) or an
    ASGI or WSGI application, called in process (at ``base_url``, by default
    ``http://scimcore-check.invalid/scim/v2``). ``profile`` names the
    :class:`~scimcore.Policy` preset the answers are compared under;
    ``max_examples`` bounds each fuzzed check, ``time_budget`` (seconds) the
    fuzzing as a whole; ``only`` runs the named checks (see :data:`CHECKS`);
    ``seed`` draws the same examples on every run. The resources a run creates are
    named with the report's ``prefix`` (random, or derived from ``seed``).
    Raises :class:`CheckError` when the server cannot be reached or refuses the
    seeded resources; everything the run created is deleted before it returns.

    >>> from scimcore import ScimService
    >>> from scimcore.asgi import create_app
    >>> from scimcore.stores import MemoryStore
    >>> app = create_app(ScimService(MemoryStore(), tokens=["t"]), prefix="/scim/v2")
    >>> report = check(app, token="t", max_examples=10)
    >>> report.ok, report.exit_code
    (True, 0)
    """
    if version not in (1, 2):
        raise ValueError(f"version must be 1 or 2, not {version!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    say = progress or (lambda line: None)
    wanted = None if only is None else set(only)
    started = time.monotonic()
    where = target if isinstance(target, str) else f"{type(target).__name__} (in process)"
    server = Target(target, token=token, version=version, base_url=base_url)
    session = Session(
        server,
        policy=PROFILES[profile](),
        budget=Budget(max_examples=max_examples, seconds=time_budget, seed=seed),
        allow_destructive=allow_destructive,
        progress=say,
    )
    outcomes: list[Outcome] = []
    try:
        for name, function in CHECKS:
            if wanted is not None and name not in wanted and name != "discovery":
                continue
            say(f"{name} ...")
            begun = time.monotonic()
            try:
                findings, examples = function(session)
            except Skip as skip:
                outcomes.append(Outcome(name, "skipped", time.monotonic() - begun, 0, str(skip)))
                say(f"{name}: skipped ({skip})")
                continue
            except (httpx.TransportError, TransportError) as error:
                raise CheckError(f"{server.base_url}: {error or type(error).__name__}") from None
            except (SeedError, ScimError) as error:
                raise CheckError(f"{name}: {error}") from None
            status = "failed" if findings else "passed"
            outcomes.append(
                Outcome(name, status, time.monotonic() - begun, examples, "", tuple(findings))
            )
            say(f"{name}: {status}" + (f" ({examples} examples)" if examples else ""))
    finally:
        try:
            for problem in session.cleanup():
                say(f"clean-up: could not delete {problem}")
        except (httpx.TransportError, TransportError):
            say("clean-up: the server is unreachable")
        server.close()
    return Report(
        target=where,
        prefix=session.prefix,
        version=version,
        profile=profile,
        outcomes=tuple(outcomes),
        seconds=time.monotonic() - started,
        requests=server.requests,
    )


def assert_conforms(app: Callable[..., Any], **options: Any) -> Report:
    """Check an ASGI or WSGI app in process; raise ``AssertionError`` with the report on findings.

    For a framework's own test suite (``options`` are :func:`check`'s)::

        def test_scim_conformance():
            assert_conforms(create_app(), token="t", max_examples=50)
    """
    report = check(app, **options)
    if not report.ok:
        raise AssertionError(report.render())
    return report
