"""The artifacts service's endpoints over raw HTTP: credential shapes, listing semantics,
errors, and what a signed URI grants."""
from __future__ import annotations

import pytest
import requests
from mlflow import MlflowClient

X = "/api/2.0/mlflow"


@pytest.fixture
def auth(mlemu):
    return {"Authorization": f"Bearer {mlemu.token}"}


@pytest.fixture
def run(mlemu):
    client = MlflowClient()
    exp = client.create_experiment("/Shared/api")
    return client.create_run(exp)


def _post(mlemu, auth, path, body):  # type: ignore[no-untyped-def]
    return requests.post(f"{mlemu.host}{X}{path}", json=body, headers=auth)


def _write(mlemu, auth, run, paths: dict[str, bytes]) -> None:
    r = _post(mlemu, auth, "/artifacts/credentials-for-write", {"run_id": run.info.run_id, "path": list(paths)})
    assert r.status_code == 200, r.text
    for info in r.json()["credential_infos"]:
        assert requests.put(info["signed_uri"], data=paths[info["path"]]).status_code == 200


def test_credentials_shape(mlemu, auth, run):
    r = _post(mlemu, auth, "/artifacts/credentials-for-write",
              {"run_id": run.info.run_id, "path": ["a.txt", "d/b.txt"]})
    infos = r.json()["credential_infos"]
    assert [(i["run_id"], i["path"], i["type"], i["headers"]) for i in infos] == [
        (run.info.run_id, "a.txt", "AWS_PRESIGNED_URL", []), (run.info.run_id, "d/b.txt", "AWS_PRESIGNED_URL", [])]
    assert all(i["signed_uri"].startswith(f"{mlemu.host}/presigned/") for i in infos)
    assert "next_page_token" not in r.json()


def test_signed_uris_are_bound_to_their_path_and_method(mlemu, auth, run):
    _write(mlemu, auth, run, {"a.txt": b"A"})
    r = _post(mlemu, auth, "/artifacts/credentials-for-read", {"run_id": run.info.run_id, "path": ["a.txt"]})
    url = r.json()["credential_infos"][0]["signed_uri"]
    assert requests.get(url).content == b"A"
    assert requests.put(url, data=b"evil").status_code == 403
    assert requests.get(url.replace("/artifacts/a.txt", "/artifacts/b.txt")).status_code == 403
    assert requests.get(url.replace(run.info.run_id, "0" * 32)).status_code == 403


def test_unknown_run_and_bad_paths(mlemu, auth, run):
    r = _post(mlemu, auth, "/artifacts/credentials-for-write", {"run_id": "f" * 32, "path": ["a.txt"]})
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    r = _post(mlemu, auth, "/artifacts/credentials-for-write", {"path": ["a.txt"]})
    assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    for bad in ("../other-run/artifacts/x", "a/../../b", ""):
        r = _post(mlemu, auth, "/artifacts/credentials-for-write", {"run_id": run.info.run_id, "path": [bad]})
        assert r.status_code == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE", bad
    r = requests.get(f"{mlemu.host}{X}/artifacts/list", params={"run_id": run.info.run_id, "path": "../x"},
                     headers=auth)
    assert r.status_code == 400
    assert mlemu.storage.walk_files("files", "/") == []


def test_list_semantics(mlemu, auth, run):
    _write(mlemu, auth, run, {"notes.txt": b"hello", "mydir/a.txt": b"A", "mydir/nested/b.txt": b"BB"})

    def ls(path=None, **extra):  # type: ignore[no-untyped-def]
        params = {"run_id": run.info.run_id, **({"path": path} if path is not None else {}), **extra}
        r = requests.get(f"{mlemu.host}{X}/artifacts/list", params=params, headers=auth)
        assert r.status_code == 200, r.text
        return r.json()

    root = ls("")
    assert root["root_uri"] == run.info.artifact_uri
    assert root["files"] == [{"path": "mydir", "is_dir": True}, {"path": "notes.txt", "is_dir": False, "file_size": 5}]
    assert ls()["files"] == root["files"]
    assert ls("mydir")["files"] == [{"path": "mydir/a.txt", "is_dir": False, "file_size": 1},
                                    {"path": "mydir/nested", "is_dir": True}]
    assert ls("mydir/")["files"] == ls("mydir")["files"]
    # A path naming a file lists that single file (the client turns it into []).
    assert ls("notes.txt")["files"] == [{"path": "notes.txt", "is_dir": False, "file_size": 5}]
    assert "files" not in ls("nothing/here")
    assert ls(run_uuid=run.info.run_id)["root_uri"] == run.info.artifact_uri


def test_list_pages(mlemu, auth, run, monkeypatch):
    from mlemu.server.services.mlflow_artifacts import state

    monkeypatch.setattr(state, "LIST_PAGE_SIZE", 2)
    _write(mlemu, auth, run, {f"f{i}.txt": b"x" for i in range(5)})
    assert [f.path for f in MlflowClient().list_artifacts(run.info.run_id)] == [f"f{i}.txt" for i in range(5)]
    pages = mlemu.calls.filter(operation="mlflow_artifacts.list")
    if pages:  # mlflow 2.x lists through this endpoint (3.x through the Files API)
        assert [len(p.response["files"]) for p in pages] == [2, 2, 1]
    r = requests.get(f"{mlemu.host}{X}/artifacts/list",
                     params={"run_id": run.info.run_id, "page_token": "bogus"}, headers=auth)
    assert r.status_code == 400


def test_logged_model_credentials_are_nested(mlemu, auth):
    import mlflow

    if not mlflow.__version__.startswith("3."):
        pytest.skip("logged models are mlflow 3")
    client = MlflowClient()
    exp = client.create_experiment("/Shared/lm")
    model = client.create_logged_model(exp, name="m")
    mid = model.model_id
    r = _post(mlemu, auth, f"/logged-models/{mid}/artifacts/credentials-for-upload",
              {"paths": ["MLmodel", "sub/w.bin"]})
    creds = r.json()["credentials"]
    assert [c["model_id"] for c in creds] == [mid, mid]
    assert [(c["credential_info"]["path"], c["credential_info"]["type"]) for c in creds] == [
        ("MLmodel", "AWS_PRESIGNED_URL"), ("sub/w.bin", "AWS_PRESIGNED_URL")]
    for c, data in zip(creds, (b"flavors", b"\x00")):
        assert requests.put(c["credential_info"]["signed_uri"], data=data).status_code == 200
    root = f"/WorkspaceInternal/Mlflow/Artifacts/{exp}/LoggedModels/{mid}/artifacts"
    assert mlemu.storage.read("files", f"{root}/sub/w.bin") == b"\x00"
    d = requests.get(f"{mlemu.host}{X}/logged-models/{mid}/artifacts/directories",
                     params={"artifact_directory_path": ""}, headers=auth).json()
    assert d == {"files": [{"path": "MLmodel", "is_dir": False, "file_size": 7}, {"path": "sub", "is_dir": True}]}
    d = requests.get(f"{mlemu.host}{X}/logged-models/{mid}/artifacts/directories",
                     params={"artifact_directory_path": "sub"}, headers=auth).json()
    assert d == {"files": [{"path": "sub/w.bin", "is_dir": False, "file_size": 1}]}
    r = _post(mlemu, auth, f"/logged-models/{mid}/artifacts/credentials-for-download", {"paths": ["MLmodel"]})
    url = r.json()["credentials"][0]["credential_info"]["signed_uri"]
    assert requests.get(url).content == b"flavors"
    missing = _post(mlemu, auth, "/logged-models/m-nope/artifacts/credentials-for-download", {"paths": ["MLmodel"]})
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
