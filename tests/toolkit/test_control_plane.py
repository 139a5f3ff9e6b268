"""The control plane of a served workspace (``/__mlemu__/...``) through ControlClient, with
the real clients on the other side of the socket."""
from __future__ import annotations

import pytest

from mlemu.toolkit.control import ControlClient
from mlemu.server.core.errors import ApiError


@pytest.fixture
def ctl(mlemu_server):
    return ControlClient.from_env()


def test_requires_the_workspace_token(mlemu_server):
    with pytest.raises(ApiError) as info:
        ControlClient(mlemu_server.url, "dapi-wrong").clock()
    assert info.value.status == 403


def test_faults_over_the_socket_are_retried_by_mlflow(ctl, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    fault_id = ctl.add_fault("tracking.runs.log-batch", status=429, retry_after=0, times=2)
    mlflow.set_experiment("/Shared/ctl")
    with mlflow.start_run() as run:
        mlflow.log_metrics({"a": 1.0, "b": 2.0})
    assert mlflow.get_run(run.info.run_id).data.metrics == {"a": 1.0, "b": 2.0}
    [fault] = ctl.faults()
    assert (fault["fault_id"], fault["hits"]) == (fault_id, 2)
    statuses = [c["status"] for c in ctl.calls() if c["operation"] == "tracking.runs.log-batch"]
    assert statuses == [429, 429, 200]
    ctl.remove_fault(fault_id)
    assert ctl.faults() == []


@pytest.mark.mlemu(virtual_time=True)
def test_a_dropped_connection_closes_the_socket_and_the_sdk_retries(ctl):
    from databricks.sdk import WorkspaceClient

    ctl.add_fault("unity_catalog.catalogs.create", drop=True, times=1)
    assert WorkspaceClient().catalogs.create(name="after-reset").name == "after-reset"
    ops = [(c["operation"], c["status"]) for c in ctl.calls()]
    assert ops.count(("unity_catalog.catalogs.create", 0)) == 1
    assert ops.count(("unity_catalog.catalogs.create", 200)) == 1


def test_snapshot_restore_reset_and_journal_paging(ctl):
    import mlflow

    mlflow.set_experiment("/Shared/ctl")
    snap = ctl.snapshot()
    for i in range(5):
        with mlflow.start_run():
            mlflow.log_param("i", i)
    assert len(mlflow.search_runs(output_format="list")) == 5
    calls = ctl.calls(limit=2)  # paged two at a time
    assert len(calls) == len(ctl.calls(limit=1000)) > 10
    ctl.restore(snap)
    assert mlflow.search_runs(output_format="list") == []
    ctl.clear_calls()
    assert ctl.calls() == []
    ctl.reset()
    assert mlflow.search_experiments(filter_string="name = '/Shared/ctl'") == []
    with pytest.raises(ApiError, match="No snapshot"):
        ctl.restore(snap)  # reset forgets snapshots


def test_clock(ctl):
    import mlflow

    ctl.freeze(1_700_000_000_000)
    ctl.advance(60)
    assert ctl.clock() == {"now_ms": 1_700_000_060_000, "frozen": True}
    exp = mlflow.get_experiment(mlflow.create_experiment("/Shared/clocked"))
    assert exp.creation_time == 1_700_000_060_000
    assert ctl.unfreeze()["frozen"] is False


def test_export_on_the_server_side(ctl, mlemu, tmp_path):
    import mlemu as package

    mlemu.export_dir = str(tmp_path)   # mlemu serve --export-dir
    path = ctl.export("ws.zip")
    assert package.Workspace.load(path).workspace_id


def test_unknown_control_path_and_bad_fault(ctl):
    with pytest.raises(ApiError, match="No control-plane API"):
        ctl._call("GET", "nothing")
    with pytest.raises(ApiError, match="did you mean"):
        ctl.add_fault("tracking.run.create", status=500)
