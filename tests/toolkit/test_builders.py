"""The builder fixtures and declarative seeding: each returns the real client's entity, and
what it made is what the real clients then see."""
from __future__ import annotations

import json

import pytest


def test_make_experiment_and_run(make_experiment, make_run):
    import mlflow

    exp = make_experiment(tags={"team": "ml"})
    assert exp.name.startswith("/Shared/mlemu-experiment-") and exp.tags["team"] == "ml"
    run = make_run(exp, name="r", params={"lr": 0.1}, metrics={"loss": [0.9, 0.5], "acc": 0.8},
                   artifacts={"notes/a.txt": "hello", "blob.bin": b"\x00\x01"})
    assert (run.info.run_name, run.info.status) == ("r", "FINISHED")
    assert run.data.params == {"lr": "0.1"} and run.data.metrics == {"loss": 0.5, "acc": 0.8}
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 0.9), (1, 0.5)]
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/notes/a.txt") == "hello"
    assert make_run().info.experiment_id != exp.experiment_id  # a new experiment by default


def test_unity_catalog_builders(make_catalog, make_schema, make_table):
    from databricks.sdk import WorkspaceClient

    cat = make_catalog()
    schema = make_schema(cat)
    assert schema.full_name == f"{cat.name}.{schema.name}"
    table = make_table(f"{schema.full_name}.t", [{"id": 1, "x": 2.0}], primary_keys=["id"])
    assert [c.name for c in table.columns] == ["id", "x"]
    assert WorkspaceClient().tables.get(table.full_name).full_name == table.full_name
    assert make_table().full_name.count(".") == 2


def test_registered_model_with_the_tiny_model_is_servable(make_registered_model, make_serving_endpoint):
    from databricks.sdk import WorkspaceClient

    model = make_registered_model(versions=2, aliases={"champion": 1}, tags={"owner": "me"})
    assert model.aliases == {"champion": "1"} and model.tags == {"owner": "me"}
    endpoint = make_serving_endpoint(model=model)
    assert endpoint.state.ready.value == "READY"
    assert endpoint.config.served_entities[0].entity_version == "2"
    answer = WorkspaceClient().serving_endpoints.query(endpoint.name, dataframe_records=[{"x": 1.0, "y": 2.0}])
    assert answer.predictions == [3.0]


def test_registered_model_from_a_given_model(make_registered_model, trained_model):
    model, X, _ = trained_model
    registered = make_registered_model("main.default.given", model=model, input_example=X.head())
    import mlflow
    loaded = mlflow.pyfunc.load_model("models:/main.default.given/1")
    assert list(loaded.predict(X.head())) == list(model.predict(X.head()))
    assert registered.name == "main.default.given"


def _check_seeded(mlemu):
    import mlflow
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    assert w.tables.get("main.features.customers").full_name == "main.features.customers"
    [run] = mlflow.search_runs(experiment_names=["/Shared/churn"], output_format="list")
    assert run.data.params == {"lr": "0.1", "depth": "3"} and run.data.metrics["loss"] == 0.6
    assert mlflow.MlflowClient().get_model_version_by_alias("main.features.churn", "champion").version == "2"
    assert w.serving_endpoints.get("churn").state.ready.value == "READY"


def test_seed_from_yaml(mlemu, mlemu_seed, request):
    made = mlemu_seed(request.path.parent / "data" / "seed.yaml")
    assert [len(made[k]) for k in ("catalogs", "schemas", "tables", "runs", "models", "endpoints")] == [1, 1, 1, 1, 1, 1]
    _check_seeded(mlemu)


def test_seed_from_json(mlemu, mlemu_seed, tmp_path, request):
    import yaml

    spec = yaml.safe_load((request.path.parent / "data" / "seed.yaml").read_text())
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(spec))
    mlemu_seed(path)
    _check_seeded(mlemu)


@pytest.mark.mlemu(seed_from="data/seed.yaml")
def test_seed_marker(mlemu):
    _check_seeded(mlemu)


def test_unknown_section_is_refused(mlemu_seed):
    with pytest.raises(ValueError, match="unknown sections"):
        mlemu_seed({"experiment": []})
