"""The workspace model registry (registry URI ``databricks``) with the real mlflow client:
register from a run, stages with ``archive_existing_versions``, ``get_latest_versions``,
loading ``models:/name/<stage>`` and ``models:/name/latest``, and ``copy_model_version`` to
Unity Catalog (the documented migration path)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.mlemu(registry_uri="databricks")

MLFLOW3 = __import__("mlflow").__version__.startswith("3.")


def _log_model(model, X):  # type: ignore[no-untyped-def]
    import mlflow
    from mlflow.models import infer_signature

    where = {"name": "model"} if MLFLOW3 else {"artifact_path": "model"}
    return mlflow.sklearn.log_model(model, signature=infer_signature(X, model.predict(X)),
                                    pip_requirements=["scikit-learn"], **where)


@pytest.fixture
def run_with_model(mlemu, trained_model):
    import mlflow

    model, X, _ = trained_model
    mlflow.set_experiment("/Shared/ws-registry")
    with mlflow.start_run() as run:
        _log_model(model, X)
    return run.info.run_id


def test_register_transition_with_archive_and_load_by_stage(mlemu, run_with_model, trained_model):
    import mlflow
    from mlflow import MlflowClient

    model, X, _ = trained_model
    assert mlflow.get_registry_uri() == "databricks"
    for _ in range(3):
        mv = mlflow.register_model(f"runs:/{run_with_model}/model", "churn")
    # register_model returns the create answer (still pending); mlflow waited for READY.
    assert (mv.version, mv.status, mv.current_stage) == ("3", "PENDING_REGISTRATION", "None")
    client = MlflowClient()
    assert client.get_model_version("churn", 3).status == "READY"

    client.transition_model_version_stage("churn", 1, "Production")
    client.transition_model_version_stage("churn", 2, "staging")
    moved = client.transition_model_version_stage("churn", 3, "Production",
                                                  archive_existing_versions=True)
    assert moved.current_stage == "Production"
    stages = {v.version: v.current_stage for v in client.search_model_versions("name='churn'")}
    assert stages == {"1": "Archived", "2": "Staging", "3": "Production"}
    latest = client.get_latest_versions("churn")
    assert [(v.version, v.current_stage) for v in latest] == [("2", "Staging"), ("3", "Production"),
                                                              ("1", "Archived")]
    assert [v.version for v in client.get_latest_versions("churn", stages=["Production"])] == ["3"]
    rm = client.get_registered_model("churn")
    assert {v.current_stage for v in rm.latest_versions} == {"Staging", "Production", "Archived"}

    expected = model.predict(X)
    for uri in ("models:/churn/Production", "models:/churn/latest", "models:/churn/2"):
        assert (mlflow.pyfunc.load_model(uri).predict(X) == expected).all(), uri
    mlemu.calls.assert_called("workspace_registry.model-versions.get-signed-download-uri")


def test_registered_files_outlive_the_run(mlemu, run_with_model, trained_model):
    """The registry keeps its own copy: deleting the run's artifacts does not break the version."""
    import mlflow
    from mlflow import MlflowClient

    model, X, _ = trained_model
    mlflow.register_model(f"runs:/{run_with_model}/model", "keeper")
    run = MlflowClient(registry_uri="databricks").get_run(run_with_model)
    uri = MlflowClient().get_model_version_download_uri("keeper", 1)
    assert uri.startswith("dbfs:/databricks/mlflow-registry/")
    from mlemu.server.services.mlflow_artifacts.locations import artifact_storage
    ns, path = artifact_storage(run.info.artifact_uri)
    mlemu.storage.delete(ns, path, recursive=True)
    assert (mlflow.pyfunc.load_model("models:/keeper/1").predict(X) == model.predict(X)).all()


def test_missing_source_fails_registration(mlemu):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    client.create_registered_model("ghost")
    with pytest.raises(MlflowException, match="FAILED_REGISTRATION"):
        client.create_model_version("ghost", "dbfs:/nowhere/model", await_creation_for=5)
    assert client.get_model_version("ghost", 1).status == "FAILED_REGISTRATION"


