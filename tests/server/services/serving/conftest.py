"""Shared fixtures of the serving tests: the cheatsheet's ``catalog.schema.fraud_model`` with
four READY versions (1-3: the champion's model, 4: a challenger that predicts differently)."""
from __future__ import annotations

import pytest

MODEL = "catalog.schema.fraud_model"


@pytest.fixture(scope="session")
def saved_models(tmp_path_factory, iris_data):
    """Two scikit-learn models saved once per session with signatures: (champion dir,
    challenger dir, X). Seeding from a directory keeps each test's set-up to file copies."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    X, y = iris_data
    root = tmp_path_factory.mktemp("serving-models")
    champion = LogisticRegression().fit(X, y)
    challenger = LogisticRegression().fit(X, 1 - y)  # predicts the opposite class
    paths = []
    for name, model in (("champion", champion), ("challenger", challenger)):
        path = str(root / name)
        mlflow.sklearn.save_model(model, path, signature=infer_signature(X, model.predict(X)),
                                  pip_requirements=["scikit-learn"])
        paths.append(path)
    return paths[0], paths[1], X, champion, challenger


@pytest.fixture
def fraud_model(mlemu, saved_models):
    """``catalog.schema.fraud_model`` versions 1-3 (champion) and 4 (challenger)."""
    champion_dir, challenger_dir, X, champion, challenger = saved_models
    for path in (champion_dir, champion_dir, champion_dir, challenger_dir):
        mlemu.registry.seed_model_version(MODEL, path)
    return MODEL


@pytest.fixture
def X(saved_models):
    return saved_models[2]


@pytest.fixture
def champion(saved_models):
    return saved_models[3]


@pytest.fixture
def challenger(saved_models):
    return saved_models[4]


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


def entity(version: str, **kw):
    from databricks.sdk.service.serving import ServedEntityInput
    kw.setdefault("workload_size", "Small")
    kw.setdefault("scale_to_zero_enabled", True)
    return ServedEntityInput(entity_name=MODEL, entity_version=version, **kw)


def config(name: str, *entities, routes=None, **kw):
    from databricks.sdk.service.serving import EndpointCoreConfigInput, Route, TrafficConfig
    traffic = TrafficConfig(routes=[Route(served_model_name=n, traffic_percentage=p) for n, p in routes]) \
        if routes else None
    return EndpointCoreConfigInput(name=name, served_entities=list(entities), traffic_config=traffic, **kw)
