"""A user's MLOps suite, shaped like the one issue 21 measured (training, registry, serving,
feature store, SQL, monitors, tracing, faults, snapshots, one Spark test), written from the
docs with the public fixtures only. ``bench/user_suite.py`` times it; it is not part of mlemu's
own test suite. Models are logged WITHOUT ``pip_requirements``, as a new user writes them."""
from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

MLFLOW3 = mlflow.__version__.startswith("3.")


@pytest.fixture(scope="session")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(80, 3)), columns=["f1", "f2", "f3"])
    y = (X["f1"] + X["f2"] > 0).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="session")
def model(data):
    X, y = data
    return LogisticRegression().fit(X, y)


@pytest.fixture(autouse=True)
def sync_trace_export(monkeypatch):
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


def log_model(model, X, **kwargs):
    """``mlflow.sklearn.log_model`` as the docs write it: no ``pip_requirements``."""
    from mlflow.models import infer_signature

    name = {"name": "model"} if MLFLOW3 else {"artifact_path": "model"}
    return mlflow.sklearn.log_model(model, signature=infer_signature(X, model.predict(X)), **name, **kwargs)
