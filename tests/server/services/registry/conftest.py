"""Shared fixtures of the registry tests."""
from __future__ import annotations

import pytest

#: The smallest MLmodel that Unity Catalog accepts: a signature with inputs and outputs.
MLMODEL = (b"flavors: {}\n"
           b"signature:\n"
           b"  inputs: '[{\"type\": \"double\", \"name\": \"x\", \"required\": true}]'\n"
           b"  outputs: '[{\"type\": \"long\", \"required\": true}]'\n")

NAME = "catalog.schema.my_model"


@pytest.fixture
def mlmodel() -> bytes:
    """Contents of a minimal signed ``MLmodel`` file."""
    return MLMODEL


@pytest.fixture
def client(mlemu):
    from mlflow import MlflowClient
    return MlflowClient()


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


@pytest.fixture
def schema(mlemu):
    """The seed cheatsheet's ``catalog.schema`` namespace."""
    mlemu.unity_catalog.ensure_schema("catalog.schema")
    return "catalog.schema"


@pytest.fixture
def three_versions(mlemu, schema):
    """``catalog.schema.my_model`` with READY versions 1, 2, 3 (placeholder files)."""
    for _ in range(3):
        mlemu.registry.register_files(NAME, {"MLmodel": MLMODEL, "model.pkl": b"x"})
    return NAME


@pytest.fixture(scope="session")
def saved_model(tmp_path_factory, trained_model):
    """A scikit-learn model saved by ``mlflow.sklearn.save_model`` with a signature: a local
    ``source`` for ``MlflowClient.create_model_version`` (no tracking server involved)."""
    import mlflow
    from mlflow.models import infer_signature

    model, X, _ = trained_model
    path = tmp_path_factory.mktemp("saved") / "model"
    mlflow.sklearn.save_model(model, str(path), signature=infer_signature(X, model.predict(X)),
                              pip_requirements=["scikit-learn"])
    return str(path)


@pytest.fixture(scope="session")
def unsigned_model(tmp_path_factory, trained_model):
    """The same model saved without a signature (Unity Catalog refuses it)."""
    import mlflow

    model, _, _ = trained_model
    path = tmp_path_factory.mktemp("unsigned") / "model"
    mlflow.sklearn.save_model(model, str(path), pip_requirements=["scikit-learn"])
    return str(path)
