"""``mlflow.sklearn.log_model`` under ``mlemu.emulate()``: with ``pip_requirements``, without them
(mlemu infers the requirements, the default) and without them under
``infer_requirements="mlflow"`` (mlflow's subprocess, what every log_model cost before).

    python bench/log_model.py [--calls 5]

Medians of interleaved calls; writes ``.bench-out/log_model.md``, which ``bench/run.py`` puts
into ``docs/performance.md``. Target: without ``pip_requirements`` within 2x of with them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARMS = ("pip_requirements given", "inferred by mlemu (default)", "inferred by mlflow (opt-out)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=5, help="timed calls per arm (mlflow's arm is slow)")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    import mlflow
    import numpy as np
    import sklearn
    from sklearn.linear_model import LogisticRegression

    import mlemu

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    name = {"name": "model"} if mlflow.__version__.startswith("3.") else {"artifact_path": "model"}
    pins = [f"scikit-learn=={sklearn.__version__}"]
    samples: dict[str, list[float]] = {a: [] for a in ARMS}

    def once(arm: str) -> float:
        mode = "mlflow" if arm == ARMS[2] else "mlemu"
        kwargs = {"pip_requirements": pins} if arm == ARMS[0] else {}
        with mlemu.emulate(infer_requirements=mode):
            mlflow.set_experiment("/Shared/bench-log-model")
            with mlflow.start_run():
                t0 = time.perf_counter()
                mlflow.sklearn.log_model(model, **name, **kwargs)
                return time.perf_counter() - t0

    for arm in ARMS:  # warm-up: imports, the first app build
        once(arm)
    for _ in range(args.calls):
        for arm in ARMS:
            samples[arm].append(once(arm))
    med = {a: statistics.median(v) for a, v in samples.items()}
    ratio = med[ARMS[1]] / med[ARMS[0]]
    lines = ["## `log_model` without `pip_requirements` (`bench/log_model.py`)", "",
             f"`mlflow.sklearn.log_model` of a `LogisticRegression` under `mlemu.emulate()`, medians of "
             f"{args.calls} interleaved calls per arm (run {time.strftime('%Y-%m-%d %H:%M')}, load average "
             f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}).", "",
             "| requirements | median | vs pip_requirements given |", "|---|---:|---:|"]
    lines += [f"| {a} | {med[a] * 1000:.0f} ms | {med[a] / med[ARMS[0]]:.2f}x |" for a in ARMS]
    lines += ["", f"Target: without `pip_requirements` within 2x of with them: {ratio:.2f}x, "
                  f"**{'PASS' if ratio <= 2 else 'MISS'}**.", ""]
    out = ROOT / ".bench-out"
    out.mkdir(exist_ok=True)
    (out / "log_model.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
