"""Unity Catalog model files on S3 (``uc_model_storage="s3"``): the route of mlflow < 2.13
(Runtime 14.3 LTS ML), whose clients take only cloud credentials and move the files with boto3.
mlemu answers with AWS temporary credentials to the metastore's bucket on moto's S3 server;
newer clients take the same route when the SDK artifact repository is off."""
from __future__ import annotations

import pytest

import mlemu as mlemu_pkg
from mlemu.server.services.registry import s3_storage
from mlemu.toolkit.client_versions import requires

pytestmark = pytest.mark.skipif(s3_storage.missing() is not None, reason=str(s3_storage.missing()))

NAME = "catalog.schema.legacy_model"


@pytest.fixture
def signed_model(trained_model):
    from mlflow.models import infer_signature

    model, X, _ = trained_model
    return model, X, infer_signature(X, model.predict(X))


def _register_and_load(ws, signed_model):
    """Log and register with the client's own route, load the version back, predict."""
    import mlflow

    model, X, signature = signed_model
    ws.unity_catalog.ensure_schema("catalog.schema")
    ws.registry.sdk_models_artifact_repository_enabled = False  # clients >= 2.13 ask for credentials too
    mlflow.set_experiment("/Shared/legacy")
    with mlflow.start_run():
        mlflow.sklearn.log_model(model, "model", signature=signature, pip_requirements=["scikit-learn"],
                                 registered_model_name=NAME)
    loaded = mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    assert loaded.predict(X).tolist() == model.predict(X).tolist()


def _credential_answers(ws):
    return [(c.request.get("operation"), sorted(c.response["credentials"])) for c in ws.calls
            if c.operation == "registry.model-versions.generate-temporary-credentials"]


@pytest.mark.mlemu(uc_model_storage="s3")
def test_files_go_through_s3_and_land_in_the_workspace(mlemu, signed_model):
    _register_and_load(mlemu, signed_model)
    assert _credential_answers(mlemu) == [
        ("MODEL_VERSION_OPERATION_READ_WRITE", ["aws_temp_credentials", "expiration_time"]),
        ("MODEL_VERSION_OPERATION_READ", ["aws_temp_credentials", "expiration_time"])]
    from databricks.sdk import WorkspaceClient

    mlmodel = WorkspaceClient().files.download("/Models/catalog/schema/legacy_model/1/MLmodel").contents.read()
    assert b"signature:" in mlmodel  # what boto3 uploaded is the workspace's copy (serving reads it)
    version = mlemu.registry.get_version(NAME, 1)
    assert version.status == "READY" and version.storage_location.startswith("s3://mlemu-metastore-")


@pytest.mark.mlemu(uc_model_storage="s3")
def test_same_route_over_the_loopback_server(mlemu, mlemu_server, signed_model):
    _register_and_load(mlemu, signed_model)
    assert [op for op, _ in _credential_answers(mlemu)] == ["MODEL_VERSION_OPERATION_READ_WRITE",
                                                           "MODEL_VERSION_OPERATION_READ"]


@pytest.mark.mlemu(uc_model_storage="s3")
def test_read_credentials_push_files_written_another_way(mlemu, signed_model):
    """A version registered through the Files API (a newer client, a fixture) is readable by
    an S3 client: read credentials copy the workspace's files into the bucket."""
    import mlflow

    model, X, signature = signed_model
    mlemu.unity_catalog.ensure_schema("catalog.schema")
    mlflow.set_experiment("/Shared/legacy")
    with mlflow.start_run():  # SDK artifact repository on: no S3 on the way in (mlflow >= 2.13)
        mlflow.sklearn.log_model(model, "model", signature=signature, pip_requirements=["scikit-learn"],
                                 registered_model_name=NAME)
    mlemu.registry.sdk_models_artifact_repository_enabled = False
    loaded = mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    assert loaded.predict(X).tolist() == model.predict(X).tolist()


@requires("mlflow<2.13", "older clients get S3 storage without asking")
def test_old_clients_get_s3_storage_by_default(mlemu, signed_model):
    import os

    assert mlemu.registry.s3 is not None and os.environ["MLFLOW_S3_ENDPOINT_URL"] == mlemu.registry.s3.endpoint_url
    _register_and_load(mlemu, signed_model)


def test_s3_storage_ends_with_the_workspace():
    import os

    before = os.environ.get("MLFLOW_S3_ENDPOINT_URL")
    with mlemu_pkg.emulate(uc_model_storage="s3") as ws:
        store = ws.registry.s3
        assert store is not None and os.environ["MLFLOW_S3_ENDPOINT_URL"] == store.endpoint_url
    assert ws.registry.s3 is None and os.environ.get("MLFLOW_S3_ENDPOINT_URL") == before
    with pytest.raises(ValueError, match="expected 'default' or 's3'"):
        mlemu_pkg.emulate(uc_model_storage="gcs")
