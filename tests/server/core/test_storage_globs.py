"""Storage treats every path literally: glob characters in a name never reach siblings.

fsspec's ``rm``/``find``/``expand_path`` expand ``*``, ``?`` and ``[...]``; a directory named
``[ab]*`` once deleted ``a.txt`` and ``b.txt`` next to it (issue 8, defect 1).
"""
from __future__ import annotations

import io

import pytest

from mlemu.server.core.clock import Clock
from mlemu.server.core.storage import Storage

VOL = "/Volumes/main/default/vol"
GLOBS = ("[ab]*", "*", "?.txt", "**", "a*", "[!x]*", "{a,b}.txt")


@pytest.fixture(params=["memory", "disk"])
def storage(request, tmp_path):
    return Storage(Clock(), None if request.param == "memory" else str(tmp_path / "root"))


@pytest.mark.parametrize("name", GLOBS)
def test_deleting_a_glob_named_directory_keeps_its_siblings(storage, name):
    storage.write("files", f"{VOL}/v/a.txt", b"a")
    storage.write("files", f"{VOL}/v/b.txt", b"b")
    storage.mkdirs("files", f"{VOL}/v/{name}/inner")
    storage.write("files", f"{VOL}/v/{name}/inner/c.txt", b"c")
    assert storage.delete("files", f"{VOL}/v/{name}", recursive=True)
    assert storage.read("files", f"{VOL}/v/a.txt") == b"a"
    assert storage.read("files", f"{VOL}/v/b.txt") == b"b"
    assert [e.name for e in storage.list("files", f"{VOL}/v")] == ["a.txt", "b.txt"]


@pytest.mark.parametrize("name", GLOBS)
def test_glob_named_file_is_one_file(storage, name):
    storage.write("files", f"{VOL}/v/a.txt", b"a")
    assert not storage.exists("files", f"{VOL}/v/{name}")
    assert storage.delete("files", f"{VOL}/v/{name}") is False
    storage.write("files", f"{VOL}/v/{name}", b"g")
    assert storage.read("files", f"{VOL}/v/{name}") == b"g"
    assert storage.delete("files", f"{VOL}/v/{name}")
    assert storage.read("files", f"{VOL}/v/a.txt") == b"a"


def test_move_of_a_glob_named_directory_moves_only_it(storage):
    storage.write("files", f"{VOL}/v/a.txt", b"a")
    storage.write("files", f"{VOL}/v/[ab]*/x.txt", b"x")
    storage.move("files", f"{VOL}/v/[ab]*", f"{VOL}/w")
    assert storage.read("files", f"{VOL}/w/x.txt") == b"x"
    assert storage.read("files", f"{VOL}/v/a.txt") == b"a"
    assert [e.name for e in storage.list("files", f"{VOL}/v")] == ["a.txt"]


def test_files_api_delete_directory_with_glob_name_keeps_siblings(mlemu):
    """The reproduction of the issue, through databricks-sdk's Files API."""
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.files.upload(f"{VOL}/v/a.txt", io.BytesIO(b"a"))
    w.files.upload(f"{VOL}/v/b.txt", io.BytesIO(b"b"))
    w.files.create_directory(f"{VOL}/v/[ab]*")
    w.files.delete_directory(f"{VOL}/v/[ab]*")
    names = sorted(e.name for e in w.files.list_directory_contents(f"{VOL}/v"))
    assert names == ["a.txt", "b.txt"]
    assert w.files.download(f"{VOL}/v/a.txt").contents.read() == b"a"


def test_dbfs_recursive_delete_of_star_is_literal(mlemu):
    """DBFS ``delete {"path": "/g/*", "recursive": true}`` must not wipe ``/g``."""
    import base64

    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.dbfs.put("/g/keep.txt", contents=base64.b64encode(b"k").decode())
    w.dbfs.delete("/g/*", recursive=True)  # nothing is named "*": a no-op, as for any missing path
    assert w.dbfs.get_status("/g/keep.txt").file_size == 1
    w.dbfs.mkdirs("/g/*")
    w.dbfs.delete("/g/*", recursive=True)
    assert [f.path for f in w.dbfs.list("/g")] == ["/g/keep.txt"]
