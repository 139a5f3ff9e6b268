"""Helpers shared by the MLflow artifact tests (both mlflow 3.x and 2.22)."""
from __future__ import annotations

import pathlib

import pytest


@pytest.fixture
def local_tree(tmp_path: pathlib.Path) -> pathlib.Path:
    """notes.txt plus dir/{a.txt, nested/b.txt}: the wire-log fixture files."""
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "dir" / "nested").mkdir(parents=True)
    (tmp_path / "dir" / "a.txt").write_text("A")
    (tmp_path / "dir" / "nested" / "b.txt").write_text("BB")
    return tmp_path


@pytest.fixture
def run_root():  # type: ignore[no-untyped-def]
    """run -> the Files-namespace folder of a default-location run's artifacts."""
    def root(run) -> str:  # type: ignore[no-untyped-def]
        return f"/WorkspaceInternal/Mlflow/Artifacts/{run.info.experiment_id}/Runs/{run.info.run_id}/artifacts"
    return root
