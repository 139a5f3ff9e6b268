"""DBFS through databricks-sdk's ``w.dbfs`` (JSON API: create/add-block/close, read, ...)."""
from __future__ import annotations

import base64
import io

import pytest

MiB = 1024 * 1024


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


def test_upload_download_roundtrip(w, mlemu):
    w.dbfs.upload("/demo/sdk/hello.txt", io.BytesIO(b"hello dbfs"), overwrite=True)
    assert w.dbfs.download("/demo/sdk/hello.txt").read() == b"hello dbfs"
    assert mlemu.calls.operations()[:3] == ["dbfs.create", "dbfs.add-block", "dbfs.close"]
    assert mlemu.calls.filter(operation="dbfs.create")[0].response == {"handle": 1}
    assert mlemu.storage.read("dbfs", "/demo/sdk/hello.txt") == b"hello dbfs"


def test_multi_block_upload_and_download(w, mlemu):
    data = bytes(range(256)) * (5 * 1024 + 7)  # ~1.3 MiB: two blocks, two reads
    w.dbfs.upload("dbfs:/demo/big.bin", io.BytesIO(data), overwrite=True)
    assert len(mlemu.calls.filter(operation="dbfs.add-block")) == 2
    assert w.dbfs.download("dbfs:/demo/big.bin").read() == data
    assert len(mlemu.calls.filter(operation="dbfs.read")) == 2


def test_get_status_list_and_exists(w, mlemu):
    from databricks.sdk.errors import NotFound, ResourceDoesNotExist

    mlemu.clock.freeze(1_795_752_986_760)
    w.dbfs.put("/tmp/sdk/hello.txt", contents=base64.b64encode(b"hello dbfs").decode(), overwrite=True)
    st = w.dbfs.get_status("/tmp/sdk/hello.txt")
    assert (st.path, st.is_dir, st.file_size, st.modification_time) == (
        "/tmp/sdk/hello.txt", False, 10, 1_795_752_986_760)
    assert w.dbfs.get_status("dbfs:/tmp/sdk/").is_dir
    assert [(f.path, f.is_dir, f.file_size) for f in w.dbfs.list("/tmp/sdk")] == [("/tmp/sdk/hello.txt", False, 10)]
    assert [f.path for f in w.dbfs.list("/tmp")] == ["/tmp/sdk"]
    assert w.dbfs.exists("/tmp/sdk/hello.txt") and not w.dbfs.exists("/tmp/nope")
    with pytest.raises(ResourceDoesNotExist) as e:
        w.dbfs.get_status("/tmp/nope")
    assert isinstance(e.value, NotFound)
    assert "No file or directory exists on path /tmp/nope" in str(e.value)


def test_list_of_a_file_and_of_an_empty_dir(w, mlemu):
    from databricks.sdk.errors import ResourceDoesNotExist

    w.dbfs.put("/l/f.txt", contents=base64.b64encode(b"f").decode())
    w.dbfs.mkdirs("/l/empty")
    assert [f.path for f in w.dbfs._dbfs_api.list("/l/f.txt")] == ["/l/f.txt"]
    assert list(w.dbfs.list("/l/empty")) == []
    assert mlemu.calls.filter(operation="dbfs.list")[-1].response == {}  # no "files" key when empty
    with pytest.raises(ResourceDoesNotExist):
        list(w.dbfs.list("/l/missing"))


def test_list_recursive(w):
    for p in ("/r/a.txt", "/r/x/b.txt", "/r/x/y/c.txt"):
        w.dbfs.put(p, contents=base64.b64encode(b"1").decode())
    assert sorted(f.path for f in w.dbfs.list("/r", recursive=True)) == ["/r/a.txt", "/r/x/b.txt", "/r/x/y/c.txt"]


def test_mkdirs_and_file_prefix_conflict(w, mlemu):
    from databricks.sdk.errors import ResourceAlreadyExists

    w.dbfs.mkdirs("/a/b/c")
    w.dbfs.mkdirs("/a/b/c")
    assert w.dbfs.get_status("/a/b").is_dir
    w.dbfs.put("/a/file", contents="")
    with pytest.raises(ResourceAlreadyExists):
        w.dbfs.mkdirs("/a/file/sub")
    with pytest.raises(ResourceAlreadyExists):
        w.dbfs.mkdirs("/a/file")
    with pytest.raises(ResourceAlreadyExists):
        w.dbfs.put("/a/file/sub.txt", contents="")
    assert mlemu.storage.read("dbfs", "/a/file") == b""


def test_delete(w, mlemu):
    from databricks.sdk.errors import BadRequest

    w.dbfs.put("/d/x/f.txt", contents=base64.b64encode(b"f").decode())
    with pytest.raises(BadRequest) as e:  # the raw API refuses a non-empty dir without recursive
        w.dbfs._dbfs_api.delete("/d", recursive=False)
    assert e.value.error_code == "IO_ERROR"
    w.dbfs.delete("/d/x/f.txt")
    assert not w.dbfs.exists("/d/x/f.txt") and w.dbfs.exists("/d/x")
    w.dbfs._dbfs_api.delete("/d/x")  # an empty directory needs no recursive flag
    w.dbfs.put("/d/y/g.txt", contents="")
    w.dbfs.delete("/d", recursive=True)
    assert not w.dbfs.exists("/d")
    w.dbfs._dbfs_api.delete("/never/there")  # deleting nothing is fine


