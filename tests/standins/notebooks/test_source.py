"""Notebook source split into cells: headers, COMMAND separators, MAGIC lines, DBTITLE, cell
magics, and Jupyter notebooks turned into source."""
from __future__ import annotations

import json

import pytest

from mlemu.standins.notebooks.errors import NotebookSourceError
from mlemu.standins.notebooks.location import from_jupyter
from mlemu.standins.notebooks.source import parse

from .conftest import notebook_source


def test_cells_kinds_titles_and_lines():
    text = notebook_source(
        "# MAGIC %md\n# MAGIC # Title\n# MAGIC\n# MAGIC text",
        "# DBTITLE 1,Load data\nx = 1\n\ny = 2",
        "# MAGIC %sql\n# MAGIC SELECT 1",
        "# MAGIC %run ./lib/Setup $a=\"1\"",
        "# MAGIC %pip install -r ../requirements.txt",
        "# MAGIC %load_ext autoreload\n# MAGIC %autoreload 2",
        "# MAGIC %sh ls",
        "# MAGIC %python\n# MAGIC z = 3",
    )
    cells = parse(text)
    assert [c.kind for c in cells] == ["md", "python", "sql", "run", "pip", "python", "sh", "python"]
    assert cells[0].body == "# Title\n\ntext"
    assert cells[1].title == "Load data" and cells[1].body == "x = 1\n\ny = 2"
    assert cells[1].line == 10                     # the line of `x = 1` in the file
    assert text.splitlines()[cells[1].line - 1] == "x = 1"
    assert cells[2].body == "SELECT 1"
    assert cells[3].body == '%run ./lib/Setup $a="1"'
    assert cells[5].body == "%load_ext autoreload\n%autoreload 2"   # IPython magics: a Python cell
    assert cells[6].body == "ls"
    assert cells[7].body == "z = 3"


def test_sql_notebook_and_plain_first_line_magic():
    sql = notebook_source("SELECT 1", "-- MAGIC %python\n-- MAGIC x = 1",
                          header="-- Databricks notebook source", separator="-- COMMAND ----------")
    assert [(c.kind, c.body) for c in parse(sql)] == [("sql", "SELECT 1"), ("python", "x = 1")]
    plain = notebook_source("%sql\nSELECT 2", "%run ./Other")
    assert [(c.kind, c.body) for c in parse(plain)] == [("sql", "SELECT 2"), ("run", "%run ./Other")]


def test_blank_cells_are_dropped_and_windows_line_endings_read():
    text = notebook_source("x = 1", "", "y = 2").replace("\n", "\r\n")
    assert [c.body for c in parse(text)] == ["x = 1", "y = 2"]


@pytest.mark.parametrize("text, message", [
    ("print(1)\n", "is not Databricks notebook source"),
    ("// Databricks notebook source\nprintln(1)\n", "Scala notebook"),
])
def test_not_a_notebook(text, message):
    with pytest.raises(NotebookSourceError, match=message):
        parse(text, "x.py")


def test_jupyter_notebook_becomes_source():
    doc = {"cells": [{"cell_type": "markdown", "source": ["# Hi\n", "there"]},
                     {"cell_type": "code", "source": ["x = 1\n", "print(x)"]},
                     {"cell_type": "code", "source": "%sql\nSELECT 1"},
                     {"cell_type": "raw", "source": "ignored"}]}
    cells = parse(from_jupyter(json.dumps(doc), "n.ipynb"))
    assert [(c.kind, c.body) for c in cells] == [("md", "# Hi\nthere"), ("python", "x = 1\nprint(x)"),
                                                 ("sql", "SELECT 1")]
    with pytest.raises(NotebookSourceError):
        from_jupyter("{}", "n.ipynb")
