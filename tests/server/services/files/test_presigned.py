"""Pre-signed URLs: unauthenticated access to exactly one file, for a limited time."""
from __future__ import annotations

import pytest
import requests

VOL = "/Volumes/main/default/vol"


@pytest.fixture
def auth(mlemu):
    return {"Authorization": f"Bearer {mlemu.token}"}


def _download_url(mlemu, auth, path: str, as_query: bool = True) -> str:
    endpoint = f"{mlemu.host}/api/2.0/fs/create-download-url"
    if as_query:  # the SDK's way
        r = requests.post(endpoint, params={"path": path, "expire_time": "2026-11-27T05:16:26Z"}, headers=auth)
    else:  # mlflow's PresignedUrlArtifactRepository sends a JSON body
        r = requests.post(endpoint, json={"path": path}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["headers"] == []
    return body["url"]


@pytest.mark.parametrize("as_query", [True, False])
def test_download_url_reads_the_file_without_credentials(mlemu, auth, as_query):
    mlemu.storage.write("files", f"{VOL}/a.txt", b"alpha")
    url = _download_url(mlemu, auth, f"{VOL}/a.txt", as_query)
    assert url.startswith(f"{mlemu.host}/presigned/")
    r = requests.get(url)  # no Authorization header
    assert r.status_code == 200 and r.content == b"alpha"
    assert r.headers["etag"] == '"2c1743a391305fbf367df8e4f069f9f9"'  # md5("alpha")


def test_token_grants_only_its_own_path(mlemu, auth):
    mlemu.storage.write("files", f"{VOL}/a.txt", b"alpha")
    mlemu.storage.write("files", f"{VOL}/b.txt", b"beta")
    url = _download_url(mlemu, auth, f"{VOL}/a.txt")
    other = url.replace("/a.txt", "/b.txt")
    r = requests.get(other)
    assert r.status_code == 403 and b"SignatureDoesNotMatch" in r.content
    for sneaky in (url + "/../b.txt", url.replace("/a.txt", "/%2e%2e/vol/b.txt"), url + "x"):
        assert requests.get(sneaky).status_code in (403, 404)
    assert requests.put(url, data=b"overwrite").status_code == 403  # a GET grant cannot write
    assert mlemu.storage.read("files", f"{VOL}/a.txt") == b"alpha"


def test_made_up_token_is_refused(mlemu):
    mlemu.storage.write("files", f"{VOL}/a.txt", b"alpha")
    r = requests.get(f"{mlemu.host}/presigned/{'0' * 40}{VOL}/a.txt")
    assert r.status_code == 403
    assert b"<Code>AccessDenied</Code>" in r.content
    assert requests.put(f"{mlemu.host}/presigned/deadbeef{VOL}/a.txt", data=b"x").status_code == 403
    assert mlemu.calls.filter(operation="files.presigned.get")[0].error_code == "AccessDenied"


def test_url_expires_on_the_workspace_clock(mlemu, auth):
    mlemu.storage.write("files", f"{VOL}/a.txt", b"alpha")
    url = _download_url(mlemu, auth, f"{VOL}/a.txt")
    mlemu.clock.advance(59 * 60)
    assert requests.get(url).status_code == 200
    mlemu.clock.advance(2 * 60)
    r = requests.get(url)
    assert r.status_code == 403
    assert b"<Message>Request has expired</Message>" in r.content  # what the SDK refreshes on


def test_download_url_for_a_missing_file_is_404(mlemu, auth):
    r = requests.post(f"{mlemu.host}/api/2.0/fs/create-download-url", json={"path": f"{VOL}/none"}, headers=auth)
    assert r.status_code == 404 and r.json()["error_code"] == "NOT_FOUND"


def test_create_url_validation(mlemu, auth):
    endpoint = f"{mlemu.host}/api/2.0/fs/create-download-url"
    assert requests.post(endpoint, json={}, headers=auth).json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert requests.post(endpoint, json={"path": "/tmp/x"}, headers=auth).status_code == 400
    assert requests.post(endpoint, params={"path": f"{VOL}/a", "expire_time": "soon"}, headers=auth).status_code == 400
    assert requests.post(endpoint, json={"path": f"{VOL}/a"}).status_code == 401


def _pending_versions(ws, full_name: str, count: int) -> None:
    """/Models files are writable only while a version is pending registration."""
    ws.unity_catalog.ensure_schema(full_name.rsplit(".", 1)[0])
    ws.registry.create_model(full_name)
    for _ in range(count):
        ws.registry.create_version(full_name, "dbfs:/src")


def test_upload_url_writes_one_file(mlemu, auth):
    _pending_versions(mlemu, "c.s.m", 1)
    r = requests.post(f"{mlemu.host}/api/2.0/fs/create-upload-url", json={"path": "/Models/c/s/m/1/MLmodel"},
                      headers=auth)
    assert r.status_code == 200
    url = r.json()["url"]
    put = requests.put(url, data=b"flavors: {}")
    assert put.status_code == 200
    assert put.headers["etag"].startswith('"') and len(put.headers["etag"]) == 34
    assert mlemu.storage.read("files", "/Models/c/s/m/1/MLmodel") == b"flavors: {}"
    assert requests.get(url).status_code == 403  # a PUT grant cannot read
    assert requests.put(url.replace("MLmodel", "other"), data=b"x").status_code == 403
    assert not mlemu.storage.exists("files", "/Models/c/s/m/1/other")


def test_deleted_file_behind_a_download_url_is_no_such_key(mlemu, auth):
    mlemu.storage.write("files", f"{VOL}/a.txt", b"alpha")
    url = _download_url(mlemu, auth, f"{VOL}/a.txt")
    mlemu.storage.delete("files", f"{VOL}/a.txt")
    r = requests.get(url)
    assert r.status_code == 404 and b"NoSuchKey" in r.content


def test_tokens_are_per_workspace(mlemu, auth):
    from mlemu import Workspace

    mlemu.storage.write("files", f"{VOL}/a.txt", b"alpha")
    url = _download_url(mlemu, auth, f"{VOL}/a.txt")
    other = Workspace(workspace_id="999", seed=0)
    other.storage.write("files", f"{VOL}/a.txt", b"other")
    path = url[len(mlemu.host):]
    status, _, body = other.handle("GET", path)
    assert status == 403


def test_presigned_range_requests(mlemu, auth):
    mlemu.storage.write("files", f"{VOL}/r.txt", b"0123456789")
    url = _download_url(mlemu, auth, f"{VOL}/r.txt")
    r = requests.get(url, headers={"Range": "bytes=3-4"})
    assert r.status_code == 206 and r.content == b"34" and r.headers["content-range"] == "bytes 3-4/10"


def test_mlflow_presigned_url_repository(mlemu, tmp_path):
    """mlflow's UC DEFAULT_STORAGE repository: create-upload-url, directory listing with a
    trailing slash (NOT_FOUND -> []), create-download-url with a JSON body."""
    from mlflow.store.artifact.presigned_url_artifact_repo import PresignedUrlArtifactRepository
    from mlflow.utils.databricks_utils import get_databricks_host_creds

    _pending_versions(mlemu, "cat.sch.model", 3)
    repo = PresignedUrlArtifactRepository(get_databricks_host_creds("databricks"), "cat.sch.model", 3)
    assert repo.list_artifacts("") == []  # the version's folder does not exist yet
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "MLmodel").write_text("flavors: {}")
    (src / "sub" / "w.bin").write_bytes(b"\x00\x01")
    repo.log_artifacts(str(src))
    assert mlemu.storage.read("files", "/Models/cat/sch/model/3/sub/w.bin") == b"\x00\x01"
    assert [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts("")] == [
        ("MLmodel", False, 11), ("sub", True, None)]
    (tmp_path / "out").mkdir()
    out = repo.download_artifacts("", dst_path=str(tmp_path / "out"))
    assert (tmp_path / "out" / "sub" / "w.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "out" / "MLmodel").read_text() == "flavors: {}"
    assert out
    mlemu.calls.assert_called("files.create-upload-url", times=2)
    mlemu.calls.assert_called("files.presigned.put", times=2)
    downloads = mlemu.calls.filter(operation="files.create-download-url")
    assert downloads and all(set(c.request) == {"path"} for c in downloads)  # a JSON body, no query


def test_expired_grants_are_dropped_and_then_refused(mlemu, auth):
    """A grant answers "expired" for a while, then is gone (Access Denied) and no longer kept;
    the pass over the grants runs when the first one is due, not per URL issued."""
    mlemu.storage.write("files", f"{VOL}/a.txt", b"alpha")
    old = [_download_url(mlemu, auth, f"{VOL}/a.txt") for _ in range(3)]
    mlemu.clock.advance(61 * 60)
    assert b"Request has expired" in requests.get(old[0]).content
    mlemu.clock.advance(60 * 60)
    r = requests.get(old[1])                  # due for removal, even before a pass removes it
    assert r.status_code == 403 and b"<Message>Access Denied</Message>" in r.content
    fresh = _download_url(mlemu, auth, f"{VOL}/a.txt")   # issuing runs the due pass
    assert len(mlemu.files.presigned) == 1
    assert requests.get(fresh).content == b"alpha"
