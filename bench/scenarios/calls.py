"""Per-call latency of the simple client calls: ``mlflow.log_metric``, ``mlflow.log_param``,
``MlflowClient().get_run`` (a run with 5 params, 5 metrics, 10 tags) and
``MlflowClient().log_batch`` with 1,000 metrics, on an active run."""
from __future__ import annotations

from typing import Any

from bench.scenarios import pairing, pick
from bench.seeding import run_data
from bench.stats import measure


def seed(params: dict[str, Any]) -> None:
    return None


def run(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    simple = dict(warmup=pick(params, 20, 5), iterations=pick(params, 400, 40),
                  budget_s=pick(params, 8.0, 1.0), min_iterations=pick(params, 30, 10),
                  pair=pairing(backend, 10))
    batch = dict(warmup=pick(params, 4, 2), iterations=pick(params, 100, 10),
                 budget_s=pick(params, 10.0, 1.5), min_iterations=pick(params, 10, 4),
                 pair=pairing(backend, 2))
    exp_id = mlflow.set_experiment("/Shared/bench-calls").experiment_id
    client = MlflowClient()
    d = run_data(7)
    reader = client.create_run(exp_id, run_name="reader")
    reader_id = reader.info.run_id
    client.log_batch(reader_id,
                     metrics=[Metric(k, v, d["end_time"], 0) for k, v in d["metrics"].items()],
                     params=[Param(k, v) for k, v in d["params"].items()],
                     tags=[RunTag(k, v) for k, v in d["tags"].items() if k != "mlflow.runName"])
    client.set_terminated(reader_id)
    active = mlflow.start_run(run_name="calls")
    run_id = active.info.run_id
    out: dict[str, Any] = {}
    try:
        out["log_metric"] = measure(lambda i: mlflow.log_metric("loss", float(i), step=i), **simple)
        out["log_param"] = measure(lambda i: mlflow.log_param(f"param_{i}", "value"), **simple)

        def get_run(i: int) -> None:
            r = MlflowClient().get_run(reader_id)
            assert len(r.data.params) == 5, r.data.params

        out["get_run"] = measure(get_run, **simple)
        holder: list[list[Any]] = []

        def build(i: int) -> None:  # untimed: the Metric objects are the caller's data
            holder[:] = [[Metric("batch", float(j), 1_700_000_000_000 + j, i * 1000 + j)
                          for j in range(1000)]]

        out["log_batch_1000"] = measure(lambda i: MlflowClient().log_batch(run_id, metrics=holder[0]),
                                        before=build, **batch)
    finally:
        mlflow.end_run()
    return {"measurements": out}
