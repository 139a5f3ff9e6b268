"""Run artifacts of an experiment created with ``artifact_location="dbfs:/mlflow/artifacts"``
(seed cheatsheet): mlflow goes through the legacy DBFS proxy and the DBFS list/get-status API."""
from __future__ import annotations

import pathlib

import mlflow
from mlflow import MlflowClient


def _cheatsheet_experiment() -> str:
    from databricks.sdk import WorkspaceClient

    mlflow.set_tracking_uri("databricks")
    WorkspaceClient().workspace.mkdirs("/Shared/team_experiments")
    experiment = mlflow.create_experiment(
        name="/Shared/team_experiments/fraud_detection",
        artifact_location="dbfs:/mlflow/artifacts"
    )
    mlflow.set_experiment(experiment_id=experiment)
    return experiment


def test_log_list_download_through_dbfs(mlemu, local_tree, tmp_path):
    _cheatsheet_experiment()
    with mlflow.start_run(run_name="xgboost_v1") as run:
        mlflow.log_artifact(str(local_tree / "notes.txt"))
        mlflow.log_artifacts(str(local_tree / "dir"), "mydir")
        mlflow.log_dict({"k": "v"}, "cfg.json")
    run_id = run.info.run_id
    assert run.info.artifact_uri == f"dbfs:/mlflow/artifacts/{run_id}/artifacts"
    root = f"/mlflow/artifacts/{run_id}/artifacts"
    assert mlemu.storage.read("dbfs", f"{root}/mydir/nested/b.txt") == b"BB"
    uploads = mlemu.calls.assert_called("dbfs.raw.upload", times=4)
    assert uploads[0].path == f"/dbfs{root}/notes.txt"

    client = MlflowClient()
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id)] == [
        ("cfg.json", False, len('{\n  "k": "v"\n}')), ("mydir", True, None), ("notes.txt", False, 5)]
    assert [f.path for f in client.list_artifacts(run_id, "mydir")] == ["mydir/a.txt", "mydir/nested"]
    assert client.list_artifacts(run_id, "notes.txt") == []
    assert client.list_artifacts(run_id, "missing") == []  # RESOURCE_DOES_NOT_EXIST reads as empty
    listing = mlemu.calls.filter(operation="dbfs.list")[0]
    assert listing.request == {"path": f"{root}/"}  # mlflow's trailing slash

    out = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="mydir",
                                                           dst_path=str(tmp_path)))
    assert (out / "nested" / "b.txt").read_text() == "BB"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/cfg.json") == {"k": "v"}
    mlemu.calls.assert_called("dbfs.get-status")
    mlemu.calls.assert_called("dbfs.raw.download")
    assert mlemu.calls.filter(operation="mlflow_artifacts.*") == []
    assert mlemu.storage.walk_files("files", "/") == []


def test_dbfs_artifacts_are_visible_to_the_sdk(mlemu, local_tree):
    from databricks.sdk import WorkspaceClient

    _cheatsheet_experiment()
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(local_tree / "notes.txt"))
    w = WorkspaceClient()
    path = f"dbfs:/mlflow/artifacts/{run.info.run_id}/artifacts/notes.txt"
    assert w.dbfs.download(path).read() == b"hello"
    assert w.dbfs.get_status(path).file_size == 5
