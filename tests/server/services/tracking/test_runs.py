"""Runs through the real mlflow client: creation, params, metrics (latest-metric rule, history
paging), tags, log_batch limits and atomicity, deletion, inputs/outputs, 2.x log-model."""
from __future__ import annotations

import json
import time

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

MLFLOW3 = mlflow.__version__.startswith("3.")


def test_run_lifecycle_matches_the_wire_flow(mlemu, experiment_id):
    with mlflow.start_run(run_name="my-run") as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"beta": 1, "gamma": "x"})
        mlflow.log_metric("loss", 0.3, step=1)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=2)
    info = run.info
    assert info.run_name == "my-run"
    assert info.experiment_id == experiment_id
    assert info.status == "RUNNING" and info.lifecycle_stage == "active"
    assert info.artifact_uri == f"dbfs:/databricks/mlflow-tracking/{experiment_id}/{info.run_id}/artifacts"
    assert len(info.run_id) == 32

    got = mlflow.get_run(info.run_id)
    assert got.info.status == "FINISHED" and got.info.end_time >= got.info.start_time
    assert got.data.params == {"alpha": "0.5", "beta": "1", "gamma": "x"}
    assert got.data.metrics == {"loss": 0.3, "acc": 0.9, "f1": 0.8}
    assert got.data.tags["mlflow.runName"] == "my-run"
    ops = [op for op in mlemu.calls.operations() if op.startswith("tracking.runs.") and op != "tracking.runs.get"]
    assert ops == ["tracking.runs.create", "tracking.runs.log-parameter", "tracking.runs.log-batch",
                   "tracking.runs.log-metric", "tracking.runs.log-batch", "tracking.runs.update"]


def test_user_id_is_the_workspace_user(mlemu, experiment_id):
    # mlflow sends the OS user ("root" in CI); Databricks records the authenticated user.
    run = MlflowClient().create_run(experiment_id)
    assert run.info.user_id == mlemu.user.user_name
    assert mlemu.calls.assert_called("tracking.runs.create")[0].request["user_id"] != mlemu.user.user_name


def test_generated_run_names_are_deterministic(experiment_id):
    import mlemu

    def names(seed):
        ws = mlemu.Workspace(seed=seed)
        exp = ws.tracking.create_experiment(f"{ws.user.home}/e")
        return [ws.tracking.create_run(exp.experiment_id).info.run_name for _ in range(3)]

    first = names(5)
    assert first == names(5)
    assert all(len(n.split("-")) == 3 and n.split("-")[2].isdigit() for n in first)


def test_run_name_from_tag_and_conflict(mlemu, experiment_id):
    client = MlflowClient()
    run = client.create_run(experiment_id, tags={"mlflow.runName": "from-tag"})
    assert run.info.run_name == "from-tag"
    no_name = client.create_run(experiment_id)
    assert no_name.info.run_name and no_name.data.tags["mlflow.runName"] == no_name.info.run_name
    with pytest.raises(MlflowException) as e:
        mlflow.tracking._get_store().create_run(experiment_id, "u", 0, [RunTag("mlflow.runName", "a")], "b")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_rename_run_updates_name_and_tag(mlemu, experiment_id):
    client = MlflowClient()
    run = client.create_run(experiment_id, run_name="old")
    client.update_run(run.info.run_id, name="new")
    got = client.get_run(run.info.run_id)
    assert got.info.run_name == "new" and got.data.tags["mlflow.runName"] == "new"
    client.set_tag(run.info.run_id, "mlflow.runName", "newer")
    assert client.get_run(run.info.run_id).info.run_name == "newer"


def test_nested_runs_carry_the_parent_tag(mlemu, experiment_id):
    with mlflow.start_run(run_name="parent") as parent:
        with mlflow.start_run(run_name="child", nested=True) as child:
            mlflow.log_param("depth", 3)
        with mlflow.start_run(run_name="child2", nested=True):
            mlflow.log_param("depth", 5)
    got = mlflow.get_run(child.info.run_id)
    assert got.data.tags["mlflow.parentRunId"] == parent.info.run_id
    kids = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
                              output_format="list", order_by=["run_name"])
    assert [r.info.run_name for r in kids] == ["child", "child2"]
    assert [r.data.params["depth"] for r in kids] == ["3", "5"]


