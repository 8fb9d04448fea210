"""A small timing harness: scimcore and a peer, side by side, in one process.

Each benchmark module defines ``cases() -> list[Case]``; ``run.py`` times
every case and prints one table of ratios. Times are the best of several
repeats (the least disturbed run), per call.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Case", "best_time", "report"]


@dataclass
class Case:
    """One comparison: scimcore's callable against a peer's doing the same work."""

    name: str
    ours: Callable[[], object]
    peer: Callable[[], object] | None
    peer_name: str = ""
    target: float | None = None  # the speed-up the issue asks for (peer time / our time)
    number: int | None = None  # calls per repeat; chosen automatically when None
    # What is timed: wall time by default; time.process_time for this process's CPU time
    # alone (a client whose server runs in another process).
    clock: Callable[[], float] = time.perf_counter


def best_time(
    func: Callable[[], object],
    number: int | None = None,
    repeat: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls."""
    if number is None:
        number = 1
        while True:
            start = clock()
            for _ in range(number):
                func()
            if clock() - start > 0.2:
                break
            number *= 2
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        best = float("inf")
        for _ in range(repeat):
            start = clock()
            for _ in range(number):
                func()
            best = min(best, (clock() - start) / number)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


def _fmt(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.1f} {unit}"
    return f"{seconds / 1e-9:.0f} ns"


def best_times(
    ours: Callable[[], object],
    peer: Callable[[], object],
    number: int,
    repeat: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, float]:
    """Seconds per call of each, best of ``repeat`` runs, the two sides' runs interleaved.

    On a shared machine whose speed drifts over seconds (a cloud VM's neighbours),
    timing one side's runs and then the other's lets the drift into the ratio;
    alternating them gives both sides the same moments.
    """
    best_ours = best_peer = float("inf")
    for _ in range(repeat):
        for func, side in ((ours, "ours"), (peer, "peer")):
            start = clock()
            for _ in range(number):
                func()
            elapsed = (clock() - start) / number
            if side == "ours":
                best_ours = min(best_ours, elapsed)
            else:
                best_peer = min(best_peer, elapsed)
    return best_ours, best_peer


def report(cases: list[Case]) -> list[tuple[str, float, float | None, float | None]]:
    """Time every case, print a table, return (name, ours, peer, ratio) rows.

    A case with a fixed ``number`` and a peer alternates the two sides' runs
    (:func:`best_times`); the others time each side in turn (:func:`best_time`).
    """
    rows = []
    print(f"{'case':<58} {'scimcore':>10} {'peer':>10} {'ratio':>8}  target")
    for case in cases:
        peer: float | None
        if case.number is not None and case.peer is not None:
            ours, peer = best_times(case.ours, case.peer, case.number, clock=case.clock)
        else:
            ours = best_time(case.ours, case.number, clock=case.clock)
            peer = (
                best_time(case.peer, case.number, clock=case.clock)
                if case.peer is not None
                else None
            )
        ratio = peer / ours if peer is not None else None
        verdict = ""
        if case.target is not None and ratio is not None:
            verdict = f"≥{case.target:g}× {'met' if ratio >= case.target else 'NOT MET'}"
        shown = f"{ratio:.{2 if ratio < 2 else 1}f}×" if ratio else "-"
        print(
            f"{case.name:<58} {_fmt(ours):>10} {_fmt(peer) if peer else '-':>10} "
            f"{shown:>8}  {verdict} {case.peer_name}"
        )
        rows.append((case.name, ours, peer, ratio))
    return rows
