"""Tracing benchmark (on demand, not part of the suite): the cost of ``@mlflow.trace`` on a
small function against mlemu, synchronous export (what the tests use) and mlflow 3's default
asynchronous export, against the same function untraced.

    python bench/tracing.py                 # 200 calls each
    python bench/tracing.py --calls 1000

Each traced call with synchronous export makes 3 requests (StartTraceV3, upload credentials,
the PUT of traces.json), all answered in-process; "in mlemu" is the time spent inside
``App.handle`` per traced call, the rest is the client's own work.
"""
from __future__ import annotations

import argparse
import os
import time
from typing import Callable


def _per_call_us(fn: Callable[[int], object], calls: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for i in range(calls):
            fn(i)
        best = min(best, (time.perf_counter() - t0) / calls)
    return best * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()

    import mlflow
    import mlemu

    def work(i: int) -> int:
        return sum(range(50)) + i

    traced = mlflow.trace(work)
    from mlemu.server.wire.app import App
    server = {"s": 0.0}
    original = App.handle

    def timed_handle(self, *a, **kw):  # the emulator's own share of each request
        t = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            server["s"] += time.perf_counter() - t

    App.handle = timed_handle  # type: ignore[method-assign]
    rows = []
    for mode in ("false", "true"):
        os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = mode
        with mlemu.emulate() as ws:
            mlflow.set_experiment(f"{ws.user.home}/bench-tracing")
            plain = _per_call_us(work, args.calls)
            server["s"] = 0.0
            t0 = time.perf_counter()
            cost = _per_call_us(traced, args.calls)
            mlflow.flush_trace_async_logging(terminate=False) if mode == "true" else None
            drained = (time.perf_counter() - t0) / (3 * args.calls) * 1e6
            kept = len(ws.tracing.traces())
            in_mlemu = server["s"] / (3 * args.calls) * 1e6
            rows.append((f"async={mode}", plain, cost, drained, in_mlemu, kept))
    print(f"{'export':<12} {'untraced us':>12} {'traced us':>10} {'incl. flush us':>15} "
          f"{'in mlemu us':>12} {'traces kept':>12}")
    for name, plain, cost, drained, in_mlemu, kept in rows:
        print(f"{name:<12} {plain:>12.1f} {cost:>10.0f} {drained:>15.0f} {in_mlemu:>12.0f} {kept:>12}")


if __name__ == "__main__":
    main()
