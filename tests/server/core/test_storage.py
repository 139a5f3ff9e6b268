"""Workspace byte storage: namespaces, directories, isolation, and the on-disk backend."""
from __future__ import annotations

import os

import pytest

from mlemu.server.core.clock import Clock
from mlemu.server.core.errors import ApiError
from mlemu.server.core.storage import Storage, dbfs_location, etag_of, normalize
from mlemu.workspace import Workspace


@pytest.fixture(params=["memory", "disk"])
def storage(request, tmp_path):
    return Storage(Clock(), None if request.param == "memory" else str(tmp_path / "root"))


def test_normalize_cleans_and_refuses_traversal():
    assert normalize("dbfs:/a//b/./c/") == "/a/b/c"
    assert normalize("//x") == "/x"
    for bad in ("", None, "relative/x", "/a/../b", "/..", "/a/\x00"):
        with pytest.raises(ApiError) as e:
            normalize(bad)
        assert e.value.code == "INVALID_PARAMETER_VALUE" and e.value.status == 400


def test_write_read_stat_and_ranges(storage):
    storage.write("files", "/Volumes/c/s/v/a.txt", b"hello")
    assert storage.read("files", "/Volumes/c/s/v/a.txt") == b"hello"
    assert storage.read("files", "/Volumes/c/s/v/a.txt", 1, 3) == b"el"
    st = storage.stat("files", "/Volumes/c/s/v/a.txt")
    assert (st.path, st.is_dir, st.size, st.name) == ("/Volumes/c/s/v/a.txt", False, 5, "a.txt")
    assert storage.stat("files", "/Volumes/c/s/v").is_dir
    assert storage.stat("files", "/Volumes/c/s/v/missing") is None
    with pytest.raises(ApiError) as e:
        storage.read("files", "/Volumes/c/s/v/missing")
    assert e.value.status == 404


def test_namespaces_are_separate(storage):
    storage.write("dbfs", "/x/y.txt", b"dbfs")
    assert storage.stat("files", "/x/y.txt") is None
    assert [e.path for e in storage.list("dbfs", "/")] == ["/x"]
    assert storage.list("files", "/") == []


def test_directories_are_real(storage):
    storage.write("dbfs", "/d/sub/f.txt", b"1")
    storage.mkdirs("dbfs", "/d/empty/deeper")
    assert [e.path for e in storage.list("dbfs", "/d")] == ["/d/empty", "/d/sub"]
    storage.delete("dbfs", "/d/sub/f.txt")
    assert storage.is_dir("dbfs", "/d/sub")  # a directory outlives its last file
    assert storage.list("dbfs", "/d/sub") == []
    assert storage.list("dbfs", "/d/sub/none") is None
    with pytest.raises(ApiError) as e:
        storage.delete("dbfs", "/d")
    assert e.value.code == "DIRECTORY_NOT_EMPTY"
    assert storage.delete("dbfs", "/d", recursive=True) is True
    assert storage.stat("dbfs", "/d") is None
    assert storage.delete("dbfs", "/d") is False


def test_files_and_directories_do_not_overlap(storage):
    storage.write("dbfs", "/f", b"x")
    with pytest.raises(ApiError):
        storage.write("dbfs", "/f/child", b"y")
    with pytest.raises(ApiError):
        storage.mkdirs("dbfs", "/f")
    storage.mkdirs("dbfs", "/dir")
    with pytest.raises(ApiError):
        storage.write("dbfs", "/dir", b"z")
    assert storage.first_file_ancestor("dbfs", "/f/a/b") == "/f"
    with pytest.raises(ApiError) as e:
        storage.write("dbfs", "/f", b"again", overwrite=False)
    assert e.value.code == "ALREADY_EXISTS"


def test_walk_and_move(storage):
    storage.write("dbfs", "/m/a.txt", b"a")
    storage.write("dbfs", "/m/n/b.txt", b"b")
    storage.mkdirs("dbfs", "/m/e")
    assert [e.path for e in storage.walk_files("dbfs", "/m")] == ["/m/a.txt", "/m/n/b.txt"]
    storage.move("dbfs", "/m", "/moved")
    assert storage.stat("dbfs", "/m") is None
    assert storage.read("dbfs", "/moved/n/b.txt") == b"b"
    assert storage.is_dir("dbfs", "/moved/e")
    storage.write("dbfs", "/other", b"o")
    with pytest.raises(ApiError) as e:
        storage.move("dbfs", "/moved/a.txt", "/other")
    assert e.value.code == "RESOURCE_ALREADY_EXISTS"


