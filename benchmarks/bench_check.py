"""Check: `scimcore check` against `scimcore serve --memory`, checked filter examples per second.

One `scimcore serve --memory` runs in a child process; `scimcore.check.check()` sends it
2,000 generated filters over loopback (httpx) and compares each answer with the
evaluator's. What is timed is the wall time of the filter differential alone (the
server's time included: both share the machine). Target from issue 18: at least 200
checked filter examples per second. A second row runs every check (2,000 filters, 2,000
PATCH requests, the protocol checks) and prints its findings, which must be none.

    python benchmarks/run.py check
"""

from __future__ import annotations

import atexit
import socket
import subprocess
import sys
import time
import urllib.request

from _harness import Case

TOKEN = "bench-token-0123456789"
EXAMPLES = 2000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve() -> str:
    port = _free_port()
    command = [sys.executable, "-m", "scimcore.cli", "serve", "--memory", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--token", TOKEN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    atexit.register(process.terminate)
    url = f"http://127.0.0.1:{port}/scim/v2"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/ServiceProviderConfig", timeout=1).close()
            return url
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("scimcore serve did not start")


def cases() -> list[Case]:
    from scimcore.check import check

    url = _serve()

    def filters() -> object:
        report = check(url, token=TOKEN, max_examples=EXAMPLES, only=["filter.differential"])
        outcome = report.outcomes[-1]
        rate = outcome.examples / outcome.seconds
        verdict = "met" if rate >= 200 else "NOT MET"
        print(f"  {outcome.examples} filters checked in {outcome.seconds:.2f}s: {rate:.0f}/s")
        print(f"  (target ≥200/s {verdict}; findings: {len(report.findings)})")
        return report

    def everything() -> object:
        report = check(url, token=TOKEN, max_examples=EXAMPLES, allow_destructive=True)
        print(f"  every check, {report.examples} examples: {len(report.findings)} findings")
        for finding in report.findings:
            print(finding.render())
        return report

    return [
        Case(f"check: {EXAMPLES} filter examples, serve --memory", filters, None, number=1),
        Case(f"check: every check, {EXAMPLES} examples each", everything, None, number=1),
    ]
