"""The legacy raw DBFS proxy (``POST``/``GET /dbfs/<path>``) and DBFS JSON answers over HTTP."""
from __future__ import annotations

import pytest
import requests


@pytest.fixture
def auth(mlemu):
    return {"Authorization": f"Bearer {mlemu.token}"}


def test_raw_upload_and_download(mlemu, auth):
    r = requests.post(f"{mlemu.host}/dbfs/mlflow/artifacts/r1/artifacts/notes.txt", data=b"hello", headers=auth)
    assert r.status_code == 200 and r.json() == {}
    assert mlemu.storage.read("dbfs", "/mlflow/artifacts/r1/artifacts/notes.txt") == b"hello"
    g = requests.get(f"{mlemu.host}/dbfs/mlflow/artifacts/r1/artifacts/notes.txt", headers=auth)
    assert g.status_code == 200 and g.content == b"hello"
    assert g.headers["content-type"] == "application/octet-stream"
    again = requests.post(f"{mlemu.host}/dbfs/mlflow/artifacts/r1/artifacts/notes.txt", data=b"v2", headers=auth)
    assert again.status_code == 200  # the proxy overwrites
    assert mlemu.storage.read("dbfs", "/mlflow/artifacts/r1/artifacts/notes.txt") == b"v2"
    empty = requests.post(f"{mlemu.host}/dbfs/e.txt", data="", headers=auth)
    assert empty.status_code == 200 and mlemu.storage.read("dbfs", "/e.txt") == b""


def test_raw_errors(mlemu, auth):
    r = requests.get(f"{mlemu.host}/dbfs/none.txt", headers=auth)
    assert r.status_code == 404 and r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    mlemu.storage.mkdirs("dbfs", "/dir")
    assert requests.get(f"{mlemu.host}/dbfs/dir", headers=auth).status_code == 400
    assert requests.post(f"{mlemu.host}/dbfs/dir", data=b"x", headers=auth).json()["error_code"] == \
        "RESOURCE_ALREADY_EXISTS"
    assert requests.post(f"{mlemu.host}/dbfs/x.txt", data=b"x").status_code == 401
    t = requests.get(f"{mlemu.host}/dbfs/a/%2e%2e/%2e%2e/etc/passwd", headers=auth)
    assert t.status_code == 400 and t.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_list_with_trailing_slash_and_absolute_paths(mlemu, auth):
    """mlflow's DbfsRestArtifactRepository lists ``<root>/`` and strips the root off each path."""
    for p, data in (("/m/a/artifacts/notes.txt", b"hello"), ("/m/a/artifacts/mydir/x", b"1")):
        mlemu.storage.write("dbfs", p, data)
    r = requests.get(f"{mlemu.host}/api/2.0/dbfs/list", params={"path": "/m/a/artifacts/"}, headers=auth)
    files = r.json()["files"]
    assert [(f["path"], f["is_dir"], f["file_size"]) for f in files] == [
        ("/m/a/artifacts/mydir", True, 0), ("/m/a/artifacts/notes.txt", False, 5)]
    assert all(isinstance(f["modification_time"], int) for f in files)
    missing = requests.get(f"{mlemu.host}/api/2.0/dbfs/list", params={"path": "/m/zzz/"}, headers=auth)
    assert missing.status_code == 404 and missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_get_status_missing(mlemu, auth):
    r = requests.get(f"{mlemu.host}/api/2.0/dbfs/get-status", params={"path": "/zz"}, headers=auth)
    assert r.status_code == 404
    assert r.json() == {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No file or directory exists on path /zz."}
    no_path = requests.get(f"{mlemu.host}/api/2.0/dbfs/get-status", headers=auth)
    assert no_path.status_code == 400
    assert no_path.json()["message"] == "Missing value for required parameter 'path'."
