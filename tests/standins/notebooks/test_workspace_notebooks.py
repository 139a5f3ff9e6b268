"""Notebooks imported into the emulated workspace (w.workspace.import_) run from there:
relative %run and dbutils.notebook.run stay in the workspace tree; Jupyter notebooks too."""
from __future__ import annotations

import base64
import json

import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookFailed, NotebookNotFound

from .conftest import notebook_source

HOME = "/Users/user@company.com"


def upload(w, path: str, text: str, fmt: str = "SOURCE") -> None:
    from databricks.sdk.service.workspace import ImportFormat, Language

    w.workspace.import_(path, content=base64.b64encode(text.encode()).decode(), format=ImportFormat[fmt],
                        language=Language.PYTHON if fmt == "SOURCE" else None, overwrite=True)


def test_run_a_workspace_notebook_with_its_neighbours(mlemu):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.workspace.mkdirs(f"{HOME}/nb/lib")
    upload(w, f"{HOME}/nb/lib/Helper", notebook_source("def double(x):\n    return 2 * x"))
    upload(w, f"{HOME}/nb/Child", notebook_source('dbutils.notebook.exit(dbutils.widgets.get("v") + "!")'))
    upload(w, f"{HOME}/nb/Main", notebook_source(
        "# MAGIC %run ./lib/Helper",
        "import os\n%cd /Workspace" + HOME + "/nb",
        'child = dbutils.notebook.run("Child", 10, {"v": "hi"})',
        'path = dbutils.notebook.entry_point.getDbutils().notebook().getContext().notebookPath().get()',
        'dbutils.notebook.exit(f"{double(21)} {child} {path}")'))
    run = notebooks.run(f"/Workspace{HOME}/nb/Main")
    assert run.exit_value == f"42 hi! {HOME}/nb/Main"
    assert run.path == f"{HOME}/nb/Main"
    assert any("a workspace folder" in line for line in run.log)
    assert notebooks.run(f"{HOME}/nb/Main", source="WORKSPACE").exit_value == run.exit_value


def test_a_failing_workspace_notebook_shows_its_lines(mlemu):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    upload(w, f"{HOME}/Broken", notebook_source("x = 1", "y = x + undefined_name"))
    with pytest.raises(NotebookFailed) as info:
        notebooks.run(f"{HOME}/Broken")
    text = str(info.value)
    assert f'File "<workspace>{HOME}/Broken", line 6, in <module>' in text
    assert "    y = x + undefined_name" in text and "NameError" in text


def test_jupyter_notebook_from_the_workspace(mlemu):
    from databricks.sdk import WorkspaceClient

    doc = {"cells": [{"cell_type": "markdown", "source": "# Title"},
                     {"cell_type": "code", "source": ["v = 6 * 7\n", "dbutils.notebook.exit(str(v))"]}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    upload(WorkspaceClient(), f"{HOME}/Jup", json.dumps(doc), fmt="JUPYTER")
    run = notebooks.run(f"{HOME}/Jup")
    assert run.exit_value == "42" and [c.kind for c in run.cells] == ["md", "python"]


def test_not_found_in_the_workspace(mlemu):
    with pytest.raises(NotebookNotFound, match="neither a local file nor a notebook"):
        notebooks.run(f"{HOME}/Missing")
