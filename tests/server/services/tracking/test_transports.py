"""The same client code over both transports (in-process and the loopback HTTP server)
gets the same answers, errors included."""
from __future__ import annotations

import os

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

import mlemu  # noqa: E402


@pytest.fixture(params=["in-process", "loopback"])
def transport(request, mlemu):
    if request.param == "loopback":
        server = request.getfixturevalue("mlemu_server")
        assert os.environ["DATABRICKS_HOST"] == server.url
    return request.param


class TestTrackingOverBothTransports:
    def test_experiment_and_run(self, mlemu, transport, home):
        exp = mlflow.set_experiment(f"{home}/transports")
        with mlflow.start_run(run_name="r") as run:
            mlflow.log_params({"a": 1, "b": "two"})
            mlflow.log_metric("loss", 0.5, step=1)
            mlflow.log_metric("loss", 0.25, step=2)
            mlflow.set_tag("t", "v")
        got = mlflow.get_run(run.info.run_id)
        assert got.info.experiment_id == exp.experiment_id and got.info.status == "FINISHED"
        assert got.data.params == {"a": "1", "b": "two"} and got.data.metrics == {"loss": 0.25}
        assert [m.value for m in MlflowClient().get_metric_history(run.info.run_id, "loss")] == [0.5, 0.25]
        mlemu.calls.assert_called("tracking.runs.create", times=1)

    def test_errors(self, mlemu, transport, home):
        assert mlflow.get_experiment_by_name(f"{home}/missing") is None
        with pytest.raises(MlflowException) as e:
            mlflow.get_run("deadbeef")
        assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
        exp_id = mlflow.create_experiment(f"{home}/e")
        with pytest.raises(MlflowException) as e:
            mlflow.create_experiment(f"{home}/e")
        assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
        run_id = MlflowClient().create_run(exp_id).info.run_id
        MlflowClient().log_param(run_id, "p", 1)
        with pytest.raises(MlflowException) as e:
            MlflowClient().log_param(run_id, "p", 2)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"

    def test_search_paging(self, mlemu, transport, experiment_id):
        client = MlflowClient()
        for i in range(9):
            run_id = client.create_run(experiment_id, start_time=1_700_000_000_000 + i).info.run_id
            client.log_batch(run_id, metrics=[Metric("i", i, 1, 0)])
        seen, token = [], None
        while True:
            page = client.search_runs([experiment_id], order_by=["metrics.i"], max_results=4, page_token=token)
            seen += [int(r.data.metrics["i"]) for r in page]
            token = page.token
            if not token:
                break
        assert seen == list(range(9))


def _scenario(home: str) -> dict:
    """Client code whose answers depend only on the workspace (ids, names, URIs, values)."""
    client = MlflowClient()
    exp = mlflow.set_experiment(f"{home}/same")
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.5)
        mlflow.log_param("p", "x")
    got = client.get_run(run.info.run_id)
    try:
        client.log_param(run.info.run_id, "p", "y")
        error = None
    except MlflowException as e:
        error = (e.error_code, e.message.split("\n")[0])
    return {"experiment": (exp.experiment_id, exp.name, exp.artifact_location),
            "run": (got.info.run_id, got.info.run_name, got.info.artifact_uri, got.info.user_id),
            "data": (got.data.metrics, got.data.params), "error": error}


def test_in_process_and_loopback_answer_identically():
    a = mlemu.Workspace(seed=21, workspace_id="111")
    with mlemu.emulate(a):
        in_process = _scenario(a.user.home)
    b = mlemu.Workspace(seed=21, workspace_id="111")
    with mlemu.serve(b) as server, mlemu.emulate(b, url=server.url):
        over_http = _scenario(b.user.home)
    assert in_process == over_http
    assert in_process["error"][0] == "INVALID_PARAMETER_VALUE"
    assert a.calls.operations() == b.calls.operations()
