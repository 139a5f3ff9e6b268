"""Databricks rules a registration must meet, and that a refused or broken registration
leaves no READY version behind."""
from __future__ import annotations

import pytest

NAME = "catalog.schema.my_model"
UC = "/api/2.0/mlflow/unity-catalog"
MLFLOW3 = __import__("mlflow").__version__.startswith("3.")


def _create_pending(w, mlemu) -> str:  # type: ignore[no-untyped-def]
    """A PENDING_REGISTRATION version made with raw REST calls (no mlflow client checks)."""
    if not mlemu.registry.has_model(NAME):
        mlemu.registry.create_model(NAME)
    r = w.api_client.do("POST", f"{UC}/model-versions/create", body={"name": NAME, "source": "dbfs:/x"})
    assert r["model_version"]["status"] == "PENDING_REGISTRATION"
    return r["model_version"]["version"]


def _finalize(w, version):  # type: ignore[no-untyped-def]
    return w.api_client.do("POST", f"{UC}/model-versions/finalize", body={"name": NAME, "version": version})


def test_unsigned_model_is_refused_client_side(client, mlemu, schema, unsigned_model):
    from mlflow.exceptions import MlflowException

    client.create_registered_model(NAME)
    with pytest.raises(MlflowException, match="did not contain any signature metadata"):
        client.create_model_version(NAME, unsigned_model)
    mlemu.calls.assert_not_called("registry.model-versions.create")
    assert client.search_model_versions(f"name='{NAME}'") == []


def test_server_refuses_unsigned_model_at_finalize(w, mlemu, schema, unsigned_model):
    from databricks.sdk.errors import InvalidParameterValue

    version = _create_pending(w, mlemu)
    with open(f"{unsigned_model}/MLmodel", "rb") as f:
        w.files.upload(f"/Models/catalog/schema/my_model/{version}/MLmodel", f, overwrite=True)
    with pytest.raises(InvalidParameterValue, match="did not contain any signature metadata"):
        _finalize(w, version)
    mv = mlemu.registry.get_version(NAME, version)
    assert mv.status == "FAILED_REGISTRATION"
    assert "signature" in mv.status_message
    # the failed version's files are gone and it can never become READY
    assert mlemu.storage.walk_files("files", f"/Models/catalog/schema/my_model/{version}") == []
    with pytest.raises(InvalidParameterValue, match="failed registration"):
        _finalize(w, version)
    assert mlemu.registry.get_version(NAME, version).status == "FAILED_REGISTRATION"


def test_server_refuses_signature_without_outputs(w, mlemu, schema):
    from databricks.sdk.errors import InvalidParameterValue

    version = _create_pending(w, mlemu)
    mlemu.storage.write("files", f"/Models/catalog/schema/my_model/{version}/MLmodel",
                        b"flavors: {}\nsignature:\n  inputs: '[{\"type\": \"double\"}]'\n  outputs: null\n")
    with pytest.raises(InvalidParameterValue, match="includes only inputs"):
        _finalize(w, version)
    assert mlemu.registry.get_version(NAME, version).status == "FAILED_REGISTRATION"


def test_finalize_without_files_fails_the_version(client, w, mlemu, schema, mlmodel):
    from databricks.sdk.errors import InvalidParameterValue

    version = _create_pending(w, mlemu)
    with pytest.raises(InvalidParameterValue, match="no MLmodel file"):
        _finalize(w, version)
    mv = client.get_model_version(NAME, version)
    assert (mv.status, "MLmodel" in mv.status_message) == ("FAILED_REGISTRATION", True)
    # the number stays used
    assert _create_pending(w, mlemu) == str(int(version) + 1)


def test_finalize_is_idempotent_on_a_ready_version(w, mlemu, schema, mlmodel):
    version = _create_pending(w, mlemu)
    mlemu.storage.write("files", f"/Models/catalog/schema/my_model/{version}/MLmodel", mlmodel)
    assert _finalize(w, version)["model_version"]["status"] == "READY"
    assert _finalize(w, version)["model_version"]["status"] == "READY"


@pytest.mark.skipif(not MLFLOW3, reason="mlflow 2.22 has no signature-bypass switch")
def test_mlflow_private_signature_bypass_does_not_get_past_the_server(client, mlemu, schema, unsigned_model):
    from mlflow.exceptions import MlflowException

    client.create_registered_model(NAME)
    store = client._get_registry_client().store
    with pytest.raises(MlflowException, match="did not contain any signature metadata") as e:
        store._create_model_version_with_optional_signature_validation(
            name=NAME, source=unsigned_model, bypass_signature_validation=True)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert [v.status for v in client.search_model_versions(f"name='{NAME}'")] == ["FAILED_REGISTRATION"]


