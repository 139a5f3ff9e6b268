"""Run artifacts in the default location (``dbfs:/databricks/mlflow-tracking/...``) with the
real mlflow client: mlflow 3 writes through the Files API, mlflow 2.22 (and mlflow 3 with
MLFLOW_DISABLE_DATABRICKS_SDK_FOR_RUN_ARTIFACTS) through pre-signed credentials; both land
in the same files."""
from __future__ import annotations

import importlib.util
import pathlib

import mlflow
import pytest
from mlflow import MlflowClient

from tests.sdk_features import FILES_EXT

#: mlflow writes run artifacts through the Files API (the SDK repository for tracking artifacts,
#: between 3.0.1 and 3.5.1); mlflow 2.x and 3.0 through pre-signed credentials.
FILES_API = importlib.util.find_spec("mlflow.store.artifact.databricks_tracking_artifact_repo") is not None


def _log_everything(local_tree: pathlib.Path):  # type: ignore[no-untyped-def]
    mlflow.set_experiment("/Shared/artifacts")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(local_tree / "notes.txt"))
        mlflow.log_artifacts(str(local_tree / "dir"), "mydir")
        mlflow.log_text("some text", "texts/t.txt")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config.json")
    return run


def _check_artifacts(run, tmp_path: pathlib.Path) -> None:  # type: ignore[no-untyped-def]
    client = MlflowClient()
    run_id = run.info.run_id
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id)] == [
        ("config.json", False, len('{\n  "a": 1,\n  "b": [\n    1,\n    2\n  ]\n}')),
        ("mydir", True, None), ("notes.txt", False, 5), ("texts", True, None)]
    assert [(f.path, f.is_dir, f.file_size) for f in client.list_artifacts(run_id, "mydir")] == [
        ("mydir/a.txt", False, 1), ("mydir/nested", True, None)]
    assert [f.path for f in client.list_artifacts(run_id, "mydir/nested")] == ["mydir/nested/b.txt"]
    assert client.list_artifacts(run_id, "notes.txt") == []  # a file lists as nothing
    assert client.list_artifacts(run_id, "no/such/dir") == []

    notes = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="notes.txt", dst_path=str(tmp_path))
    assert pathlib.Path(notes).read_text() == "hello"
    mydir = pathlib.Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="mydir",
                                                             dst_path=str(tmp_path)))
    assert (mydir / "a.txt").read_text() == "A"
    assert (mydir / "nested" / "b.txt").read_text() == "BB"
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/texts/t.txt") == "some text"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"a": 1, "b": [1, 2]}


def test_log_list_download(mlemu, local_tree, tmp_path, run_root):
    run = _log_everything(local_tree)
    root = run_root(run)
    # Wherever the client wrote from, the bytes are the Files API files mlflow 3 addresses.
    assert mlemu.storage.read("files", f"{root}/notes.txt") == b"hello"
    assert mlemu.storage.read("files", f"{root}/mydir/nested/b.txt") == b"BB"
    assert run.info.artifact_uri == (f"dbfs:/databricks/mlflow-tracking/{run.info.experiment_id}/"
                                     f"{run.info.run_id}/artifacts")
    _check_artifacts(run, tmp_path / "out")


@pytest.mark.skipif(not FILES_API, reason="this mlflow (2.x, 3.0) writes run artifacts with credentials, not the Files API")
def test_mlflow3_uses_the_files_api(mlemu, local_tree, tmp_path, run_root):
    run = _log_everything(local_tree)
    uploads = mlemu.calls.assert_called("files.upload", times=5)
    assert {c.path for c in uploads} == {
        f"/api/2.0/fs/files{run_root(run)}/{p}"
        for p in ("notes.txt", "mydir/a.txt", "mydir/nested/b.txt", "texts/t.txt", "config.json")}
    _check_artifacts(run, tmp_path / "out")
    mlemu.calls.assert_called("files.directories.list")
    mlemu.calls.assert_called("files.presigned.get" if FILES_EXT else "files.download")  # sdk 0.40: no FilesExt
    # No silent fallback to the credentials path (mlflow would hide a Files API failure).
    assert mlemu.calls.filter(operation="mlflow_artifacts.*") == []
    assert all(c.status < 400 for c in mlemu.calls.filter(operation="files.upload"))


