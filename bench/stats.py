"""Timing loops and summaries. Every number the suite reports comes through here."""
from __future__ import annotations

import statistics
import time
from typing import Any, Callable


def summarize(samples_s: list[float]) -> dict[str, Any]:
    """Median, p90, min and mean in milliseconds, with the sample count."""
    if not samples_s:
        return {"n": 0}
    ms = sorted(s * 1000.0 for s in samples_s)
    n = len(ms)
    p90 = ms[min(n - 1, max(0, int(round(0.9 * n)) - 1))]
    return {"n": n, "median_ms": statistics.median(ms), "p90_ms": p90, "min_ms": ms[0],
            "mean_ms": statistics.fmean(ms)}


def measure(fn: Callable[[int], Any], *, warmup: int, iterations: int, budget_s: float,
            min_iterations: int = 5, before: Callable[[int], Any] | None = None,
            pair: Any = None) -> dict[str, Any]:
    """Time ``fn(i)`` per call after ``warmup`` untimed calls.

    Stops after ``iterations`` calls, or once ``budget_s`` of timed work is spent and at least
    ``min_iterations`` calls were made (a slow backend gets fewer samples, never a longer run).
    ``before(i)``, if given, runs untimed before each call.

    ``pair`` (the floor backend's :class:`~bench.backends.floor.Pairing`) alternates the calls
    between two arms in blocks; then the counts are per arm and the result is
    ``{"arms": {arm: summary}}``.
    """
    if pair is not None:
        cycle = 2 * pair.block
        warmup = -(-max(warmup, 1) // cycle) * cycle  # whole cycles: both arms warm, mlemu first
    arm_of = pair.arm if pair is not None else (lambda i: "")
    samples: dict[str, list[float]] = {}
    i = 0
    for _ in range(warmup):
        if pair is not None:
            pair.use(arm_of(i))
        if before is not None:
            before(i)
        fn(i)
        i += 1
    spent = 0.0
    clock = time.perf_counter

    def wanted() -> bool:
        if pair is not None and i % (2 * pair.block):
            return True  # finish the cycle: both arms get the same count
        n = min(len(samples.get(a, ())) for a in (("mlemu", "floor") if pair is not None else ("",)))
        if n >= iterations:
            return False
        return spent < budget_s or n < min_iterations

    while wanted():
        arm = arm_of(i)
        if pair is not None:
            pair.use(arm)
        if before is not None:
            before(i)
        t0 = clock()
        fn(i)
        dt = clock() - t0
        samples.setdefault(arm, []).append(dt)
        spent += dt
        i += 1
    if pair is not None:
        pair.use("mlemu")
        return {"arms": {a: summarize(v) for a, v in samples.items()}, "first_timed": warmup}
    return dict(summarize(samples.get("", [])), first_timed=warmup)


def split_steps(log: list[tuple[int, dict[str, float]]], first_timed: int,
                pair: Any = None) -> dict[str, Any]:
    """Per-step summaries of the timed iterations (per arm when paired)."""
    arms: dict[str, dict[str, list[float]]] = {}
    for i, durations in log:
        if i < first_timed:
            continue
        arm = pair.arm(i) if pair is not None else ""
        for step, dt in durations.items():
            arms.setdefault(arm, {}).setdefault(step, []).append(dt)
    summaries = {arm: {step: summarize(v) for step, v in steps.items()} for arm, steps in arms.items()}
    return summaries if pair is not None else summaries.get("", {})
