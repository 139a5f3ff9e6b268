"""Fixtures of the tracing tests: synchronous trace export (deterministic tests), an active
experiment, and an autouse check that the client never dropped a trace."""
from __future__ import annotations

import logging

import pytest

mlflow = pytest.importorskip("mlflow")
MLFLOW3 = mlflow.__version__.startswith("3.")


@pytest.fixture(autouse=True)
def sync_trace_export(monkeypatch):
    """mlflow 3 exports traces in a background thread by default; tests export synchronously
    so a trace can be read back right after the traced call returns."""
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


@pytest.fixture(autouse=True)
def no_trace_dropped(caplog):
    """Fail the test when the client logged that a trace (or its spans) could not be sent."""
    caplog.set_level(logging.WARNING)
    yield
    dropped = [r.getMessage() for r in caplog.records
               if r.levelno >= logging.WARNING and r.name.startswith("mlflow")
               and ("Failed to send trace" in r.getMessage() or "Failed to log trace" in r.getMessage()
                    or "Failed to upload" in r.getMessage() or "Failed to export" in r.getMessage())]
    assert not dropped, dropped


@pytest.fixture
def experiment_id(mlemu) -> str:
    return mlflow.set_experiment(f"{mlemu.user.home}/tracing-tests").experiment_id
