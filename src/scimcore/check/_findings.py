"""What a check run found: :class:`Finding`, :class:`Outcome` per check, the :class:`Report`.

A finding is one request (already shrunk when a fuzzer found it), what the
reference says the answer must be, what the server answered, the RFC section
that says so, and the :class:`~scimcore.Policy` switch that would explain the
difference when one does. The report renders as text, JSON and JUnit XML.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from typing import Any

import attrs

from scimcore.check._target import Sent

__all__ = ["Finding", "Outcome", "Report"]


@attrs.frozen
class Finding:
    """One divergence from the RFCs, shown by one request.

    - ``check``: the check's name (``filter.differential``, ``auth.bad_token``, ...);
    - ``summary``: what is wrong, in one sentence;
    - ``rfc``: the section that backs the finding (``RFC 7644 §3.4.2.2``);
    - ``request``: the (minimal) request that shows it, :meth:`Sent.curl` prints it;
    - ``expected`` and ``actual``: what the answer must be and what it was;
    - ``policy``: the :class:`~scimcore.Policy` switch whose other value explains the
      server's answer (a deviation scimcore tolerates on its side), or ``None``;
    - ``setup``: the requests sent before ``request`` that it depends on (the user a
      PATCH changes, created by a ``POST``).
    """

    check: str
    summary: str
    rfc: str
    request: Sent | None = None
    expected: Any = None
    actual: Any = None
    policy: str | None = None
    setup: tuple[Sent, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The finding as a JSON object."""
        return {
            "check": self.check,
            "summary": self.summary,
            "rfc": self.rfc,
            "request": None
            if self.request is None
            else {
                "method": self.request.method,
                "url": self.request.url,
                "body": self.request.body,
                "headers": dict(self.request.headers),
                "curl": self.request.curl(),
            },
            "expected": self.expected,
            "actual": self.actual,
            "policy": self.policy,
            "setup": [s.curl() for s in self.setup],
        }

    def render(self) -> str:
        """The finding as readable text (several lines)."""
        lines = [f"FAIL {self.check}: {self.summary} ({self.rfc})"]
        lines += [f"  after:    {sent.curl()}" for sent in self.setup]
        if self.request is not None:
            lines.append(f"  request:  {self.request.curl()}")
        if self.expected is not None or self.actual is not None:
            lines.append(f"  expected: {_short(self.expected)}")
            lines.append(f"  actual:   {_short(self.actual)}")
        if self.policy is not None:
            lines.append(f"  explained by the Policy switch: {self.policy}")
        return "\n".join(lines)


def _short(value: Any, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@attrs.frozen
class Outcome:
    """How one check ended: ``"passed"``, ``"failed"`` (with findings) or ``"skipped"``."""

    check: str
    status: str
    seconds: float = 0.0
    examples: int = 0
    reason: str = ""
    findings: tuple[Finding, ...] = ()


@attrs.frozen
class Report:
    """A whole run: the target, the outcome of every check, the totals.

    ``ok`` is true when no check found anything; ``exit_code`` is what
    ``scimcore check`` exits with (0, or 1 on findings). ``prefix`` starts the
    ``userName`` and ``displayName`` of everything the run created (and deleted).
    """

    target: str
    prefix: str
    version: int
    profile: str
    outcomes: tuple[Outcome, ...]
    seconds: float
    requests: int

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of every check."""
        return tuple(f for outcome in self.outcomes for f in outcome.findings)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def examples(self) -> int:
        """Fuzzed examples checked (every check's, shrinking included)."""
        return sum(o.examples for o in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object (what ``--json FILE`` writes)."""
        return {
            "target": self.target,
            "prefix": self.prefix,
            "version": self.version,
            "profile": self.profile,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "examples": self.examples,
            "checks": [
                {
                    "check": o.check,
                    "status": o.status,
                    "seconds": round(o.seconds, 3),
                    "examples": o.examples,
                    "reason": o.reason,
                    "findings": [f.to_json() for f in o.findings],
                }
                for o in self.outcomes
            ],
        }

    def to_junit(self) -> str:
        """The report as JUnit XML (what ``--junit FILE`` writes): a test case per check."""
        suite = ElementTree.Element(
            "testsuite",
            name="scimcore check",
            tests=str(len(self.outcomes)),
            failures=str(sum(o.status == "failed" for o in self.outcomes)),
            skipped=str(sum(o.status == "skipped" for o in self.outcomes)),
            time=f"{self.seconds:.3f}",
        )
        for outcome in self.outcomes:
            case = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"scimcore.check.v{self.version}",
                name=outcome.check,
                time=f"{outcome.seconds:.3f}",
            )
            if outcome.status == "skipped":
                ElementTree.SubElement(case, "skipped", message=outcome.reason)
            for finding in outcome.findings:
                failure = ElementTree.SubElement(
                    case, "failure", message=f"{finding.summary} ({finding.rfc})"
                )
                failure.text = finding.render()
        return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)

    def render(self) -> str:
        """The report as readable text: a line per check, then each finding."""
        lines = [f"scimcore check {self.target} (SCIM {'2.0' if self.version == 2 else '1.1'})"]
        for outcome in self.outcomes:
            note = f" [{outcome.examples} examples]" if outcome.examples else ""
            reason = f": {outcome.reason}" if outcome.reason else ""
            lines.append(f"  {outcome.status:<7} {outcome.check}{note}{reason}")
        for finding in self.findings:
            lines.append("")
            lines.append(finding.render())
        verdict = "no findings" if self.ok else f"{len(self.findings)} finding(s)"
        lines.append("")
        lines.append(
            f"{verdict}; {len(self.outcomes)} checks, {self.examples} examples, "
            f"{self.requests} requests in {self.seconds:.1f}s"
        )
        return "\n".join(lines)
