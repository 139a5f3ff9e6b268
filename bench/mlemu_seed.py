"""Seeding an mlemu workspace with runs, outside any timing.

Through the tracking service's direct state API when it offers one, else through the
workspace's app with no transport and no client (a few hundred microseconds a run)."""
from __future__ import annotations

import json
from typing import Any

from bench.seeding import USER, run_data


def _call(ws: Any, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    status, _, out = ws.handle(method, path, body=json.dumps(body).encode(),
                               headers={"Authorization": f"Bearer {ws.token}",
                                        "Content-Type": "application/json"},
                               raise_internal=True)
    if status != 200:
        raise RuntimeError(f"seeding {method} {path} -> {status}: {out[:300]!r}")
    return json.loads(out) if out else {}


def seed(ws: Any, name: str, n: int) -> str:
    tracking = ws.tracking
    if all(hasattr(tracking, m) for m in ("create_experiment", "create_run", "log_batch", "update_run")):
        return _seed_state(tracking, name, n)
    return _seed_app(ws, name, n)


def _seed_state(tracking: Any, name: str, n: int) -> str:
    """``ws.tracking``'s own methods (the fixture's set-up API): no JSON, no routing."""
    from mlemu.server.services.tracking.entities import Metric

    exp_id = tracking.create_experiment(name).experiment_id
    for i in range(n):
        d = run_data(i)
        run = tracking.create_run(exp_id, run_name=d["name"], tags=d["tags"],
                                  start_time=d["start_time"], user_id=USER)
        run_id = run.info.run_id
        tracking.log_batch(run_id, metrics=[Metric(k, v, d["end_time"], 0) for k, v in d["metrics"].items()],
                           params=d["params"])
        tracking.update_run(run_id, status="FINISHED", end_time=d["end_time"])
    return str(exp_id)


def _seed_app(ws: Any, name: str, n: int) -> str:
    exp_id = _call(ws, "POST", "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]
    for i in range(n):
        d = run_data(i)
        tags = [{"key": k, "value": v} for k, v in d["tags"].items()]
        run = _call(ws, "POST", "/api/2.0/mlflow/runs/create",
                    {"experiment_id": exp_id, "run_name": d["name"], "start_time": d["start_time"],
                     "user_id": USER, "tags": tags})["run"]
        run_id = run["info"]["run_id"]
        _call(ws, "POST", "/api/2.0/mlflow/runs/log-batch", {
            "run_id": run_id,
            "params": [{"key": k, "value": v} for k, v in d["params"].items()],
            "metrics": [{"key": k, "value": v, "timestamp": d["end_time"], "step": 0}
                        for k, v in d["metrics"].items()]})
        _call(ws, "POST", "/api/2.0/mlflow/runs/update",
              {"run_id": run_id, "run_uuid": run_id, "status": "FINISHED", "end_time": d["end_time"]})
    return str(exp_id)