def test_param_is_immutable(mlemu, experiment_id):
    with mlflow.start_run() as run:
        mlflow.log_param("depth", 3)
        mlflow.log_param("depth", 3)  # same value: fine
        with pytest.raises(MlflowException) as e:
            mlflow.log_param("depth", 5)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "Changing param values is not allowed" in e.value.message
        with pytest.raises(MlflowException) as e:
            mlflow.log_params({"depth": 6, "other": 1})
        assert "Changing param values is not allowed" in e.value.message
    params = mlflow.get_run(run.info.run_id).data.params
    assert params == {"depth": "3"}  # the failed batch wrote nothing


def test_key_and_value_limits(mlemu, experiment_id):
    client = MlflowClient()
    run_id = client.create_run(experiment_id).info.run_id
    client.log_param(run_id, "long", "x" * 6000)
    for call in (lambda: client.log_param(run_id, "too_long", "x" * 6001),
                 lambda: client.log_param(run_id, "k" * 251, "v"),
                 lambda: client.log_metric(run_id, "bad/../key", 1.0),
                 lambda: client.set_tag(run_id, "t", "x" * (64 * 1024 + 1))):
        with pytest.raises(MlflowException) as e:
            call()
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    client.set_tag(run_id, "big", "x" * 8001)  # Databricks takes tag values up to 64 KB
    assert len(client.get_run(run_id).data.tags["big"]) == 8001


def test_latest_metric_rule(mlemu, experiment_id):
    client = MlflowClient()
    run_id = client.create_run(experiment_id).info.run_id
    # highest step wins, whatever the timestamps
    client.log_metric(run_id, "m", 1.0, timestamp=3000, step=5)
    client.log_metric(run_id, "m", 2.0, timestamp=9000, step=4)
    assert client.get_run(run_id).data.metrics["m"] == 1.0
    # same step: latest timestamp wins
    client.log_metric(run_id, "m", 3.0, timestamp=4000, step=5)
    assert client.get_run(run_id).data.metrics["m"] == 3.0
    # same step and timestamp: the larger value wins
    client.log_metric(run_id, "m", 2.5, timestamp=4000, step=5)
    client.log_metric(run_id, "m", 7.0, timestamp=4000, step=5)
    assert client.get_run(run_id).data.metrics["m"] == 7.0
    history = client.get_metric_history(run_id, "m")
    assert [(h.step, h.timestamp, h.value) for h in history] == [
        (5, 3000, 1.0), (5, 4000, 2.5), (5, 4000, 3.0), (5, 4000, 7.0), (4, 9000, 2.0)]
    # an exact duplicate is not stored twice
    client.log_metric(run_id, "m", 7.0, timestamp=4000, step=5)
    assert len(client.get_metric_history(run_id, "m")) == 5


def test_nan_and_infinite_metrics_round_trip(mlemu, experiment_id):
    import math

    client = MlflowClient()
    run_id = client.create_run(experiment_id).info.run_id
    client.log_metric(run_id, "nan", float("nan"))
    client.log_metric(run_id, "inf", float("inf"))
    metrics = client.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"]) and metrics["inf"] == math.inf