def test_workspaces_never_share_bytes():
    """fsspec's MemoryFileSystem keeps one class-level store unless told otherwise."""
    from fsspec.implementations.memory import MemoryFileSystem

    a, b = Workspace(), Workspace()
    a.storage.write("files", "/Volumes/c/s/v/secret.txt", b"a only")
    assert b.storage.stat("files", "/Volumes/c/s/v/secret.txt") is None
    assert b.storage.list("files", "/") == []
    assert a.storage.fs is not b.storage.fs
    assert not any("secret" in k for k in MemoryFileSystem.store)
    assert "/files/Volumes" not in MemoryFileSystem.pseudo_dirs


def test_artifact_root_stores_on_disk(tmp_path):
    ws = Workspace(artifact_root=str(tmp_path))
    ws.storage.write("files", "/Volumes/c/s/v/a.bin", b"disk")
    ws.storage.write("dbfs", "/tmp/b.bin", b"dbfs")
    assert (tmp_path / "files" / "Volumes" / "c" / "s" / "v" / "a.bin").read_bytes() == b"disk"
    assert (tmp_path / "dbfs" / "tmp" / "b.bin").read_bytes() == b"dbfs"
    # A second workspace on the same directory sees the same files (serving restarts).
    again = Workspace(artifact_root=str(tmp_path))
    assert again.storage.read("files", "/Volumes/c/s/v/a.bin") == b"disk"
    assert os.path.isdir(tmp_path / "files" / "Volumes")


def test_dbfs_location_and_etag():
    assert dbfs_location("dbfs:/Volumes/c/s/v/x") == ("files", "/Volumes/c/s/v/x")
    assert dbfs_location("/tmp/x") == ("dbfs", "/tmp/x")
    assert etag_of(b"hello") == '"5d41402abc4b2a76b9719d911017c592"'


def _fs_view(fs, paths):
    """What Storage reads from a filesystem: ls (names, types, sizes), info, isdir, exists."""
    def ls(p):
        try:
            return sorted((e["name"], e["type"], e["size"]) for e in fs.ls(p, detail=True))
        except FileNotFoundError:
            return "missing"

    def info(p):
        try:
            i = fs.info(p)
            return i["name"], i["type"], i["size"]
        except FileNotFoundError:
            return "missing"
    return {p: (ls(p), info(p), fs.isdir(p), fs.exists(p), fs.isfile(p)) for p in paths}


def test_indexed_memory_fs_answers_as_fsspecs_memory_fs():
    """The in-memory store indexes each directory's children (fsspec's MemoryFileSystem scans
    every file on each ls/info): after random writes, deletions, directories, tree removals and
    loads, every path reads the same from both."""
    import random

    from fsspec.implementations.memory import MemoryFileSystem

    from mlemu.server.core.storage import _memory_fs

    rng = random.Random(21)
    names = ["a", "b", "c.txt", "d"]
    universe = [""] + ["/" + "/".join(rng.choice(names) for _ in range(rng.randint(1, 4))) for _ in range(60)]
    for _ in range(20):
        indexed = _memory_fs()
        plain = MemoryFileSystem(skip_instance_cache=True)
        plain.store, plain.pseudo_dirs = {}, [""]
        for _ in range(40):
            op, p = rng.random(), rng.choice(universe[1:])
            for fs in (indexed, plain):
                try:
                    if op < 0.45:
                        if not fs.isdir(p):
                            fs.pipe_file(p, b"x" * len(p))
                    elif op < 0.65:
                        fs.makedirs(p, exist_ok=True)
                    elif op < 0.85:
                        if fs.isfile(p):
                            fs.rm_file(p)
                    elif op < 0.95:  # what Storage._remove_tree does: the store itself
                        for key in [k for k in fs.store if k.startswith(p + "/")]:
                            del fs.store[key]
                        fs.pseudo_dirs[:] = [d for d in fs.pseudo_dirs if d != p and not d.startswith(p + "/")]
                    else:  # what Storage.load does
                        store, dirs = dict(fs.store), list(fs.pseudo_dirs)
                        fs.store.clear()
                        fs.store.update(store)
                        fs.pseudo_dirs[:] = dirs
                except (FileExistsError, NotADirectoryError, IsADirectoryError):
                    pass
                if fs is indexed and op >= 0.85:
                    fs.reindex()
            assert _fs_view(indexed, universe) == _fs_view(plain, universe)
