"""mlflow 3's fallback repository for logged models (used when the Files API fails):
``DatabricksArtifactRepository`` on a logged model's URI, i.e. nested credentials-for-upload /
-download and ``logged-models/<id>/artifacts/directories``."""
from __future__ import annotations

import mlflow
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(not mlflow.__version__.startswith("3."), reason="logged models are mlflow 3")


def test_fallback_repository_reads_and_writes_logged_model_artifacts(mlemu, trained_model, tmp_path):
    from mlflow.models import infer_signature
    from mlflow.store.artifact.databricks_artifact_repo import DatabricksArtifactRepository

    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/fallback")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"],
                                        signature=infer_signature(X, model.predict(X)))
    uri = mlflow.get_logged_model(info.model_id).artifact_location
    assert uri.endswith(f"/logged_models/{info.model_id}/artifacts")
    repo = DatabricksArtifactRepository(uri)

    names = {f.path for f in repo.list_artifacts()}
    assert {"MLmodel", "model.pkl", "requirements.txt"} <= names
    local = repo.download_artifacts("", dst_path=str(tmp_path))
    loaded = mlflow.pyfunc.load_model(local)
    np.testing.assert_array_equal(np.asarray(loaded.predict(X)), model.predict(X))
    mlemu.calls.assert_called("mlflow_artifacts.logged-models.list")
    mlemu.calls.assert_called("mlflow_artifacts.logged-models.credentials-for-download")

    extra = tmp_path / "extra.txt"
    extra.write_text("more")
    repo.log_artifact(str(extra), "notes")
    mlemu.calls.assert_called("mlflow_artifacts.logged-models.credentials-for-upload")
    exp_id = mlflow.get_logged_model(info.model_id).experiment_id
    root = f"/WorkspaceInternal/Mlflow/Artifacts/{exp_id}/LoggedModels/{info.model_id}/artifacts"
    assert mlemu.storage.read("files", f"{root}/notes/extra.txt") == b"more"
    # ...and mlflow 3's default repository (the Files API) sees the same file.
    mlemu.calls.clear()
    assert mlflow.artifacts.load_text(f"{uri}/notes/extra.txt") == "more"
    mlemu.calls.assert_called("files.presigned.get")