def test_put_and_read_with_offsets(w, mlemu):
    from databricks.sdk.errors import ResourceAlreadyExists

    w.dbfs.put("/p.txt", contents=base64.b64encode(b"0123456789").decode())
    r = w.dbfs.read("/p.txt", offset=3, length=4)
    assert (r.bytes_read, base64.b64decode(r.data)) == (4, b"3456")
    r = w.dbfs.read("/p.txt", offset=8, length=100)
    assert (r.bytes_read, base64.b64decode(r.data)) == (2, b"89")
    r = w.dbfs.read("/p.txt", offset=50)
    assert r.bytes_read == 0
    with pytest.raises(ResourceAlreadyExists):
        w.dbfs.put("/p.txt", contents="", overwrite=False)
    w.dbfs.put("/p.txt", contents=base64.b64encode(b"new").decode(), overwrite=True)
    assert base64.b64decode(w.dbfs.read("/p.txt").data) == b"new"


def test_read_default_length_is_half_a_megabyte(w, mlemu):
    mlemu.storage.write("dbfs", "/big", b"z" * MiB)
    assert w.dbfs.read("/big").bytes_read == 512 * 1024
    assert w.dbfs.read("/big", length=MiB).bytes_read == MiB


def test_documented_limits(w, mlemu):
    from databricks.sdk.errors import BadRequest, InvalidParameterValue

    too_big = base64.b64encode(b"x" * (MiB + 1)).decode()
    with pytest.raises(BadRequest) as e:
        w.dbfs.put("/limit.bin", contents=too_big)
    assert e.value.error_code == "MAX_BLOCK_SIZE_EXCEEDED"
    assert not mlemu.storage.exists("dbfs", "/limit.bin")
    w.dbfs.put("/limit.bin", contents=base64.b64encode(b"x" * MiB).decode())  # exactly 1 MB is fine
    handle = w.dbfs.create("/stream.bin").handle
    with pytest.raises(BadRequest) as e:
        w.dbfs.add_block(handle, too_big)
    assert e.value.error_code == "MAX_BLOCK_SIZE_EXCEEDED"
    with pytest.raises(BadRequest) as e:
        w.dbfs.read("/limit.bin", length=MiB + 1)
    assert e.value.error_code == "MAX_READ_SIZE_EXCEEDED"
    with pytest.raises(InvalidParameterValue):
        w.dbfs.read("/limit.bin", offset=-1)
    with pytest.raises(InvalidParameterValue):
        w.dbfs.read("/limit.bin", length=-5)
    w.dbfs.mkdirs("/somedir")
    with pytest.raises(InvalidParameterValue):
        w.dbfs.read("/somedir")
    with pytest.raises(InvalidParameterValue):
        w.dbfs.put("/bad64", contents="not base64!!")


def test_stream_handles(w, mlemu):
    from databricks.sdk.errors import ResourceAlreadyExists, ResourceDoesNotExist

    h = w.dbfs.create("/s.txt", overwrite=False).handle
    w.dbfs.add_block(h, base64.b64encode(b"ab").decode())
    assert not mlemu.storage.exists("dbfs", "/s.txt")  # nothing is visible before close
    w.dbfs.add_block(h, base64.b64encode(b"cd").decode())
    w.dbfs.close(h)
    assert mlemu.storage.read("dbfs", "/s.txt") == b"abcd"
    with pytest.raises(ResourceDoesNotExist):
        w.dbfs.close(h)
    with pytest.raises(ResourceDoesNotExist):
        w.dbfs.add_block(12345, "")
    with pytest.raises(ResourceAlreadyExists):
        w.dbfs.create("/s.txt", overwrite=False)
    h2 = w.dbfs.create("/s.txt", overwrite=True).handle
    assert h2 == h + 1
    mlemu.clock.advance(10 * 60 + 1)  # handles close after 10 minutes idle
    with pytest.raises(ResourceDoesNotExist):
        w.dbfs.add_block(h2, "")
    assert mlemu.storage.read("dbfs", "/s.txt") == b"abcd"


def test_move(w, mlemu):
    from databricks.sdk.errors import ResourceAlreadyExists, ResourceDoesNotExist

    w.dbfs.put("/mv/src/a.txt", contents=base64.b64encode(b"a").decode())
    w.dbfs.move("/mv/src", "/mv/dst")
    assert w.dbfs.exists("/mv/dst/a.txt") and not w.dbfs.exists("/mv/src")
    with pytest.raises(ResourceDoesNotExist):
        w.dbfs.move("/mv/src", "/mv/other")
    w.dbfs.put("/mv/b.txt", contents="")
    with pytest.raises(ResourceAlreadyExists):
        w.dbfs.move("/mv/b.txt", "/mv/dst/a.txt")
    w.dbfs.move_("/mv/b.txt", "/mv/new/c.txt")
    assert mlemu.storage.exists("dbfs", "/mv/new/c.txt")


def test_volumes_through_dbfs_are_the_files_api_files(w, mlemu):
    """DBFS serves UC volumes: the same bytes the Files API sees."""
    w.dbfs.put("dbfs:/Volumes/c/s/v/shared.txt", contents=base64.b64encode(b"shared").decode())
    assert w.files.download("/Volumes/c/s/v/shared.txt").contents.read() == b"shared"
    assert [f.path for f in w.dbfs._dbfs_api.list("/Volumes/c/s/v")] == ["/Volumes/c/s/v/shared.txt"]
    assert mlemu.storage.stat("dbfs", "/Volumes/c/s/v/shared.txt") is None


def test_mlflow_managed_root_is_not_reachable(w):
    from databricks.sdk.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        w.dbfs.get_status("/databricks/mlflow-tracking/1/abc/artifacts")
    with pytest.raises(PermissionDenied):
        w.dbfs.put("dbfs:/databricks/mlflow-tracking/1/x", contents="")


@pytest.mark.parametrize("path", ["/a/../../etc/passwd", "relative/path", ""])
def test_invalid_paths(w, path):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        w.dbfs.get_status(path)
