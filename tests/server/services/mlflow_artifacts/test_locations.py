"""The one mapping from MLflow artifact URIs to workspace storage."""
from __future__ import annotations

import pytest

from mlemu.server.core.errors import ApiError
from mlemu.server.services.mlflow_artifacts.locations import artifact_storage

ROOT = "/WorkspaceInternal/Mlflow/Artifacts"


@pytest.mark.parametrize("uri,expected", [
    ("dbfs:/databricks/mlflow-tracking/123/abc/artifacts", ("files", f"{ROOT}/123/Runs/abc/artifacts")),
    ("dbfs:/databricks/mlflow-tracking/123/abc/artifacts/model/MLmodel",
     ("files", f"{ROOT}/123/Runs/abc/artifacts/model/MLmodel")),
    ("dbfs:/databricks/mlflow-tracking/123/logged_models/m-9/artifacts",
     ("files", f"{ROOT}/123/LoggedModels/m-9/artifacts")),
    ("dbfs:/databricks/mlflow-tracking/123/tr-7/artifacts", ("files", f"{ROOT}/123/Traces/tr-7/artifacts")),
    ("dbfs://myprofile@databricks/databricks/mlflow-tracking/1/r/artifacts", ("files", f"{ROOT}/1/Runs/r/artifacts")),
    ("dbfs:/mlflow/artifacts/abc/artifacts", ("dbfs", "/mlflow/artifacts/abc/artifacts")),
    ("dbfs:/mlflow/artifacts/models/m-1/artifacts", ("dbfs", "/mlflow/artifacts/models/m-1/artifacts")),
    ("dbfs:/Volumes/c/s/v/exp", ("files", "/Volumes/c/s/v/exp")),
])
def test_mapping(uri, expected):
    assert artifact_storage(uri) == expected


def test_matches_the_paths_mlflow_computes():
    """mlflow 3 derives its Files API root from the URI itself; ours must be the same."""
    mlflow = pytest.importorskip("mlflow")
    if not mlflow.__version__.startswith("3."):
        pytest.skip("mlflow 3 repositories")
    from mlflow.store.artifact.databricks_logged_model_artifact_repo import DatabricksLoggedModelArtifactRepository
    from mlflow.store.artifact.databricks_run_artifact_repo import DatabricksRunArtifactRepository

    for cls, uri in ((DatabricksRunArtifactRepository, "dbfs:/databricks/mlflow-tracking/5/r1/artifacts/x"),
                     (DatabricksLoggedModelArtifactRepository,
                      "dbfs:/databricks/mlflow-tracking/5/logged_models/m-1/artifacts")):
        m = cls._URI_REGEX.search(uri)
        root = cls._build_root_path(None, m.group("experiment_id"), m, m.group("relative_path") or "")
        assert artifact_storage(uri) == ("files", root)


@pytest.mark.parametrize("uri", ["s3://bucket/x", "file:///tmp/x", "", "dbfs:/a/../../etc"])
def test_refused(uri):
    with pytest.raises(ApiError) as e:
        artifact_storage(uri)
    assert e.value.code == "INVALID_PARAMETER_VALUE"