def test_metric_history_paging(mlemu, experiment_id, store):
    from databricks.sdk import WorkspaceClient

    client = MlflowClient()
    run_id = client.create_run(experiment_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("loss", 1.0 / (i + 1), 1000 + i, i) for i in range(10)])

    pages, token = [], None
    while True:
        page = store.get_metric_history(run_id, "loss", max_results=3, page_token=token)
        pages.append([m.step for m in page])
        token = page.token
        if token is None:
            break
    assert pages == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    # the SDK pages through the same endpoint
    steps = [m.step for m in WorkspaceClient().experiments.get_history("loss", run_id=run_id, max_results=4)]
    assert steps == list(range(10))
    assert [m.step for m in client.get_metric_history(run_id, "loss")] == list(range(10))
    assert client.get_metric_history(run_id, "never-logged") == []

    with pytest.raises(MlflowException) as e:
        store.get_metric_history(run_id, "loss", max_results=25001)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        store.get_metric_history(run_id, "loss", max_results=3, page_token="not-a-token")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_log_batch_limits_and_atomicity(mlemu, experiment_id, store):
    client = MlflowClient()
    run_id = client.create_run(experiment_id).info.run_id
    now = int(time.time() * 1000)

    with pytest.raises(MlflowException) as e:  # mlflow's store sends the batch as given
        store.log_batch(run_id, metrics=[Metric(f"m{i}", i, now, 0) for i in range(1001)], params=[], tags=[])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "at most 1000 metrics" in e.value.message
    for params, tags, words in (([Param(f"p{i}", "v") for i in range(101)], [], "at most 100 params"),
                                ([], [RunTag(f"t{i}", "v") for i in range(101)], "at most 100 tags")):
        with pytest.raises(MlflowException) as e:
            store.log_batch(run_id, metrics=[], params=params, tags=tags)
        assert words in e.value.message
    with pytest.raises(MlflowException) as e:
        store.log_batch(run_id, metrics=[Metric(f"m{i}", i, now, 0) for i in range(901)],
                        params=[Param(f"p{i}", "v") for i in range(50)], tags=[RunTag(f"t{i}", "v") for i in range(50)])
    assert "at most 1000 metrics, params, and tags" in e.value.message
    # one bad item anywhere: nothing of the batch is written
    with pytest.raises(MlflowException) as e:
        client.log_batch(run_id, metrics=[Metric("good", 1.0, now, 0)], params=[Param("ok", "1")],
                         tags=[RunTag("fine", "x"), RunTag("bad/../tag", "y")])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        client.log_batch(run_id, params=[Param("dup", "1"), Param("dup", "2")])
    assert "Duplicate parameter keys" in e.value.message
    data = client.get_run(run_id).data
    assert data.metrics == {} and data.params == {}
    assert "fine" not in data.tags
    assert mlemu.calls.filter(operation="tracking.runs.log-batch", status=400)

    # exactly at the limits is fine, and the client splits larger batches itself
    store.log_batch(run_id, metrics=[Metric(f"m{i}", i, now, 0) for i in range(900)],
                    params=[Param(f"p{i}", "v") for i in range(50)], tags=[RunTag(f"t{i}", "v") for i in range(50)])
    client.log_batch(run_id, metrics=[Metric("series", i, now, i) for i in range(2500)])
    data = client.get_run(run_id).data
    assert len(data.params) == 50 and data.metrics["m899"] == 899 and data.metrics["series"] == 2499
    assert len(client.get_metric_history(run_id, "series")) == 2500


def test_log_batch_over_one_megabyte_is_refused(mlemu, experiment_id):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import DatabricksError
    from databricks.sdk.service.ml import RunTag as SdkTag

    run_id = MlflowClient().create_run(experiment_id).info.run_id
    tags = [SdkTag(key=f"t{i}", value="x" * 60_000) for i in range(20)]
    with pytest.raises(DatabricksError) as e:
        WorkspaceClient().experiments.log_batch(run_id=run_id, tags=tags)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "1000000 bytes" in str(e.value)


def test_tags_set_and_delete(mlemu, experiment_id):
    client = MlflowClient()
    with mlflow.start_run() as run:
        mlflow.set_tag("k", "v1")
        mlflow.set_tags({"k": "v2", "other": 1})
    assert client.get_run(run.info.run_id).data.tags["k"] == "v2"
    client.delete_tag(run.info.run_id, "k")
    tags = client.get_run(run.info.run_id).data.tags
    assert "k" not in tags and tags["other"] == "1"
    with pytest.raises(MlflowException) as e:
        client.delete_tag(run.info.run_id, "k")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_deleted_runs_refuse_writes_and_can_be_restored(mlemu, experiment_id):
    client = MlflowClient()
    run_id = client.create_run(experiment_id).info.run_id
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    for call in (lambda: client.log_metric(run_id, "m", 1.0), lambda: client.log_param(run_id, "p", 1),
                 lambda: client.set_tag(run_id, "t", "v"), lambda: client.set_terminated(run_id),
                 lambda: client.log_batch(run_id, metrics=[Metric("m", 1, 1, 0)])):
        with pytest.raises(MlflowException) as e:
            call()
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
        assert f"The run {run_id} must be in the 'active' state. Current state is deleted." in e.value.message
    client.restore_run(run_id)
    client.log_metric(run_id, "m", 1.0)
    assert client.get_run(run_id).data.metrics == {"m": 1.0}


