"""The seed tracking flow, as the user's cheatsheet writes it ("Experiment Tracking"):
set_experiment, start_run, log_param x2, log_params, log_metric x2, log_metrics, 100 step
metrics, log_artifact, log_artifacts (a directory), sklearn.log_model with a signature, end_run.

``pip_requirements`` is given to ``log_model``: otherwise mlflow infers requirements in a
subprocess (2-8 s) and that would be most of every backend's time. The model is trained and
the artifact files are written before timing; ``predict`` and ``infer_signature`` are timed
(they are in the flow), so the flow includes client-only work that no backend can remove."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.scenarios import Share, fresh_run_caches, pairing, pick
from bench.stats import measure, split_steps

STEPS = ("set_experiment", "start_run", "log_params", "log_metrics", "step_metrics_x100",
         "log_artifact", "log_artifacts_dir", "log_model", "end_run")


def seed(params: dict[str, Any]) -> None:
    return None


def _prepare(workdir: Path) -> tuple[Any, Any, Any, Path, Path]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(X[:120], y[:120])
    png = workdir / "feature_importance.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(20_000))
    plots = workdir / "plots"
    plots.mkdir(exist_ok=True)
    for name in ("roc.png", "pr_curve.png", "confusion.png"):
        (plots / name).write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(10_000))
    return model, X[120:], y[120:], png, plots


def run(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    import mlflow
    import sklearn
    from mlflow.models import infer_signature

    model, X_test, _, png, plots = _prepare(backend.workdir)
    pip_requirements = [f"scikit-learn=={sklearn.__version__}"]
    pair = pairing(backend, 1)
    opts = dict(warmup=1, iterations=pick(params, 12, 2), budget_s=pick(params, 45.0, 8.0),
                min_iterations=pick(params, 3, 2), pair=pair)
    log: list[tuple[int, dict[str, float]]] = []
    clock = time.perf_counter

    def flow(i: int) -> None:
        t: list[float] = [clock()]
        mlflow.set_experiment("/Users/user@company.com/my_experiment")
        t.append(clock())
        with mlflow.start_run(run_name="xgboost_v1") as run:
            t.append(clock())
            mlflow.log_param("max_depth", 6)
            mlflow.log_param("learning_rate", 0.1)
            mlflow.log_params({"n_estimators": 100, "min_child_weight": 1, "subsample": 0.8})
            predictions = model.predict(X_test)
            t.append(clock())
            mlflow.log_metric("rmse", 0.87)
            mlflow.log_metric("mae", 0.65)
            mlflow.log_metrics({"r2": 0.92, "accuracy": 0.95, "f1_score": 0.89})
            t.append(clock())
            for epoch in range(100):
                mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
            t.append(clock())
            mlflow.log_artifact(str(png))
            t.append(clock())
            mlflow.log_artifacts(str(plots))
            t.append(clock())
            signature = infer_signature(X_test, predictions)
            mlflow.sklearn.log_model(model, name="model", signature=signature,
                                     pip_requirements=pip_requirements)
            t.append(clock())
            assert run.info.run_id
        t.append(clock())
        log.append((i, {name: t[k + 1] - t[k] for k, name in enumerate(STEPS)}))

    share = Share(backend)
    result = measure(share.wrap(flow), before=fresh_run_caches, **opts)
    return {"measurements": {"seed_flow": result},
            "steps": split_steps(log, result["first_timed"], pair),
            "shares": {"seed_flow": share.summary(result["first_timed"])}}
