"""Cost of ``ws.snapshot()`` + ``ws.restore(snap)`` (issue 10: target <= 5 ms for a workspace
of 1,000 runs) and of ``ws.export(path)`` / ``Workspace.load(path)``.

The workspace is seeded directly (the runs of bench/seeding.py: 5 params, 5 metrics, 6 tags
each, plus one small artifact per run), outside any timing; each figure is the median of
``--repeat`` rounds.

    python bench/snapshot.py                  # 1,000 runs
    python bench/snapshot.py --runs 10000 --repeat 5
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def seeded(runs: int):  # type: ignore[no-untyped-def]
    from bench.seeding import run_data
    from mlemu import Workspace

    ws = Workspace()
    exp = ws.tracking.create_experiment("/Shared/snapshot-bench")
    for i in range(runs):
        d = run_data(i)
        run = ws.tracking.create_run(exp.experiment_id, run_name=d["name"], start_time=d["start_time"])
        ws.tracking.log_batch(run.info.run_id,
                              metrics=[(k, v, d["start_time"], 0) for k, v in d["metrics"].items()],
                              params=list(d["params"].items()),
                              tags=[(k, v) for k, v in d["tags"].items() if k != "mlflow.runName"])
        ws.tracking.update_run(run.info.run_id, status="FINISHED", end_time=d["end_time"])
        ws.storage.write("dbfs", f"/databricks/mlflow-tracking/{exp.experiment_id}/{run.info.run_id}"
                                 "/artifacts/model.txt", f"model {i}".encode())
    return ws


def _ms(fn) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def measure(runs: int, repeat: int) -> dict:
    ws = seeded(runs)
    snap = ws.snapshot()
    snapshot_ms, restore_ms, export_ms, load_ms = [], [], [], []
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ws.zip")
        for _ in range(repeat):
            snapshot_ms.append(_ms(ws.snapshot))
            restore_ms.append(_ms(lambda: ws.restore(snap)))
            export_ms.append(_ms(lambda: ws.export(path)))
            load_ms.append(_ms(lambda: type(ws).load(path)))
        size = os.path.getsize(path)
    med = statistics.median
    return {"runs": runs, "snapshot_bytes": len(snap), "export_bytes": size,
            "snapshot_ms": round(med(snapshot_ms), 2), "restore_ms": round(med(restore_ms), 2),
            "snapshot_plus_restore_ms": round(med(a + b for a, b in zip(snapshot_ms, restore_ms)), 2),
            "export_ms": round(med(export_ms), 2), "load_ms": round(med(load_ms), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    print(json.dumps(measure(args.runs, args.repeat), indent=2))


if __name__ == "__main__":
    main()
