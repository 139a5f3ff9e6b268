"""The seed cheatsheet's "Unity Catalog Model Registry", "Model Versioning & Aliases" and
"Load Model by Alias" sections with the real mlflow (3.x and 2.22) against mlemu, plus the
same state through ``w.registered_models`` / ``w.model_versions``."""
from __future__ import annotations

import pytest

NAME = "catalog.schema.my_model"
MLFLOW3 = __import__("mlflow").__version__.startswith("3.")


def _log_model(model, signature, **kwargs):  # type: ignore[no-untyped-def]
    import mlflow

    where = {"name": "model"} if MLFLOW3 else {"artifact_path": "model"}
    return mlflow.sklearn.log_model(model, signature=signature, pip_requirements=["scikit-learn"],
                                    **where, **kwargs)


@pytest.fixture
def signature(trained_model):
    from mlflow.models import infer_signature

    model, X, _ = trained_model
    return infer_signature(X, model.predict(X))


def test_seed_cheatsheet_sections_verbatim(mlemu, schema, trained_model, signature):
    """The cheatsheet's code as written (so mlflow infers requirements: a few seconds)."""
    import mlflow
    from mlflow import MlflowClient

    model, X_test, _ = trained_model
    mlflow.set_experiment("/Users/user@company.com/my_experiment")

    # -- Unity Catalog Model Registry: Register Model
    mlflow.set_registry_uri("databricks-uc")
    with mlflow.start_run() as run:
        mlflow.sklearn.log_model(
            model,
            "model",
            signature=signature,
            registered_model_name="catalog.schema.my_model"
        )
    model_uri = f"runs:/{run.info.run_id}/model"
    mlflow.register_model(model_uri, "catalog.schema.my_model")
    mlflow.register_model(model_uri, "catalog.schema.my_model")
    mlflow.register_model(model_uri, "catalog.schema.my_model")

    # -- Model Versioning & Aliases
    client = MlflowClient()
    versions = client.search_model_versions("name='catalog.schema.my_model'")
    assert [f"Version {v.version}: {v.current_stage}" for v in versions] == [
        "Version 4: None", "Version 3: None", "Version 2: None", "Version 1: None"]
    client.set_registered_model_alias(name="catalog.schema.my_model", alias="production", version=3)
    client.set_registered_model_alias(name="catalog.schema.my_model", alias="champion", version=3)
    client.set_registered_model_alias(name="catalog.schema.my_model", alias="challenger", version=4)
    client.delete_registered_model_alias(name="catalog.schema.my_model", alias="challenger")
    assert client.get_registered_model(NAME).aliases == {"champion": "3", "production": "3"}

    # -- Load Model by Alias
    loaded = mlflow.pyfunc.load_model("models:/catalog.schema.my_model@production")
    assert (loaded.predict(X_test) == model.predict(X_test)).all()
    loaded = mlflow.pyfunc.load_model("models:/catalog.schema.my_model/3")
    predictions = loaded.predict(X_test)
    assert (predictions == model.predict(X_test)).all()
    from mlflow.exceptions import MlflowException
    with pytest.raises(MlflowException, match="unsupported for models in the Unity Catalog"):
        mlflow.pyfunc.load_model("models:/catalog.schema.my_model/latest")

    # -- the same state through the SDK
    from databricks.sdk import WorkspaceClient
    w = WorkspaceClient()
    rm = w.registered_models.get(NAME, include_aliases=True)
    assert sorted((a.alias_name, a.version_num) for a in rm.aliases) == [("champion", 3), ("production", 3)]
    assert [v.version for v in w.model_versions.list(NAME)] == [4, 3, 2, 1]
    assert {v.run_id for v in w.model_versions.list(NAME)} == {run.info.run_id}


