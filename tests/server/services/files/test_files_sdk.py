"""The Files API through databricks-sdk's ``w.files`` (FilesExt, the client mlflow 3 uses)."""
from __future__ import annotations

import io

import pytest

from tests.sdk_features import FILES_EXT, FILES_EXT_REASON

VOL = "/Volumes/main/default/vol"


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


def test_upload_download_roundtrip(w, mlemu):
    w.files.upload(f"{VOL}/dir/x.bin", io.BytesIO(b"abc"), overwrite=True)
    assert w.files.download(f"{VOL}/dir/x.bin").contents.read() == b"abc"
    assert mlemu.storage.read("files", f"{VOL}/dir/x.bin") == b"abc"
    # create-download-url answers 200: the SDK reads the bytes from mlemu's pre-signed URL.
    ops = mlemu.calls.operations()
    assert ops[-2:] == (["files.create-download-url", "files.presigned.get"] if FILES_EXT
                        else ["files.upload", "files.download"])  # the plain Files API (databricks-sdk 0.40)
    assert mlemu.calls.filter(operation="files.upload")[0].status == 204


def test_download_missing_file_raises_not_found(w, mlemu):
    from databricks.sdk.errors import NotFound

    with pytest.raises(NotFound, match=r"The file being accessed is not found. path=/Volumes/main/default/vol/nope"):
        w.files.download(f"{VOL}/nope").contents.read()
    # No URL for a missing file: the SDK walks on to GET /api/2.0/fs/files, which raises. (SDKs
    # newer than 0.162 (0.167 does) first ask GET /api/2.0/fs/endpoints; a 404, as from a workspace the rollout
    # has not reached, sends them down that built-in order.)
    discovery = [(c.status, c.path) for c in mlemu.calls if c.path == "/api/2.0/fs/endpoints"]
    assert all(status == 404 for status, _ in discovery)
    assert [(c.operation, c.status) for c in mlemu.calls if c.path != "/api/2.0/fs/endpoints"] == [
        ("files.create-download-url", 404), ("files.download", 404)][0 if FILES_EXT else 1:]


def test_metadata(w, mlemu):
    from databricks.sdk.errors import NotFound

    mlemu.clock.freeze(1_795_752_986_378)
    w.files.upload(f"{VOL}/m.txt", io.BytesIO(b"12345"))
    meta = w.files.get_metadata(f"{VOL}/m.txt")
    assert meta.content_length == 5
    assert meta.content_type == "application/octet-stream"
    assert meta.last_modified == "Fri, 27 Nov 2026 04:16:26 GMT"
    with pytest.raises(NotFound):
        w.files.get_metadata(f"{VOL}/missing.txt")
    with pytest.raises(NotFound):  # a directory is not a file
        w.files.get_metadata(VOL)


def test_overwrite_false_on_existing_file_is_409(w, mlemu):
    from databricks.sdk.errors import AlreadyExists

    w.files.upload(f"{VOL}/once.txt", io.BytesIO(b"first"))
    with pytest.raises(AlreadyExists):
        w.files.upload(f"{VOL}/once.txt", io.BytesIO(b"second"), overwrite=False)
    call = mlemu.calls.filter(operation="files.upload")[-1]
    assert (call.status, call.error_code) == (409, "ALREADY_EXISTS")
    assert mlemu.storage.read("files", f"{VOL}/once.txt") == b"first"
    w.files.upload(f"{VOL}/once.txt", io.BytesIO(b"third"), overwrite=True)
    assert mlemu.storage.read("files", f"{VOL}/once.txt") == b"third"


def test_empty_file(w, mlemu):
    w.files.upload(f"{VOL}/empty", io.BytesIO(b""))
    assert w.files.get_metadata(f"{VOL}/empty").content_length == 0
    assert w.files.download(f"{VOL}/empty").contents.read() == b""


def test_list_directory_contents(w, mlemu):
    mlemu.clock.freeze(1_795_752_986_000)
    w.files.upload(f"{VOL}/d/b.txt", io.BytesIO(b"bb"))
    w.files.upload(f"{VOL}/d/a.txt", io.BytesIO(b"a"))
    w.files.upload(f"{VOL}/d/sub/deep.txt", io.BytesIO(b"deep"))
    w.files.create_directory(f"{VOL}/d/empty")
    entries = list(w.files.list_directory_contents(f"{VOL}/d"))
    assert [(e.path, e.name, e.is_directory, e.file_size) for e in entries] == [
        (f"{VOL}/d/a.txt", "a.txt", False, 1),
        (f"{VOL}/d/b.txt", "b.txt", False, 2),
        (f"{VOL}/d/empty", "empty", True, None),
        (f"{VOL}/d/sub", "sub", True, None),
    ]
    assert entries[0].last_modified == 1_795_752_986_000
    assert list(w.files.list_directory_contents(f"{VOL}/d/empty")) == []


def test_list_directory_pages(w, mlemu):
    for i in range(5):
        w.files.upload(f"{VOL}/p/f{i}", io.BytesIO(b"x"))
    names = [e.name for e in w.files.list_directory_contents(f"{VOL}/p", page_size=2)]
    assert names == ["f0", "f1", "f2", "f3", "f4"]
    pages = mlemu.calls.filter(operation="files.directories.list")
    assert len(pages) == 3
    assert [len(p.response.get("contents", [])) for p in pages] == [2, 2, 1]
    assert "next_page_token" not in pages[-1].response


def test_list_missing_directory(w):
    from databricks.sdk.errors import NotFound

    with pytest.raises(NotFound):
        list(w.files.list_directory_contents(f"{VOL}/none"))


