"""Journal assertions that catch their own typos: unknown operation names fail with the
closest names, prefixes are explicit, and ``assert_called_with`` diffs the closest call."""
from __future__ import annotations

import pytest


def test_a_typo_fails_with_a_suggestion(mlemu):
    with pytest.raises(ValueError, match=r"'tracking\.run\.create'.*did you mean 'tracking\.runs\.create'"):
        mlemu.calls.assert_called("tracking.run.create")
    with pytest.raises(ValueError, match="did you mean"):
        mlemu.calls.assert_not_called("tracking.runs.log_batch")
    with pytest.raises(ValueError, match="did you mean"):
        mlemu.calls.filter(operation="unity_catalog.catalog.create")


def test_prefix_matching_is_explicit(mlemu):
    import mlflow

    mlflow.set_experiment("/Shared/a")
    with mlflow.start_run():
        mlflow.log_param("p", 1)
    runs = mlemu.calls.assert_called("tracking.runs.*")
    assert {c.operation for c in runs} >= {"tracking.runs.create", "tracking.runs.log-parameter"}
    assert all(c.operation.startswith("tracking.runs.") for c in runs)
    # without '*' a name is exact: a prefix alone is not an operation
    with pytest.raises(ValueError, match=r"did you mean .*'tracking\.runs\.\*'|no route has"):
        mlemu.calls.filter(operation="tracking.runs")
    mlemu.calls.assert_not_called("unity_catalog.*")
    with pytest.raises(ValueError):
        mlemu.calls.filter(operation="trackin.*")


def test_assert_called_with_compares_request_fields(mlemu):
    import mlflow

    mlflow.set_experiment("/Shared/a")
    with mlflow.start_run():
        mlflow.log_param("lr", "0.1")
        mlflow.log_param("depth", "3")
    call = mlemu.calls.assert_called_with("tracking.runs.log-parameter", key="lr", value="0.1")
    assert call.request["key"] == "lr"
    with pytest.raises(AssertionError) as info:
        mlemu.calls.assert_called_with("tracking.runs.log-parameter", key="lr", value="0.2")
    message = str(info.value)
    assert "- {'key': 'lr', 'value': '0.2'}" in message and "+ {'key': 'lr', 'value': '0.1'}" in message
    with pytest.raises(AssertionError, match="never called"):
        mlemu.calls.assert_called_with("tracking.runs.delete", run_id="x")


def test_plain_journal_accepts_any_name():
    from mlemu.server.core.journal import Journal

    assert Journal().filter(operation="anything.at.all") == []