def test_log_model_with_registered_model_name(mlemu, client, schema, trained_model, signature):
    import mlflow

    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/uc")
    with mlflow.start_run() as run:
        info = _log_model(model, signature, registered_model_name=NAME)
    if hasattr(info, "registered_model_version"):  # ModelInfo has it from mlflow 2.14 at the latest
        assert str(info.registered_model_version) == "1"
    mv = client.get_model_version(NAME, 1)
    assert (mv.status, mv.run_id) == ("READY", run.info.run_id)
    if MLFLOW3:
        assert mv.source == f"models:/{info.model_id}" and mv.model_id == info.model_id
    else:
        assert mv.source == f"{run.info.artifact_uri}/model"
    # lineage of the source run: its experiment and workspace (x-databricks-org-id of runs/get)
    stored = mlemu.registry.get_version(NAME, 1)
    assert stored.run_tracking_server_id == mlemu.workspace_id
    assert stored.run_experiment_id == run.info.experiment_id
    create = mlemu.calls.filter(operation="registry.model-versions.create")[0]
    assert create.request["run_tracking_server_id"] == mlemu.workspace_id
    assert (mlflow.pyfunc.load_model(f"models:/{NAME}/1").predict(X) == model.predict(X)).all()


def test_register_model_from_run_uri(mlemu, client, schema, trained_model, signature):
    import mlflow

    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/uc")
    with mlflow.start_run() as run:
        _log_model(model, signature)
    mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", NAME)
    assert (mv.name, mv.version, mv.status, mv.run_id) == (NAME, "1", "READY", run.info.run_id)
    client.set_registered_model_alias(NAME, "champion", mv.version)
    loaded = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    assert (loaded.predict(X) == model.predict(X)).all()


@pytest.mark.skipif(not MLFLOW3, reason="logged models (models:/m-...) are mlflow 3")
def test_register_model_from_logged_model_uri(mlemu, client, schema, trained_model, signature):
    import mlflow

    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/uc")
    with mlflow.start_run():
        info = _log_model(model, signature)
    mv = mlflow.register_model(info.model_uri, NAME)
    assert (mv.version, mv.model_id, mv.source) == ("1", info.model_id, info.model_uri)


def test_register_in_missing_schema_fails_before_anything_is_created(mlemu, trained_model, signature):
    import mlflow
    from mlflow.exceptions import MlflowException

    model, _, _ = trained_model
    mlemu.unity_catalog.create_catalog("catalog")
    mlflow.set_experiment("/Shared/uc")
    with mlflow.start_run():
        with pytest.raises(MlflowException, match="Schema 'catalog.schema' does not exist") as e:
            _log_model(model, signature, registered_model_name=NAME)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    mlemu.calls.assert_not_called("registry.model-versions.create")
    assert mlemu.registry.list_models() == []


def test_unsigned_log_model_is_refused(mlemu, schema, trained_model):
    import mlflow
    from mlflow.exceptions import MlflowException

    model, _, _ = trained_model
    mlflow.set_experiment("/Shared/uc")
    with mlflow.start_run():
        with pytest.raises(MlflowException, match="signature"):
            _log_model(model, None, registered_model_name=NAME)
    assert mlemu.registry.list_versions(NAME) == []


def test_deleted_version_disappears_from_search_and_resolution(mlemu, client, schema, trained_model,
                                                               signature):
    import mlflow

    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/uc")
    with mlflow.start_run():
        _log_model(model, signature, registered_model_name=NAME)
        _log_model(model, signature, registered_model_name=NAME)
    client.delete_model_version(NAME, 1)
    assert [v.version for v in client.search_model_versions(f"name='{NAME}'")] == ["2"]
    with pytest.raises(Exception):
        mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    assert (mlflow.pyfunc.load_model(f"models:/{NAME}/2").predict(X) == model.predict(X)).all()


def test_notebook_lineage_header_is_recorded(mlemu, schema, trained_model, signature):
    import mlflow

    model, _, _ = trained_model
    mlflow.set_experiment("/Shared/uc")
    with mlflow.start_run():
        mlflow.set_tag("mlflow.databricks.notebookID", "123456")
        _log_model(model, signature, registered_model_name=NAME)
    lineage = mlemu.registry.get_version(NAME, 1).lineage
    assert lineage["entities"][0]["notebook"]["id"] == "123456"


def test_end_to_end_over_http(mlemu, mlemu_server, schema, trained_model, signature):
    import mlflow

    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/uc")
    with mlflow.start_run():
        _log_model(model, signature, registered_model_name=NAME)
    mlflow.MlflowClient().set_registered_model_alias(NAME, "champion", 1)
    assert (mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict(X) == model.predict(X)).all()