@pytest.mark.skipif(FILES_API, reason="mlflow 2.x and 3.0 always use the artifact credentials API; this one the Files API")
def test_mlflow2_uses_credentials(mlemu, local_tree, tmp_path):
    run = _log_everything(local_tree)
    writes = mlemu.calls.assert_called("mlflow_artifacts.credentials-for-write")
    assert writes[0].request == {"run_id": run.info.run_id, "path": ["notes.txt"]}
    assert writes[0].response["credential_infos"][0]["type"] == "AWS_PRESIGNED_URL"
    mlemu.calls.assert_called("files.presigned.put", times=5)
    mlemu.calls.assert_not_called("files.upload")
    _check_artifacts(run, tmp_path / "out")
    mlemu.calls.assert_called("mlflow_artifacts.list")
    mlemu.calls.assert_called("mlflow_artifacts.credentials-for-read")


@pytest.mark.skipif(not FILES_API, reason="the switch back to the credentials API exists only with the Files API route")
def test_mlflow3_credentials_fallback(mlemu, monkeypatch, local_tree, tmp_path, run_root):
    monkeypatch.setenv("MLFLOW_DISABLE_DATABRICKS_SDK_FOR_RUN_ARTIFACTS", "true")
    run = _log_everything(local_tree)
    mlemu.calls.assert_called("mlflow_artifacts.credentials-for-write")
    mlemu.calls.assert_not_called("files.upload")
    assert mlemu.storage.read("files", f"{run_root(run)}/mydir/a.txt") == b"A"
    _check_artifacts(run, tmp_path / "out")
    mlemu.calls.assert_called("mlflow_artifacts.credentials-for-read")
    mlemu.calls.assert_not_called("files.directories.list")


@pytest.mark.skipif(not FILES_API, reason="needs both artifact routes (mlflow > 3.0)")
def test_files_api_writes_are_read_through_credentials(mlemu, monkeypatch, local_tree, tmp_path):
    """What mlflow 3 wrote with the Files API, the credentials path (mlflow 2's) reads back."""
    run = _log_everything(local_tree)
    monkeypatch.setenv("MLFLOW_DISABLE_DATABRICKS_SDK_FOR_RUN_ARTIFACTS", "true")
    mlemu.calls.clear()
    _check_artifacts(run, tmp_path / "out")
    mlemu.calls.assert_called("mlflow_artifacts.credentials-for-read")
    mlemu.calls.assert_not_called("files.download")


def test_credentials_writes_are_read_by_the_files_api(mlemu, monkeypatch, local_tree, run_root):
    """What the credentials path wrote (mlflow 2, or 3 with the switch) the SDK's Files API reads."""
    from databricks.sdk import WorkspaceClient

    monkeypatch.setenv("MLFLOW_DISABLE_DATABRICKS_SDK_FOR_RUN_ARTIFACTS", "true")
    run = _log_everything(local_tree)
    w = WorkspaceClient()
    root = run_root(run)
    assert w.files.download(f"{root}/mydir/nested/b.txt").contents.read() == b"BB"
    assert sorted(e.name for e in w.files.list_directory_contents(root)) == [
        "config.json", "mydir", "notes.txt", "texts"]


def test_artifacts_of_two_runs_stay_apart(mlemu, local_tree):
    mlflow.set_experiment("/Shared/two-runs")
    with mlflow.start_run() as a:
        mlflow.log_text("a", "x.txt")
    with mlflow.start_run() as b:
        mlflow.log_text("b", "x.txt")
    assert mlflow.artifacts.load_text(f"runs:/{a.info.run_id}/x.txt") == "a"
    assert mlflow.artifacts.load_text(f"runs:/{b.info.run_id}/x.txt") == "b"
    assert [f.path for f in MlflowClient().list_artifacts(b.info.run_id)] == ["x.txt"]


def test_cached_artifact_repos_do_not_leak_between_workspaces(tmp_path):
    """Seeded workspaces repeat run ids; mlflow caches artifact repos by run id."""
    import mlemu

    (tmp_path / "f.txt").write_text("f")
    with mlemu.emulate() as first:
        exp = mlflow.create_experiment("/Shared/custom", artifact_location="dbfs:/custom/place")
        with mlflow.start_run(experiment_id=exp) as run_a:
            mlflow.log_artifact(str(tmp_path / "f.txt"))
    with mlemu.emulate() as second:
        exp = mlflow.create_experiment("/Shared/default")
        with mlflow.start_run(experiment_id=exp) as run_b:
            mlflow.log_artifact(str(tmp_path / "f.txt"))
    assert run_a.info.run_id == run_b.info.run_id
    assert first.storage.exists("dbfs", f"/custom/place/{run_a.info.run_id}/artifacts/f.txt")
    assert second.storage.walk_files("dbfs", "/") == []
    assert [f.name for f in second.storage.walk_files("files", "/WorkspaceInternal")] == ["f.txt"]
