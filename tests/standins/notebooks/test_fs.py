"""dbutils.fs and %fs over the emulated DBFS, UC volumes and workspace files: what a notebook
writes, the SDK reads back, and the host's disk is never touched."""
from __future__ import annotations

import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import FsError, NotebookFailed, NotEmulated


def test_dbfs_round_trip_with_the_sdk(mlemu, write_notebook):
    from databricks.sdk import WorkspaceClient

    path = write_notebook("Fs.py", """
        dbutils.fs.mkdirs("dbfs:/tmp/nb/in")
        dbutils.fs.put("/tmp/nb/in/a.csv", "x,y\\n1,2\\n")
        dbutils.fs.put("/tmp/nb/in/a.csv", "x,y\\n3,4\\n", overwrite=True)
        dbutils.fs.cp("/tmp/nb/in/a.csv", "/tmp/nb/b.csv")
        dbutils.fs.cp("/tmp/nb/in", "/tmp/nb/copy", recurse=True)
        dbutils.fs.mv("/tmp/nb/b.csv", "/tmp/nb/c.csv")
        listing = [(f.path, f.name, f.size) for f in dbutils.fs.ls("/tmp/nb")]
        head = dbutils.fs.head("dbfs:/tmp/nb/c.csv", 3)
        removed = (dbutils.fs.rm("/tmp/nb/copy", recurse=True), dbutils.fs.rm("/tmp/nb/missing"))
        dbutils.notebook.exit(repr((listing, head, removed)))
    """)
    run = notebooks.run(path)
    listing, head, removed = eval(run.exit_value)  # noqa: S307 - our own repr
    assert listing == [("dbfs:/tmp/nb/c.csv", "c.csv", 8), ("dbfs:/tmp/nb/copy/", "copy/", 0),
                       ("dbfs:/tmp/nb/in/", "in/", 0)]
    assert head == "x,y" and removed == (True, False)
    assert "Wrote 8 bytes." in run.output and "[Truncated to first 3 bytes]" in run.output
    w = WorkspaceClient()
    with w.dbfs.download("/tmp/nb/c.csv") as f:
        assert f.read() == b"x,y\n3,4\n"
    assert sorted(f.path for f in w.dbfs.list("/tmp/nb")) == ["/tmp/nb/c.csv", "/tmp/nb/in"]


def test_volumes_and_workspace_files(mlemu, write_notebook):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.workspace.mkdirs("/Users/user@company.com/proj")
    path = write_notebook("Fs.py", """
        dbutils.fs.put("/Volumes/main/default/landing/raw/data.json", '{"a": 1}')
        dbutils.fs.put("/Workspace/Users/user@company.com/proj/config.yml", "k: v")
        dbutils.fs.cp("file:/Workspace/Users/user@company.com/proj/config.yml", "dbfs:/configs/config.yml")
        vol = [f.name for f in dbutils.fs.ls("/Volumes/main/default/landing/raw")]
        ws = [(f.path, f.size) for f in dbutils.fs.ls("/Workspace/Users/user@company.com/proj")]
        dbutils.notebook.exit(repr((vol, ws, dbutils.fs.head("/configs/config.yml"))))
    """)
    vol, ws, head = eval(notebooks.run(path).exit_value)  # noqa: S307
    assert vol == ["data.json"] and head == "k: v"
    assert ws == [("file:/Workspace/Users/user@company.com/proj/config.yml", 4)]
    assert w.files.download("/Volumes/main/default/landing/raw/data.json").contents.read() == b'{"a": 1}'
    exported = w.workspace.download("/Users/user@company.com/proj/config.yml")
    assert exported.read() == b"k: v"


def test_fs_magic_lists_as_a_table(mlemu, write_notebook):
    path = write_notebook("Fs.py", 'dbutils.fs.put("/data/x.txt", "hello")', "# MAGIC %fs ls /data",
                          "# MAGIC %fs head /data/x.txt", "# MAGIC %fs rm -r /data")
    run = notebooks.run(path)
    assert run.displays[0].frame.to_dict("list") == {"path": ["dbfs:/data/x.txt"], "name": ["x.txt"], "size": [5],
                                                     "modificationTime": [run.displays[0].frame.iloc[0, 3]]}
    assert run.cells[2].output == "hello\n"
    assert mlemu.dbfs.list("/") == [] or all(e.name != "data" for e in mlemu.dbfs.list("/"))


@pytest.mark.parametrize("cell, error, message", [
    ('dbutils.fs.ls("/nope")', FsError, "File /nope does not exist"),
    ('dbutils.fs.put("/a.txt", "1"); dbutils.fs.put("/a.txt", "2")', FsError, "File already exists: /a.txt"),
    ('dbutils.fs.mkdirs("/d/e"); dbutils.fs.put("/d/e/f", "1"); dbutils.fs.rm("/d")', FsError, "not empty"),
    ('dbutils.fs.mkdirs("/d"); dbutils.fs.cp("/d", "/e")', FsError, "is a directory; use recurse=True"),
    ('dbutils.fs.ls("file:/tmp")', NotEmulated, "driver's local disk"),
    ('dbutils.fs.ls("s3://bucket/key")', NotEmulated, "cloud storage"),
    ('dbutils.fs.put("/databricks/mlflow-tracking/x", "1")', FsError, "PERMISSION_DENIED"),
    ('dbutils.fs.put("/Workspace/Users/x.txt", "1")', FsError, "DIRECTORY_PROTECTED"),
])
def test_refusals(mlemu, write_notebook, cell, error, message):
    with pytest.raises(NotebookFailed, match=message) as info:
        notebooks.run(write_notebook("Fs.py", cell))
    assert isinstance(info.value.error, error)


def test_fs_without_a_workspace(write_notebook):
    with pytest.raises(NotebookFailed, match="No emulated Databricks workspace is active"):
        notebooks.run(write_notebook("Fs.py", 'dbutils.fs.ls("/")'))
