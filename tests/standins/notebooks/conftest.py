"""Helpers of the notebook runtime tests: notebooks written into ``tmp_path`` cell by cell,
and the example project under ``project/`` (notebooks importing ``utils.py`` from its root)."""
from __future__ import annotations

import pathlib
import textwrap

import pytest

PROJECT = pathlib.Path(__file__).resolve().parent / "project"


def notebook_source(*cells: str, header: str = "# Databricks notebook source",
                    separator: str = "# COMMAND ----------") -> str:
    """Notebook source text with ``cells`` (dedented) as Databricks exports it."""
    bodies = [textwrap.dedent(c).strip("\n") for c in cells]
    return header + "\n" + f"\n\n{separator}\n\n".join(bodies) + "\n"


@pytest.fixture
def write_notebook(tmp_path):
    """``write_notebook("Name.py", cell, cell, ...)`` -> the path of the new notebook file."""
    def write(name: str, *cells: str, **options: str) -> pathlib.Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(notebook_source(*cells, **options), encoding="utf-8")
        return path
    return write