def test_unknown_run(mlemu, experiment_id):
    with pytest.raises(MlflowException) as e:
        mlflow.get_run("deadbeef")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    call = mlemu.calls.assert_called("tracking.runs.get")[0]
    assert call.request == {"run_uuid": "deadbeef", "run_id": "deadbeef"}
    assert call.status == 404


def test_log_inputs_datasets(mlemu, experiment_id, iris_data):
    X, y = iris_data
    dataset = mlflow.data.from_pandas(X.assign(label=y.astype(float)), name="iris", targets="label")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training")
        mlflow.log_input(dataset, context="training")  # same dataset once
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "iris" and inputs[0].dataset.digest == dataset.digest
    assert {t.key: t.value for t in inputs[0].tags}["mlflow.data.context"] == "training"
    found = mlflow.search_runs(filter_string="dataset.context = 'training'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]
    assert mlflow.search_runs(filter_string="dataset.name = 'other'", output_format="list") == []


def test_log_model_history_tag(mlemu, experiment_id):
    """mlflow 2.x log_model: POST runs/log-model appends to the ``mlflow.log-model.history`` tag."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import DatabricksError

    run_id = MlflowClient().create_run(experiment_id).info.run_id
    w = WorkspaceClient()
    for path in ("model", "model2"):
        w.experiments.log_model(run_id=run_id, model_json=json.dumps({
            "artifact_path": path, "flavors": {"python_function": {}}, "run_id": run_id,
            "utc_time_created": "2026-01-01 00:00:00.000000"}))
    history = json.loads(mlflow.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert [m["artifact_path"] for m in history] == ["model", "model2"]
    with pytest.raises(DatabricksError) as e:
        w.experiments.log_model(run_id=run_id, model_json=json.dumps({"artifact_path": "x"}))
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.skipif(not MLFLOW3, reason="run outputs (logged models) are mlflow 3")
def test_run_outputs_list_logged_models(mlemu, experiment_id):
    client = MlflowClient()
    with mlflow.start_run() as run:
        model = mlflow.initialize_logged_model(name="m")
        client.log_outputs(run.info.run_id, [mlflow.entities.LoggedModelOutput(model.model_id, step=3)])
    outputs = mlflow.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(model.model_id, 3)]


@pytest.mark.skipif(not MLFLOW3, reason="metrics linked to logged models are mlflow 3")
def test_metrics_logged_with_a_model_id_reach_the_model(mlemu, experiment_id):
    with mlflow.start_run():
        model = mlflow.initialize_logged_model(name="scored")
        mlflow.log_metric("accuracy", 0.91, model_id=model.model_id)
    got = mlflow.get_logged_model(model.model_id)
    assert [(m.key, m.value) for m in got.metrics] == [("accuracy", 0.91)]


def test_get_metric_history_bulk_interval(mlemu, experiment_id):
    from databricks.sdk import WorkspaceClient

    client = MlflowClient()
    a = client.create_run(experiment_id).info.run_id
    client.log_batch(a, metrics=[Metric("loss", float(i), 1000 + i, i) for i in range(100)])
    got = WorkspaceClient().api_client.do(
        "GET", "/api/2.0/mlflow/metrics/get-history-bulk-interval",
        query={"run_ids": [a], "metric_key": "loss", "max_results": 10})["metrics"]
    steps = [m["step"] for m in got]
    assert 10 <= len(steps) <= 11 and steps[0] == 0 and steps[-1] == 99
    assert all(m["run_id"] == a for m in got)


def test_exact_duplicate_metric_points_are_stored_once(mlemu):
    mlemu.workspace_files.mkdirs("/Shared/dups")
    exp = mlemu.tracking.create_experiment("/Shared/dups/e")
    run = mlemu.tracking.create_run(exp.experiment_id)
    rid = run.info.run_id
    mlemu.tracking.log_batch(rid, [("m", 1.0, 10, 0), ("m", 1.0, 10, 0), ("m", 2.0, 10, 0)])
    mlemu.tracking.log_metric(rid, "m", 1.0, timestamp=10, step=0)
    assert [(p.value, p.timestamp, p.step) for p in mlemu.tracking.get_metric_history(rid, "m")[0]] == [
        (1.0, 10, 0), (2.0, 10, 0)]
