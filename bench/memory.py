"""Memory per logged metric point (issue 8: target <= 150 bytes a point; 1,000,000 points in
<= 300 MB including the journal's default setting).

Requests go through ``Workspace.handle`` (the code both transports call, without a client
on top), so the figure is mlemu's own: the run's metric history plus the journal.

    python bench/memory.py                        # 1,000,000 points by log-batch (1,000 a call)
    python bench/memory.py --points 100000 --per-call 1 --journal off    # log-metric calls
"""
from __future__ import annotations

import argparse
import gc
import json
import time
import tracemalloc


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        import os
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(points: int, per_call: int, journal: str, trace: bool) -> dict:
    from mlemu import Workspace

    ws = Workspace(journal_size=journal)
    auth = {"authorization": f"Bearer {ws.token}"}

    def call(path: str, body: dict) -> dict:
        status, _, out = ws.handle("POST", path, "", auth, json.dumps(body).encode())
        assert status == 200, out
        return json.loads(out) if out else {}

    exp = call("/api/2.0/mlflow/experiments/create", {"name": "/Shared/memory"})["experiment_id"]
    run_id = call("/api/2.0/mlflow/runs/create", {"experiment_id": exp})["run"]["info"]["run_id"]
    gc.collect()
    if trace:
        tracemalloc.start()
    rss0 = _rss_bytes()
    start = time.perf_counter()
    for first in range(0, points, per_call):
        n = min(per_call, points - first)
        if per_call == 1:
            call("/api/2.0/mlflow/runs/log-metric",
                 {"run_id": run_id, "key": "loss", "value": first * 0.5, "timestamp": 1_700_000_000_000 + first,
                  "step": first})
        else:
            call("/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": [
                {"key": "loss", "value": i * 0.5, "timestamp": 1_700_000_000_000 + i, "step": i}
                for i in range(first, first + n)]})
    elapsed = time.perf_counter() - start
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] if trace else None
    rss = _rss_bytes() - rss0
    assert len(ws.tracking.get_run(run_id).data.history["loss"]) == points
    return {"points": points, "per_call": per_call, "journal": journal, "journal_calls": len(ws.calls),
            "rss_mb": round(rss / 2**20, 1), "rss_bytes_per_point": round(rss / points),
            "traced_bytes_per_point": round(traced / points) if traced is not None else None,
            "seconds": round(elapsed, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--per-call", type=int, default=1000, help="1 = log-metric, else log-batch size")
    parser.add_argument("--journal", default="all", help="all | off | N (the last N calls)")
    parser.add_argument("--trace", action="store_true", help="also count Python allocations (slower)")
    args = parser.parse_args()
    print(json.dumps(measure(args.points, args.per_call, args.journal, args.trace)))


if __name__ == "__main__":
    main()
