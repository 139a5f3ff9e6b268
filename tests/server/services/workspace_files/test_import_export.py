"""Notebooks and files through ``workspace/import`` and ``export`` with the real SDK: ``upload``
(multipart) and ``import_`` (base64 JSON), ``download`` and ``export``, the AUTO detection,
overwrite and the refusals."""
from __future__ import annotations

import base64
import json

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound, PermissionDenied, ResourceAlreadyExists
from databricks.sdk.service.workspace import ExportFormat, ImportFormat, Language, ObjectType

SOURCE = b"# Databricks notebook source\nprint('train')\n"


@pytest.fixture
def w(mlemu) -> WorkspaceClient:
    return WorkspaceClient()


def test_upload_a_python_notebook_and_download_it(w):
    w.workspace.upload("/Shared/train", b"print('train')\n", format=ImportFormat.SOURCE,
                       language=Language.PYTHON)
    info = w.workspace.get_status("/Shared/train")
    assert (info.object_type, info.language) == (ObjectType.NOTEBOOK, Language.PYTHON)
    # The source export starts with the notebook header, as Databricks writes it.
    assert w.workspace.download("/Shared/train").read() == SOURCE


def test_auto_tells_notebooks_from_files_and_drops_the_notebook_extension(w):
    w.workspace.upload("/Shared/job.py", SOURCE, format=ImportFormat.AUTO)
    w.workspace.upload("/Shared/util.py", b"def f():\n    return 1\n", format=ImportFormat.AUTO)
    w.workspace.upload("/Shared/config.yaml", b"a: 1\n", format=ImportFormat.AUTO)
    kinds = {o.path: o.object_type for o in w.workspace.list("/Shared")}
    assert kinds == {"/Shared/job": ObjectType.NOTEBOOK, "/Shared/util.py": ObjectType.FILE,
                     "/Shared/config.yaml": ObjectType.FILE}
    assert w.workspace.get_status("/Shared/config.yaml").size == 5
    assert w.workspace.download("/Shared/config.yaml").read() == b"a: 1\n"


def test_import_with_base64_json_and_export(w):
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    w.workspace.import_("/Shared/explore", content=base64.b64encode(json.dumps(nb).encode()).decode(),
                        format=ImportFormat.JUPYTER)
    exported = w.workspace.export("/Shared/explore", format=ExportFormat.JUPYTER)
    assert exported.file_type == "ipynb"
    assert json.loads(base64.b64decode(exported.content)) == nb


def test_existing_path_needs_overwrite(w, mlemu):
    w.workspace.upload("/Shared/a.txt", b"1", format=ImportFormat.AUTO)
    with pytest.raises(ResourceAlreadyExists):
        w.workspace.upload("/Shared/a.txt", b"2", format=ImportFormat.AUTO)
    first = w.workspace.get_status("/Shared/a.txt").object_id
    w.workspace.upload("/Shared/a.txt", b"22", format=ImportFormat.AUTO, overwrite=True)
    assert w.workspace.download("/Shared/a.txt").read() == b"22"
    assert w.workspace.get_status("/Shared/a.txt").object_id == first  # same object, new content


def test_refusals(w):
    with pytest.raises(NotFound):
        w.workspace.upload("/Shared/missing/dir/nb.py", SOURCE, format=ImportFormat.AUTO)
    with pytest.raises(PermissionDenied):
        w.workspace.upload("/Users/nb.py", SOURCE, format=ImportFormat.AUTO)
    with pytest.raises(Exception, match="language"):
        w.workspace.import_("/Shared/x", content=base64.b64encode(b"x").decode(), format=ImportFormat.SOURCE)
    with pytest.raises(InvalidParameterValue, match="not emulated"):
        w.workspace.import_("/Shared/x", content="", format=ImportFormat.DBC)
    with pytest.raises(InvalidParameterValue, match="base64"):
        w.api_client.do("POST", "/api/2.0/workspace/import",
                        body={"path": "/Shared/y", "format": "RAW", "content": "%%%"})
    with pytest.raises(NotFound):
        w.workspace.download("/Shared/nothing")
    with pytest.raises(InvalidParameterValue, match="folder"):
        w.workspace.export("/Shared")


def test_delete_removes_the_content(w):
    w.workspace.upload("/Shared/tmp.txt", b"x", format=ImportFormat.RAW)
    w.workspace.delete("/Shared/tmp.txt")
    with pytest.raises(NotFound):
        w.workspace.download("/Shared/tmp.txt")