def test_directories(w, mlemu):
    from databricks.sdk.errors import BadRequest, NotFound

    w.files.create_directory(f"{VOL}/a/b/c")
    w.files.create_directory(f"{VOL}/a/b/c")  # idempotent
    w.files.get_directory_metadata(f"{VOL}/a/b")
    with pytest.raises(NotFound):
        w.files.get_directory_metadata(f"{VOL}/a/zz")
    w.files.upload(f"{VOL}/a/file.txt", io.BytesIO(b"f"))
    with pytest.raises(NotFound):  # HEAD on a file: not a directory (mlflow relies on it)
        w.files.get_directory_metadata(f"{VOL}/a/file.txt")
    with pytest.raises(BadRequest) as e:
        w.files.delete_directory(f"{VOL}/a/b")
    assert e.value.error_code == "DIRECTORY_NOT_EMPTY"
    w.files.delete_directory(f"{VOL}/a/b/c")
    w.files.delete_directory(f"{VOL}/a/b")
    assert not mlemu.storage.exists("files", f"{VOL}/a/b")
    with pytest.raises(NotFound):
        w.files.delete_directory(f"{VOL}/a/b")


def test_delete_file(w, mlemu):
    from databricks.sdk.errors import NotFound

    w.files.upload(f"{VOL}/gone.txt", io.BytesIO(b"g"))
    w.files.delete(f"{VOL}/gone.txt")
    assert not mlemu.storage.exists("files", f"{VOL}/gone.txt")
    assert mlemu.calls.filter(operation="files.delete")[0].status == 204
    with pytest.raises(NotFound):
        w.files.delete(f"{VOL}/gone.txt")


def test_conflicts_between_files_and_directories(w, mlemu):
    from databricks.sdk.errors import AlreadyExists, ResourceConflict

    w.files.upload(f"{VOL}/f", io.BytesIO(b"f"))
    with pytest.raises(ResourceConflict):
        w.files.upload(f"{VOL}/f/child", io.BytesIO(b"c"))
    with pytest.raises(AlreadyExists):
        w.files.create_directory(f"{VOL}/f")
    w.files.create_directory(f"{VOL}/dir")
    with pytest.raises(AlreadyExists):
        w.files.upload(f"{VOL}/dir", io.BytesIO(b"d"))


@pytest.mark.parametrize("path", ["/tmp/x.txt", "/Users/me/x.txt", "/Volumes/main/x.txt"])
def test_paths_outside_the_files_roots_are_refused(w, path):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        w.files.upload(path, io.BytesIO(b"x"))


def test_workspace_internal_and_models_roots(w, mlemu):
    # /Models files belong to a model version pending registration (the registry's rule).
    mlemu.unity_catalog.ensure_schema("c.s")
    w.api_client.do("POST", "/api/2.0/mlflow/unity-catalog/registered-models/create", body={"name": "c.s.m"})
    w.api_client.do("POST", "/api/2.0/mlflow/unity-catalog/model-versions/create",
                    body={"name": "c.s.m", "source": "dbfs:/x"})
    w.files.upload("/Models/c/s/m/1/MLmodel", io.BytesIO(b"m"))
    w.files.upload("/WorkspaceInternal/Mlflow/Artifacts/1/Runs/r/artifacts/a", io.BytesIO(b"r"))
    assert [e.name for e in w.files.list_directory_contents("/Models/c/s/m/1")] == ["MLmodel"]


@pytest.mark.skipif(not FILES_EXT, reason=FILES_EXT_REASON)
def test_parallel_download_uses_ranges(w, mlemu, tmp_path):
    """download_to splits big files into Range requests on the pre-signed URL."""
    data = bytes(range(256)) * 40  # 10 KiB
    w.files.upload(f"{VOL}/big.bin", io.BytesIO(data))
    w.files._config.files_ext_parallel_download_min_file_size = 1024
    w.files._config.files_ext_parallel_download_default_part_size = 3000
    dest = tmp_path / "big.bin"
    w.files.download_to(f"{VOL}/big.bin", str(dest), use_parallel=True, parallelism=3)
    assert dest.read_bytes() == data
    gets = mlemu.calls.filter(operation="files.presigned.get")
    assert sorted(c.status for c in gets) == [206, 206, 206, 206]


@pytest.mark.skipif(not FILES_EXT, reason=FILES_EXT_REASON)
def test_multipart_upload_is_refused_and_the_sdk_falls_back(w, mlemu):
    """Above files_ext_multipart_upload_min_stream_size the SDK first asks for a multipart
    session; mlemu refuses and the SDK uploads in one PUT."""
    data = b"y" * 4096
    w.files._config.files_ext_multipart_upload_min_stream_size = 1024
    w.files.upload(f"{VOL}/multi.bin", io.BytesIO(data), overwrite=True)
    assert mlemu.storage.read("files", f"{VOL}/multi.bin") == data
    refused = mlemu.calls.assert_called("files.multipart", times=1)[0]
    assert refused.status == 404 and refused.path == f"/api/2.0/fs/files{VOL}/multi.bin"
    mlemu.calls.assert_called("files.upload", times=1)


@pytest.mark.skipif(not FILES_EXT, reason=FILES_EXT_REASON)
def test_files_over_the_loopback_server(mlemu, mlemu_server):
    """Same client over real HTTP: HEAD keeps its Content-Length, pre-signed URLs point at the server."""
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.files.upload(f"{VOL}/http.txt", io.BytesIO(b"over http"))
    assert w.files.get_metadata(f"{VOL}/http.txt").content_length == 9
    assert w.files.download(f"{VOL}/http.txt").contents.read() == b"over http"
    url = mlemu.calls.filter(operation="files.create-download-url")[0].response["url"]
    assert url.startswith(mlemu_server.url + "/presigned/")
