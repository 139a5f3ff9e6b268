"""Models as artifacts: ``mlflow.sklearn.log_model`` then ``mlflow.pyfunc.load_model`` give the
trained model's predictions back (mlflow 3: logged models under LoggedModels/; 2.22: files
under the run's ``model/``)."""
from __future__ import annotations

import mlflow
import numpy as np
import pytest
from mlflow.models import infer_signature

from tests.sdk_features import FILES_EXT

MLFLOW3 = mlflow.__version__.startswith("3.")
PIP = ["scikit-learn", "pandas"]


def _log_model(model, X, **kw):  # type: ignore[no-untyped-def]
    signature = infer_signature(X, model.predict(X))
    name = {"name": "model"} if MLFLOW3 else {"artifact_path": "model"}
    return mlflow.sklearn.log_model(model, signature=signature, pip_requirements=PIP, **name, **kw)


def _same_predictions(uri: str, model, X) -> None:  # type: ignore[no-untyped-def]
    loaded = mlflow.pyfunc.load_model(uri)
    np.testing.assert_array_equal(np.asarray(loaded.predict(X)), model.predict(X))


def test_log_and_load_model(mlemu, trained_model):
    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/models")
    with mlflow.start_run() as run:
        info = _log_model(model, X)
    exp, run_id = run.info.experiment_id, run.info.run_id
    if MLFLOW3:
        model_id = info.model_id
        assert info.model_uri == f"models:/{model_id}"
        root = f"/WorkspaceInternal/Mlflow/Artifacts/{exp}/LoggedModels/{model_id}/artifacts"
        mlemu.calls.assert_not_called("mlflow_artifacts.logged-models.credentials-for-upload")
    else:
        assert info.model_uri == f"runs:/{run_id}/model"
        root = f"/WorkspaceInternal/Mlflow/Artifacts/{exp}/Runs/{run_id}/artifacts/model"
        mlemu.calls.assert_called("mlflow_artifacts.credentials-for-write")
    names = {f.name for f in mlemu.storage.walk_files("files", root)}
    assert {"MLmodel", "model.pkl", "requirements.txt", "conda.yaml", "python_env.yaml"} <= names
    assert mlemu.storage.read("files", f"{root}/requirements.txt").decode().split("\n")[-2:] == PIP
    _same_predictions(info.model_uri, model, X)
    _same_predictions(f"runs:/{run_id}/model", model, X)


@pytest.mark.skipif(not MLFLOW3, reason="logged models are mlflow 3")
def test_logged_model_files_are_read_through_the_files_api(mlemu, trained_model):
    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/models")
    with mlflow.start_run():
        info = _log_model(model, X)
    mlemu.calls.clear()
    _same_predictions(info.model_uri, model, X)
    mlemu.calls.assert_called("files.directories.list")
    mlemu.calls.assert_called("files.presigned.get" if FILES_EXT else "files.download")  # sdk 0.40: no FilesExt
    assert mlemu.calls.filter(operation="mlflow_artifacts.*") == []


def test_cheatsheet_log_model_verbatim(mlemu, trained_model):
    """The seed cheatsheet's call, without pip_requirements (mlflow infers them)."""
    model, X_test, _ = trained_model
    mlflow.set_experiment("/Users/user@company.com/my_experiment")
    with mlflow.start_run(run_name="xgboost_v1") as run:
        predictions = model.predict(X_test)
        signature = infer_signature(X_test, predictions)
        mlflow.sklearn.log_model(model, "model", signature=signature)
    loaded = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(np.asarray(loaded.predict(X_test)), predictions)


def test_model_in_a_custom_dbfs_location(mlemu, trained_model):
    """An experiment with ``artifact_location="dbfs:/mlflow/artifacts"``: models go to DBFS."""
    from databricks.sdk import WorkspaceClient

    model, X, _ = trained_model
    WorkspaceClient().workspace.mkdirs("/Shared/team_experiments")
    experiment = mlflow.create_experiment(name="/Shared/team_experiments/fraud_detection",
                                          artifact_location="dbfs:/mlflow/artifacts")
    mlflow.set_experiment(experiment_id=experiment)
    with mlflow.start_run() as run:
        info = _log_model(model, X)
    files = [f.path for f in mlemu.storage.walk_files("dbfs", "/mlflow/artifacts")]
    if MLFLOW3:
        assert f"/mlflow/artifacts/models/{info.model_id}/artifacts/model.pkl" in files
    else:
        assert f"/mlflow/artifacts/{run.info.run_id}/artifacts/model/model.pkl" in files
    assert mlemu.storage.walk_files("files", "/") == []
    mlemu.calls.assert_called("dbfs.raw.upload")
    _same_predictions(info.model_uri, model, X)
    mlemu.calls.assert_called("dbfs.raw.download")
