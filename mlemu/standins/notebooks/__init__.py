"""Run Databricks notebook source (``# Databricks notebook source`` files) against an emulated
workspace, with ``dbutils``, ``display``, ``spark`` and the ``%`` magics a notebook uses::

    run = mlemu.notebooks.run("notebooks/Train.py", {"env": "dev"})    # inside the mlemu fixture
    run.exit_value, run.task_values, run.displays, run.cells, run.log

The notebook's mlflow and SDK calls reach the active workspace through the normal in-process
transport. A failing cell raises :class:`NotebookFailed` showing that cell and its traceback.
The Jobs service runs notebook tasks through :func:`run` with a :class:`NotebookContext`.
See docs/notebooks.md.
"""
from __future__ import annotations

from mlemu.standins.notebooks.context import MISSING, NotebookContext, TaskValues, TaskValueStore
from mlemu.standins.notebooks.errors import (FsError, InputWidgetNotDefined, NotebookError, NotebookFailed,
                                             NotebookNotFound, NotebookSourceError, NotebookTimedOut, NotEmulated,
                                             SecretError, WidgetError, WorkflowException)
from mlemu.standins.notebooks.results import Cell, DisplayOutput, NotebookRun
from mlemu.standins.notebooks.runtime import run

__all__ = ["run", "NotebookRun", "Cell", "DisplayOutput", "NotebookContext", "TaskValues", "TaskValueStore",
           "MISSING", "NotebookError", "NotebookFailed", "NotebookTimedOut", "NotebookNotFound",
           "NotebookSourceError", "NotEmulated", "InputWidgetNotDefined", "WidgetError", "FsError", "SecretError",
           "WorkflowException"]
