"""Fixtures of the tracing tests: synchronous trace export (deterministic tests), an active
experiment, and an autouse check that the client never dropped a trace."""
from __future__ import annotations

import logging
import re

import pytest

mlflow = pytest.importorskip("mlflow")


def pytest_configure(config):
    config.addinivalue_line("markers", "drops_traces: the test loses a trace on purpose")
MLFLOW3 = mlflow.__version__.startswith("3.")


@pytest.fixture(autouse=True)
def sync_trace_export(monkeypatch):
    """mlflow 3 exports traces in a background thread by default; tests export synchronously
    so a trace can be read back right after the traced call returns."""
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")


#: What mlflow logs (and nothing more) when a trace, its spans or attachments are lost.
DROPPED = re.compile(r"Failed to (send trace|log trace|log spans|upload trace|export|link prompts)")


def dropped_traces(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.levelno >= logging.WARNING
            and r.name.startswith("mlflow") and DROPPED.search(r.getMessage())]


@pytest.fixture(autouse=True)
def no_trace_dropped(request, caplog):
    """Fail the test when the client logged that a trace (or its spans) could not be sent."""
    caplog.set_level(logging.WARNING)
    yield
    if request.node.get_closest_marker("drops_traces") is None:
        dropped = dropped_traces(caplog.records)
        assert not dropped, dropped


@pytest.fixture
def experiment_id(mlemu) -> str:
    return mlflow.set_experiment(f"{mlemu.user.home}/tracing-tests").experiment_id


@pytest.fixture
def dropped_trace_messages(caplog):
    """A function listing the warnings of traces lost so far in this test."""
    return lambda: dropped_traces(caplog.records)