def test_stage_rules(mlemu, run_with_model):
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    mlflow.register_model(f"runs:/{run_with_model}/model", "rules")
    client = MlflowClient()
    with pytest.raises(MlflowException, match="Invalid Model Version stage") as e:
        client.transition_model_version_stage("rules", 1, "Prod")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="not an Active stage"):
        client.transition_model_version_stage("rules", 1, "Archived", archive_existing_versions=True)
    with pytest.raises(MlflowException) as e:
        client.get_latest_versions("nope")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        mlflow.pyfunc.load_model("models:/rules/Production")
    assert "No versions of model" in str(e.value) or e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def _client_copies_to_uc() -> bool:
    from mlflow.store.model_registry import databricks_workspace_model_registry_rest_store as m
    return "copy_model_version" in vars(m.DatabricksWorkspaceModelRegistryRestStore)


def _mlflow_version() -> str:
    import mlflow
    return mlflow.__version__


@pytest.mark.skipif(not _client_copies_to_uc(),
                    reason=f"mlflow {_mlflow_version()} has no workspace-registry-to-UC copy client-side")
def test_copy_model_version_to_unity_catalog(mlemu, run_with_model, trained_model):
    import mlflow
    from mlflow import MlflowClient

    model, X, _ = trained_model
    mlflow.register_model(f"runs:/{run_with_model}/model", "legacy")
    mlemu.unity_catalog.ensure_schema("main.ml")
    copied = MlflowClient().copy_model_version("models:/legacy/1", "main.ml.migrated")
    assert copied.name == "main.ml.migrated" and copied.version == "1"
    uc = mlemu.registry.get_version("main.ml.migrated", 1)
    assert uc.status == "READY" and uc.source == "models:/legacy/1"
    uc_client = MlflowClient(registry_uri="databricks-uc")
    assert uc_client.get_model_version("main.ml.migrated", 1).status == "READY"
    mlflow.set_registry_uri("databricks-uc")
    loaded = mlflow.pyfunc.load_model("models:/main.ml.migrated/1")
    assert (loaded.predict(X) == model.predict(X)).all()


def test_copy_within_the_workspace_registry(mlemu, run_with_model):
    import mlflow
    from mlflow import MlflowClient

    mlflow.register_model(f"runs:/{run_with_model}/model", "src")
    client = MlflowClient()
    client.transition_model_version_stage("src", 1, "Production")
    copied = client.copy_model_version("models:/src/Production", "dst")
    assert (copied.name, copied.version, copied.current_stage) == ("dst", "1", "None")
    assert client.get_model_version("dst", 1).status == "READY"
    assert mlemu.workspace_registry.get_version("dst", 1).source.startswith("models:/src/")


def test_client_create_model_version_from_a_runs_uri(mlemu, run_with_model, trained_model):
    """``MlflowClient.create_model_version(name, "runs:/<run>/model")`` (issue 20, item 18): mlflow 3
    logs the model as a logged model (its files are not under the run's artifacts) and the
    registry reads the URI as mlflow 3 does; mlflow 2 keeps the files under the run."""
    import mlflow
    from mlflow import MlflowClient

    model, X, _ = trained_model
    client = MlflowClient()
    client.create_registered_model("from-run")
    mv = client.create_model_version("from-run", f"runs:/{run_with_model}/model", run_id=run_with_model)
    assert mv.source == f"runs:/{run_with_model}/model"
    got = client.get_model_version("from-run", mv.version)
    assert (got.status, got.status_message or "") == ("READY", "")
    loaded = mlflow.pyfunc.load_model("models:/from-run/1")
    assert list(loaded.predict(X[:5])) == list(model.predict(X[:5]))
    # A name the run has neither as an artifact nor as a logged model still fails to register.
    bad = client.create_model_version("from-run", f"runs:/{run_with_model}/nothing-here",
                                      run_id=run_with_model, await_creation_for=0)
    failed = client.get_model_version("from-run", bad.version)
    assert failed.status == "FAILED_REGISTRATION" and "does not exist" in failed.status_message
