"""Seeded runs for the search scenarios: the same deterministic payload for every backend,
written fast and outside any timing (each backend through its own direct path)."""
from __future__ import annotations

from typing import Any

BASE_MS = 1_700_000_000_000
USER = "user@company.com"
MODELS = ("rf", "gbm", "lr", "svm")


def run_data(i: int) -> dict[str, Any]:
    """Run ``i`` of a seeded experiment: 5 params, 5 metrics, 3 user tags + the system tags
    the client sets (so a search page looks like a real one)."""
    start = BASE_MS + i * 1000
    name = f"run-{i:05d}"
    return {
        "name": name,
        "start_time": start,
        "end_time": start + 500,
        "params": {"alpha": f"{(i % 10) / 10:.1f}", "max_depth": str(i % 8 + 2),
                   "model": MODELS[i % len(MODELS)], "n_estimators": str(50 + i % 5 * 50),
                   "seed": str(i)},
        "metrics": {"rmse": 1.0 / (1 + i % 97), "mae": 0.5 / (1 + i % 89), "r2": (i % 100) / 100,
                    "accuracy": (i % 1000) / 1000, "f1_score": (i % 991) / 991},
        "tags": {"team": "ml-platform", "stage": ("dev", "staging", "prod")[i % 3],
                 "ticket": f"ML-{1000 + i}",
                 "mlflow.runName": name, "mlflow.user": USER,
                 "mlflow.source.name": "train.py", "mlflow.source.type": "LOCAL"},
    }


# -- mlflow's SqlAlchemyStore: bulk inserts into its own tables ----------------------------------
def seed_sqlite(store: Any, name: str, n: int) -> str:
    """Create experiment ``name`` with ``n`` finished runs in ``store`` (a SqlAlchemyStore);
    return its id. Bulk INSERTs through the store's engine: seconds for 10,000 runs."""
    import uuid

    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels.models import (SqlLatestMetric, SqlMetric, SqlParam,
                                                       SqlRun, SqlTag)

    exp_id = store.create_experiment(name)
    root = store.get_experiment(exp_id).artifact_location.rstrip("/")
    runs, params, metrics, tags = [], [], [], []
    for i in range(n):
        d = run_data(i)
        run_id = uuid.UUID(int=(int(exp_id) << 64) + i).hex
        runs.append({"run_uuid": run_id, "name": d["name"], "source_type": "LOCAL",
                     "source_name": "train.py", "entry_point_name": "", "user_id": USER,
                     "status": "FINISHED", "start_time": d["start_time"], "end_time": d["end_time"],
                     "source_version": "", "lifecycle_stage": "active",
                     "artifact_uri": f"{root}/{run_id}/artifacts", "experiment_id": int(exp_id)})
        params += [{"key": k, "value": v, "run_uuid": run_id} for k, v in d["params"].items()]
        metrics += [{"key": k, "value": v, "timestamp": d["end_time"], "step": 0, "is_nan": False,
                     "run_uuid": run_id} for k, v in d["metrics"].items()]
        tags += [{"key": k, "value": v, "run_uuid": run_id} for k, v in d["tags"].items()]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(SqlRun.__table__), runs)
        conn.execute(sa.insert(SqlParam.__table__), params)
        conn.execute(sa.insert(SqlMetric.__table__), metrics)
        conn.execute(sa.insert(SqlLatestMetric.__table__), metrics)
        conn.execute(sa.insert(SqlTag.__table__), tags)
    return str(exp_id)


# -- mlemu: the workspace's tracking state, or its app without a transport -------------------------
def seed_mlemu(ws: Any, name: str, n: int) -> str:
    """Create experiment ``name`` with ``n`` finished runs in workspace ``ws``; return its id."""
    from bench import mlemu_seed
    return mlemu_seed.seed(ws, name, n)
