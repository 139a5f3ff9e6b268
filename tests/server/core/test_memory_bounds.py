"""Bounded memory (issue 8, defect 7): the journal's size is configurable (all, last N, off)
and the key-validation cache never holds refused oversized keys."""
from __future__ import annotations

import pytest

from mlemu import Workspace
from mlemu.server.core.journal import Journal, parse_size
from mlemu.server.services.tracking import validation


def _mkdirs(ws, n):
    for i in range(n):
        status, _, _ = ws.handle("POST", "/api/2.0/workspace/mkdirs", "",
                                 {"authorization": f"Bearer {ws.token}"}, b'{"path": "/Shared/d%d"}' % i)
        assert status == 200


def test_journal_keeps_everything_by_default():
    ws = Workspace()
    _mkdirs(ws, 50)
    assert len(ws.calls) == 50 and ws.calls.size is None


def test_journal_keeps_the_last_n():
    ws = Workspace(journal_size=10)
    _mkdirs(ws, 50)
    assert len(ws.calls) == 10
    assert [c.request["path"] for c in ws.calls] == [f"/Shared/d{i}" for i in range(40, 50)]
    assert ws.calls[-1].request == {"path": "/Shared/d49"}
    assert [c.request["path"] for c in ws.calls[-2:]] == ["/Shared/d48", "/Shared/d49"]
    ws.calls.assert_called("workspace.mkdirs", times=10)


def test_journal_off_keeps_nothing_but_state_is_kept():
    ws = Workspace(journal_size="off")
    _mkdirs(ws, 5)
    assert len(ws.calls) == 0
    assert ws.workspace_files.exists("/Shared/d4")


@pytest.mark.mlemu(journal_size=2)
def test_marker_sets_the_journal_size(mlemu):
    import mlflow

    mlflow.set_experiment("/Shared/j")
    with mlflow.start_run():
        mlflow.log_metric("m", 1.0)
    assert len(mlemu.calls) == 2


def test_parse_size():
    assert parse_size(None) is None and parse_size("all") is None
    assert parse_size("off") == 0 and parse_size("25") == 25 and parse_size(3) == 3
    with pytest.raises(ValueError):
        parse_size("-1")
    with pytest.raises(ValueError):
        Journal("lots")


def test_refused_huge_keys_are_not_cached(mlemu):
    import mlflow
    from mlflow.exceptions import MlflowException

    validation._short_key_problem.cache_clear()  # a full cache would hide a new entry
    mlflow.set_experiment("/Shared/keys")
    with mlflow.start_run():
        mlflow.log_metric("ok", 1.0)  # the run's own keys (tags) are cached by now, whatever ran before
        before = validation._short_key_problem.cache_info().currsize
        for i in range(5):
            with pytest.raises(MlflowException, match="exceeds the maximum length"):
                mlflow.log_metric(f"{i}" + "k" * 1_000_000, 1.0)
        mlflow.log_metric("ok", 2.0)
        cache = validation._short_key_problem.cache_info()
    assert cache.currsize == before and cache.maxsize == 4096
    # The error does not echo a megabyte back.
    assert all(len(c.response["message"]) < 2000 for c in mlemu.calls if c.status == 400)


def test_server_refuses_huge_keys_without_caching_them(mlemu):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import InvalidParameterValue

    api = WorkspaceClient().api_client
    exp = api.do("POST", "/api/2.0/mlflow/experiments/create", body={"name": "/Shared/keys2"})
    run = api.do("POST", "/api/2.0/mlflow/runs/create", body={"experiment_id": exp["experiment_id"]})
    run_id = run["run"]["info"]["run_id"]
    validation._short_key_problem.cache_clear()
    for i in range(5):
        with pytest.raises(InvalidParameterValue, match="exceeds the maximum length"):
            api.do("POST", "/api/2.0/mlflow/runs/log-metric",
                   body={"run_id": run_id, "key": f"{i}" + "k" * 300_000, "value": 1.0, "timestamp": 1})
    assert validation._short_key_problem.cache_info().currsize == 0


def test_journal_can_drop_large_bodies_but_keeps_the_call():
    ws = Workspace(journal_size=5)
    ws.calls.max_body_bytes = 100
    big = b'{"path": "/Shared/big", "ignored": "' + b"x" * 10_000 + b'"}'
    status, _, _ = ws.handle("POST", "/api/2.0/workspace/mkdirs", "", {"authorization": f"Bearer {ws.token}"}, big)
    assert status == 200
    _mkdirs(ws, 1)
    big_call, small_call = ws.calls[-2], ws.calls[-1]
    assert big_call.operation == "workspace.mkdirs" and big_call.status == 200
    assert big_call.request == {"mlemu_journal": f"a body of {len(big)} bytes, not kept (max_body_bytes)"}
    assert small_call.request == {"path": "/Shared/d0"}
