"""Loading registered models: ``models:/c.s.m@alias`` and ``/N`` give the trained model's
predictions; ``/latest`` and stages fail client-side as on Databricks; a deleted version
no longer resolves. Versions come from the fixture helper or ``create_model_version``."""
from __future__ import annotations

import pytest

NAME = "catalog.schema.my_model"


@pytest.fixture
def seeded(mlemu, trained_model):
    """Version 1 (alias champion) of the trained model, through the fixture helper."""
    from mlemu.server.services.registry.fixtures import seed_model_version

    model, X, _ = trained_model
    return seed_model_version(mlemu, NAME, model, input_example=X.head(3), aliases=["champion"])


def test_fixture_helper_registers_a_ready_version(mlemu, client, seeded):
    assert (seeded.version, seeded.status) == (1, "READY")
    mv = client.get_model_version_by_alias(NAME, "champion")
    assert (mv.version, mv.status) == ("1", "READY")
    assert client.get_registered_model(NAME).aliases == {"champion": "1"}


def test_load_by_alias_and_version_predicts_like_the_trained_model(mlemu, seeded, trained_model):
    import mlflow

    model, X, _ = trained_model
    by_alias = mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    assert (by_alias.predict(X) == model.predict(X)).all()
    mlemu.calls.assert_called("registry.registered-models.alias.get", times=1)
    mlemu.calls.clear()
    by_version = mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    assert (by_version.predict(X) == model.predict(X)).all()
    # /N resolves without any model-versions/get: straight to the files
    assert "registry.model-versions.get" not in mlemu.calls.operations()
    mlemu.calls.assert_called("registry.model-versions.emit-lineage", times=1)


def test_latest_and_stages_fail_client_side_without_http(mlemu, seeded):
    import mlflow
    from mlflow.exceptions import MlflowException

    mlemu.calls.clear()
    with pytest.raises(MlflowException, match="get_latest_versions.*unsupported"):
        mlflow.pyfunc.load_model(f"models:/{NAME}/latest")
    with pytest.raises(MlflowException, match="unsupported"):
        mlflow.pyfunc.load_model(f"models:/{NAME}/Production")
    assert [c.operation for c in mlemu.calls if c.operation.startswith("registry.")] == []


def test_deleted_version_no_longer_loads(mlemu, client, seeded):
    import mlflow

    from mlflow.exceptions import MlflowException

    client.delete_model_version(NAME, 1)
    # /N makes no registry lookup: the Files API 404 on /Models/.../1 is what fails it
    # (mlflow 2.22 surfaces the 404; mlflow 3 finds an empty download and no MLmodel)
    with pytest.raises(Exception) as e:
        mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    msg = str(e.value).lower()
    assert "not found" in msg or 'could not find an "mlmodel"' in msg
    head = mlemu.calls.filter(operation="files.directories.get-metadata")[-1]
    assert (head.path, head.status) == ("/api/2.0/fs/directories/Models/catalog/schema/my_model/1", 404)
    with pytest.raises(MlflowException) as e:
        mlflow.pyfunc.load_model(f"models:/{NAME}@champion")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_missing_alias_on_load(mlemu, seeded):
    import mlflow
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="Alias 'nope' does not exist") as e:
        mlflow.pyfunc.load_model(f"models:/{NAME}@nope")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_alias_move_changes_what_loads(mlemu, client, trained_model, saved_model):
    import mlflow
    from sklearn.dummy import DummyClassifier

    model, X, y = trained_model
    dummy = DummyClassifier(strategy="constant", constant=1).fit(X, y)
    mlemu.registry.seed_model_version(NAME, model, input_example=X.head(3), aliases=["champion"])
    mlemu.registry.seed_model_version(NAME, dummy, input_example=X.head(3))
    assert (mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict(X) == model.predict(X)).all()
    client.set_registered_model_alias(NAME, "champion", 2)
    assert set(mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict(X)) == {1}


def test_presigned_default_storage_path(mlemu, client, schema, saved_model, trained_model):
    """With the SDK artifact repository flag off, mlflow registers and loads through
    temporary credentials (DEFAULT_STORAGE) and presigned Files API URLs."""
    import mlflow

    model, X, _ = trained_model
    mlemu.registry.sdk_models_artifact_repository_enabled = False
    client.create_registered_model(NAME)
    mv = client.create_model_version(NAME, saved_model)
    assert mv.status == "READY"
    creds = mlemu.calls.filter(operation="registry.model-versions.generate-temporary-credentials")
    assert creds[0].request["operation"] == "MODEL_VERSION_OPERATION_READ_WRITE"
    assert creds[0].response["credentials"]["storage_mode"] == "DEFAULT_STORAGE"
    mlemu.calls.assert_called("files.create-upload-url")
    loaded = mlflow.pyfunc.load_model(f"models:/{NAME}/1")
    assert (loaded.predict(X) == model.predict(X)).all()
    reads = mlemu.calls.filter(operation="registry.model-versions.generate-temporary-credentials")
    assert reads[-1].request["operation"] == "MODEL_VERSION_OPERATION_READ"
    mlemu.calls.assert_not_called("registry.model-versions.emit-lineage")


def test_mixed_case_names_resolve(mlemu, client, schema, saved_model, trained_model):
    import mlflow

    model, X, _ = trained_model
    client.create_registered_model("Catalog.Schema.My_Model")
    mv = client.create_model_version("Catalog.Schema.My_Model", saved_model)
    assert (mv.name, mv.status) == (NAME, "READY")
    assert (mlflow.pyfunc.load_model("models:/Catalog.Schema.My_Model/1").predict(X)
            == model.predict(X)).all()
    client.delete_model_version(NAME, 1)
    assert mlemu.storage.walk_files("files", "/Models/Catalog") == []


def test_load_over_http(mlemu, mlemu_server, seeded, trained_model):
    import mlflow

    model, X, _ = trained_model
    assert (mlflow.pyfunc.load_model(f"models:/{NAME}@champion").predict(X) == model.predict(X)).all()


def test_seed_a_python_model_and_a_saved_directory(mlemu, client, saved_model, trained_model):
    import mlflow
    import pandas as pd

    class Doubler(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input * 2

    frame = pd.DataFrame({"x": [1.0, 2.0]})
    mv = mlemu.registry.seed_model_version("main.default.doubler", Doubler(), input_example=frame,
                                           tags={"kind": "python"})
    assert (mv.status, client.get_model_version("main.default.doubler", 1).tags) == ("READY", {"kind": "python"})
    assert mlflow.pyfunc.load_model("models:/main.default.doubler/1").predict(frame)["x"].tolist() == [2.0, 4.0]

    model, X, _ = trained_model
    mlemu.registry.seed_model_version("main.default.from_dir", saved_model, aliases=["prod"])
    assert (mlflow.pyfunc.load_model("models:/main.default.from_dir@prod").predict(X) == model.predict(X)).all()


def test_seeding_follows_the_registration_rules(mlemu, unsigned_model):
    from mlemu import ApiError

    with pytest.raises(ApiError, match="signature") as e:
        mlemu.registry.seed_model_version("main.default.unsigned", unsigned_model)
    assert e.value.code == "INVALID_PARAMETER_VALUE"
    assert mlemu.registry.get_version("main.default.unsigned", 1).status == "FAILED_REGISTRATION"
    with pytest.raises(ApiError) as e:
        mlemu.registry.register_files("nocatalog.s.m", {"MLmodel": b""}, create_model=True)
    assert e.value.code == "RESOURCE_DOES_NOT_EXIST"
