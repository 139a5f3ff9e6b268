"""The Unity Catalog registry flow: ``register_model("runs:/<run>/model", name)``,
``set_registered_model_alias(name, "champion", version)`` and
``mlflow.pyfunc.load_model("models:/<name>@champion")``; ``name`` is ``main.default.m`` on
Databricks backends (registry URI ``databricks-uc``) and ``m`` on mlflow's sqlite registry.
The run with the logged model is made before timing; each iteration registers a new version."""
from __future__ import annotations

import time
from typing import Any

from bench.scenarios import Share, fresh_run_caches, pairing, pick
from bench.stats import measure, split_steps

STEPS = ("register_model", "set_alias", "load_model")


def seed(params: dict[str, Any]) -> None:
    return None


def run(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    import mlflow
    import numpy as np
    import sklearn
    from mlflow import MlflowClient
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    name = backend.model_name("m")
    mlflow.set_experiment("/Shared/bench-registry")
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)),
                                 pip_requirements=[f"scikit-learn=={sklearn.__version__}"])
    run_id = run.info.run_id
    pair = pairing(backend, 1)
    opts = dict(warmup=1, iterations=pick(params, 12, 2), budget_s=pick(params, 30.0, 6.0),
                min_iterations=pick(params, 3, 2), pair=pair)
    log: list[tuple[int, dict[str, float]]] = []
    clock = time.perf_counter

    def flow(i: int) -> None:
        t = [clock()]
        mv = mlflow.register_model(f"runs:/{run_id}/model", name)
        t.append(clock())
        MlflowClient().set_registered_model_alias(name, "champion", mv.version)
        t.append(clock())
        loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
        t.append(clock())
        assert loaded.predict(X[:3]) is not None
        log.append((i, {s: t[k + 1] - t[k] for k, s in enumerate(STEPS)}))

    share = Share(backend)
    result = measure(share.wrap(flow), before=fresh_run_caches, **opts)
    return {"measurements": {"registry_flow": result},
            "steps": split_steps(log, result["first_timed"], pair),
            "shares": {"registry_flow": share.summary(result["first_timed"])}}
