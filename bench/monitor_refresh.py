"""Monitor refresh benchmark (on demand, not part of the suite): one ``run_refresh`` through the
real databricks-sdk over an inference log of N rows (5 numeric and 5 categorical features,
prediction, label, one model) spread over 60 days, at daily granularity, with a baseline.

    python bench/monitor_refresh.py                 # 100,000 rows
    python bench/monitor_refresh.py --rows 10000 --granularity "1 hour"

Target (issue 12): <= 3 s for 100k rows at "1 day".
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd


def data(rows: int, days: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = {"ts": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, days * 86_400, rows)), "s")}
    for i in range(5):
        out[f"num_{i}"] = rng.normal(i, 1 + i, rows)
        out[f"cat_{i}"] = rng.choice([f"v{j}" for j in range(3 + i)], rows)
    out["prediction"] = rng.integers(0, 2, rows)
    out["label"] = rng.integers(0, 2, rows)
    out["model_id"] = "1"
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--granularity", default="1 day")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import mlemu
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.catalog import MonitorInferenceLog, MonitorInferenceLogProblemType

    frame = data(args.rows)
    with mlemu.emulate() as ws:
        ws.unity_catalog.ensure_schema("bench.mon")
        ws.unity_catalog.put_table("bench.mon.log", frame)
        ws.unity_catalog.put_table("bench.mon.baseline", frame.head(min(len(frame), 10_000)))
        w = WorkspaceClient()
        ws.monitors.synchronous = False  # create() queues its first refresh; time run_refresh alone
        w.quality_monitors.create(
            "bench.mon.log", output_schema_name="bench.mon", assets_dir="/bench",
            baseline_table_name="bench.mon.baseline",
            inference_log=MonitorInferenceLog(problem_type=MonitorInferenceLogProblemType.PROBLEM_TYPE_CLASSIFICATION,
                                              timestamp_col="ts", granularities=[args.granularity],
                                              prediction_col="prediction", model_id_col="model_id",
                                              label_col="label"))
        w.quality_monitors.cancel_refresh("bench.mon.log", 1)
        ws.monitors.synchronous = True
        times, cpu = [], []
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            r = w.quality_monitors.run_refresh("bench.mon.log")
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            state = w.quality_monitors.get_refresh("bench.mon.log", r.refresh_id).state.value
            assert state == "SUCCESS", state
        profile = ws.unity_catalog.read_table("bench.mon.log_profile_metrics")
        drift = ws.unity_catalog.read_table("bench.mon.log_drift_metrics")
    print(f"rows={args.rows} granularity={args.granularity!r}: refresh best {min(times):.2f} s, "
          f"median {sorted(times)[len(times) // 2]:.2f} s, CPU best {min(cpu):.2f} s "
          f"({len(profile)} profile rows, {len(drift)} drift rows); target <= 3 s")


if __name__ == "__main__":
    main()
