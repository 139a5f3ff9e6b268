"""Logged models (mlflow 3 only): create, get, finalize, tags, params, search, delete."""
from __future__ import annotations

import pytest

mlflow = pytest.importorskip("mlflow")
if not mlflow.__version__.startswith("3."):
    pytest.skip("logged models exist from mlflow 3 on", allow_module_level=True)

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import LoggedModelStatus  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


def test_initialize_logged_model(mlemu, experiment_id):
    with mlflow.start_run() as run:
        model = mlflow.initialize_logged_model(name="my_model", tags={"team": "fraud"},
                                               params={"alpha": "0.1"}, model_type="classifier")
    assert model.model_id.startswith("m-") and len(model.model_id) == 34
    assert model.status == LoggedModelStatus.PENDING
    assert model.experiment_id == experiment_id
    assert model.source_run_id == run.info.run_id
    assert model.model_type == "classifier"
    assert model.artifact_location == (
        f"dbfs:/databricks/mlflow-tracking/{experiment_id}/logged_models/{model.model_id}/artifacts")
    assert model.tags["team"] == "fraud" and model.params == {"alpha": "0.1"}
    assert mlflow.last_logged_model().model_id == model.model_id
    call = mlemu.calls.assert_called("tracking.logged-models.create", times=1)[0]
    assert call.request["source_run_id"] == run.info.run_id


def test_custom_location_models_live_under_models(mlemu, home):
    exp_id = mlflow.create_experiment(f"{home}/custom", artifact_location="dbfs:/mlflow/artifacts")
    model = MlflowClient().create_logged_model(exp_id, name="m")
    assert model.artifact_location == f"dbfs:/mlflow/artifacts/models/{model.model_id}/artifacts"


def test_get_finalize_tags_params_delete(mlemu, experiment_id):
    from databricks.sdk import WorkspaceClient

    client = MlflowClient()
    model = client.create_logged_model(experiment_id, name="lifecycle")
    mid = model.model_id

    # GET by path, and the fallback repo's ?model_id= form
    assert client.get_logged_model(mid).name == "lifecycle"
    raw = WorkspaceClient().api_client.do("GET", f"/api/2.0/mlflow/logged-models/{mid}", query={"model_id": mid})
    assert raw["model"]["info"]["status"] == "LOGGED_MODEL_PENDING"

    finalized = client.finalize_logged_model(mid, LoggedModelStatus.READY)
    assert finalized.status == LoggedModelStatus.READY
    assert finalized.last_updated_timestamp >= finalized.creation_timestamp

    client.set_logged_model_tags(mid, {"mlflow.modelVersions": '[{"name": "c.s.m", "version": "1"}]', "k": "v"})
    client.delete_logged_model_tag(mid, "k")
    tags = client.get_logged_model(mid).tags
    assert "k" not in tags and "mlflow.modelVersions" in tags
    with pytest.raises(MlflowException) as e:
        client.delete_logged_model_tag(mid, "k")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    client.log_model_params(mid, {"lr": "0.01", "depth": "3"})
    client.log_model_params(mid, {"lr": "0.01"})  # same value again is fine
    assert client.get_logged_model(mid).params == {"lr": "0.01", "depth": "3"}
    with pytest.raises(MlflowException) as e:
        client.log_model_params(mid, {"lr": "0.02"})
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"

    client.delete_logged_model(mid)
    with pytest.raises(MlflowException) as e:
        client.get_logged_model(mid)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert client.search_logged_models([experiment_id]) == []


def test_errors(mlemu, experiment_id, home):
    client = MlflowClient()
    with pytest.raises(MlflowException) as e:
        client.get_logged_model("m-00000000000000000000000000000000")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.create_logged_model("424242", name="x")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    gone = client.create_experiment(f"{home}/gone")
    client.delete_experiment(gone)
    with pytest.raises(MlflowException) as e:
        client.create_logged_model(gone, name="x")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        mlflow.tracking._get_store().create_logged_model(experiment_id, name="bad/name")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_logged_models(mlemu, experiment_id):
    client = MlflowClient()
    ids = {}
    with mlflow.start_run() as run:
        for i, name in enumerate(["model", "model", "other", "third"]):
            mlemu.clock.freeze(1_700_000_000_000 + i * 1000)
            m = mlflow.initialize_logged_model(name=name, params={"depth": str(i)}, tags={"i": str(i)})
            mlflow.log_metric("acc", 0.5 + i / 10, model_id=m.model_id, step=0)
            ids[i] = m.model_id
    client.finalize_logged_model(ids[2], LoggedModelStatus.READY)

    def found(**kw):
        return [m.model_id for m in client.search_logged_models([experiment_id], **kw)]

    # newest first by default (creation time DESC, then model_id)
    assert found() == [ids[3], ids[2], ids[1], ids[0]]
    # the name filter mlflow relies on to resolve runs:/<run>/<name>
    assert found(filter_string="name = 'model'") == [ids[1], ids[0]]
    assert found(filter_string="name LIKE 'th%'") == [ids[3]]
    assert found(filter_string="metrics.acc > 0.65") == [ids[3], ids[2]]
    assert found(filter_string="params.depth = '1' AND tags.i != '0'") == [ids[1]]
    assert found(filter_string="status = 'LOGGED_MODEL_READY'") == [ids[2]]
    assert found(filter_string="status = 'READY'") == [ids[2]]
    assert found(filter_string=f"source_run_id = '{run.info.run_id}' AND creation_time > 1700000001500") == [
        ids[3], ids[2]]
    assert found(filter_string="tags.i IN ('0', '3')") == [ids[3], ids[0]]
    assert found(order_by=[{"field_name": "metrics.acc", "ascending": True}]) == [ids[0], ids[1], ids[2], ids[3]]
    assert found(order_by=[{"field_name": "name"}, {"field_name": "creation_timestamp", "ascending": True}]) == [
        ids[0], ids[1], ids[2], ids[3]]
    # paging
    page = client.search_logged_models([experiment_id], max_results=3)
    assert len(page) == 3 and page.token
    rest = client.search_logged_models([experiment_id], max_results=3, page_token=page.token)
    assert [m.model_id for m in page] + [m.model_id for m in rest] == [ids[3], ids[2], ids[1], ids[0]]
    assert rest.token is None
    # fluent API pages by itself
    assert len(mlflow.search_logged_models(experiment_ids=[experiment_id], output_format="list")) == 4

    for bad in ("metrics.acc > 'x'", "foo.bar = 'x'", "colour = 'red'"):
        with pytest.raises(MlflowException) as e:
            client.search_logged_models([experiment_id], filter_string=bad)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        client.search_logged_models([experiment_id], order_by=[{"field_name": "params.depth"}])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_set_active_model_finds_or_creates_by_name(mlemu, experiment_id):
    active = mlflow.set_active_model(name="agent")
    again = mlflow.set_active_model(name="agent")
    assert active.model_id == again.model_id
    models = MlflowClient().search_logged_models([experiment_id], filter_string="name = 'agent'")
    assert [m.model_id for m in models] == [active.model_id]