def test_failed_upload_leaves_no_ready_version(client, mlemu, schema, saved_model, monkeypatch):
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.databricks_sdk_models_artifact_repo import (
        DatabricksSDKModelsArtifactRepository,
    )

    original = DatabricksSDKModelsArtifactRepository._upload_to_cloud

    def flaky(self, cloud_credential_info, src_file_path, artifact_file_path=None):  # type: ignore[no-untyped-def]
        if not src_file_path.endswith("MLmodel"):
            raise OSError("connection reset during upload")
        return original(self, cloud_credential_info, src_file_path, artifact_file_path)

    monkeypatch.setattr(DatabricksSDKModelsArtifactRepository, "_upload_to_cloud", flaky)
    client.create_registered_model(NAME)
    with pytest.raises((MlflowException, OSError)):
        client.create_model_version(NAME, saved_model)
    mlemu.calls.assert_not_called("registry.model-versions.finalize")
    versions = client.search_model_versions(f"name='{NAME}'")
    assert [(v.version, v.status) for v in versions] == [("1", "PENDING_REGISTRATION")]
    with pytest.raises(MlflowException) as e:
        client.set_registered_model_alias(NAME, "champion", 2)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    # a retry registers the next number; the broken one never turns READY
    monkeypatch.setattr(DatabricksSDKModelsArtifactRepository, "_upload_to_cloud", original)
    assert client.create_model_version(NAME, saved_model).version == "2"
    assert mlemu.registry.get_version(NAME, 1).status == "PENDING_REGISTRATION"


def test_create_version_requires_source(w, mlemu, schema):
    from databricks.sdk.errors import InvalidParameterValue

    mlemu.registry.create_model(NAME)
    with pytest.raises(InvalidParameterValue, match="source"):
        w.api_client.do("POST", f"{UC}/model-versions/create", body={"name": NAME})
    assert mlemu.registry.get_model(NAME).versions == {}


def test_unresolvable_source_is_recorded_not_resolved(w, mlemu, schema):
    # Databricks takes the files from the upload, not from `source`
    version = _create_pending(w, mlemu)
    assert mlemu.registry.get_version(NAME, version).source == "dbfs:/x"


def test_write_credentials_only_while_pending(w, mlemu, schema, mlmodel):
    from databricks.sdk.errors import InvalidParameterValue

    version = _create_pending(w, mlemu)
    body = {"name": NAME, "version": version, "operation": "MODEL_VERSION_OPERATION_READ_WRITE"}
    creds = w.api_client.do("POST", f"{UC}/model-versions/generate-temporary-credentials", body=body)
    assert creds["credentials"]["storage_mode"] == "DEFAULT_STORAGE"
    mlemu.storage.write("files", f"/Models/catalog/schema/my_model/{version}/MLmodel", mlmodel)
    _finalize(w, version)
    with pytest.raises(InvalidParameterValue, match="can only be written"):
        w.api_client.do("POST", f"{UC}/model-versions/generate-temporary-credentials", body=body)
    read = dict(body, operation="MODEL_VERSION_OPERATION_READ")
    assert w.api_client.do("POST", f"{UC}/model-versions/generate-temporary-credentials",
                           body=read)["credentials"]["storage_mode"] == "DEFAULT_STORAGE"


def test_files_access_hook(mlemu, schema, mlmodel):
    from mlemu import ApiError

    reg = mlemu.registry
    reg.create_model(NAME)
    mv = reg.create_version(NAME, "s")
    path = f"/Models/catalog/schema/my_model/{mv.version}/MLmodel"
    reg.check_files_access(path, write=True)          # pending: writable
    mlemu.storage.write("files", path, mlmodel)
    reg.finalize_version(NAME, mv.version)
    reg.check_files_access(path, write=False)         # ready: readable
    with pytest.raises(ApiError) as e:
        reg.check_files_access(path, write=True)      # ready: immutable
    assert e.value.code == "PERMISSION_DENIED"
    with pytest.raises(ApiError) as e:
        reg.check_files_access("/Models/catalog/schema/my_model/9/MLmodel", write=False)
    assert e.value.code == "NOT_FOUND"
    reg.check_files_access("/Volumes/x/y", write=True)  # not the registry's business
