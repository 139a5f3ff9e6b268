"""Model versions through ``MlflowClient`` (create/upload/finalize, get, update, delete,
search, tags, download URI). ``create_model_version`` from a local saved model runs mlflow's
whole UC registration path (create -> Files API upload -> finalize) without a tracking run."""
from __future__ import annotations

import pytest

NAME = "catalog.schema.my_model"


def test_create_model_version_runs_the_uc_sequence(client, mlemu, schema, saved_model):
    client.create_registered_model(NAME)
    mv = client.create_model_version(NAME, saved_model)
    assert (mv.name, mv.version, mv.status, mv.source) == (NAME, "1", "READY", saved_model)
    ops = [c.operation for c in mlemu.calls if c.operation.startswith(("registry.", "files."))]
    assert ops[:3] == ["registry.registered-models.create", "registry.model-versions.create",
                       "registry.registered-models.is-sdk-artifact-repo-enabled"]
    assert ops[-1] == "registry.model-versions.finalize"
    created = mlemu.calls.filter(operation="registry.model-versions.create")[0].response
    assert created["model_version"]["status"] == "PENDING_REGISTRATION"
    files = {f.path.rsplit("/", 1)[1] for f in mlemu.storage.walk_files("files", "/Models/catalog/schema/my_model/1")}
    assert {"MLmodel", "requirements.txt"} <= files and len(files) >= 4


def test_version_numbers_increment_and_are_never_reused(client, schema, saved_model):
    client.create_registered_model(NAME)
    assert [client.create_model_version(NAME, saved_model).version for _ in range(3)] == ["1", "2", "3"]
    client.delete_model_version(NAME, 3)
    client.delete_model_version(NAME, 2)
    assert client.create_model_version(NAME, saved_model).version == "4"
    assert [v.version for v in client.search_model_versions(f"name='{NAME}'")] == ["4", "1"]


def test_create_version_needs_an_existing_model(client, mlemu, schema, saved_model):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as e:
        client.create_model_version(NAME, saved_model)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    mlemu.calls.assert_not_called("registry.model-versions.finalize")
    assert mlemu.storage.walk_files("files", "/Models") == []


def test_create_version_in_missing_catalog(client, mlemu, saved_model):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="Catalog 'catalog' does not exist") as e:
        client.create_model_version(NAME, saved_model)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_get_update_and_missing_version(client, three_versions):
    from mlflow.exceptions import MlflowException

    mv = client.get_model_version(NAME, 2)
    assert (mv.version, mv.status, mv.aliases, mv.tags) == ("2", "READY", [], {})
    updated = client.update_model_version(NAME, 2, description="better")
    assert updated.description == "better"
    assert client.get_model_version(NAME, "2").description == "better"
    with pytest.raises(MlflowException) as e:
        client.get_model_version(NAME, 99)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.get_model_version("catalog.schema.nope", 1)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("version", ["abc", "0", "-1", "1.5", "latest"])
def test_non_numeric_version_is_invalid(w, three_versions, version):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        w.api_client.do("GET", "/api/2.0/mlflow/unity-catalog/model-versions/get",
                        query={"name": NAME, "version": version})


def test_delete_version_removes_it_from_search_aliases_and_storage(client, mlemu, three_versions):
    from mlflow.exceptions import MlflowException

    client.set_registered_model_alias(NAME, "champion", 2)
    client.delete_model_version(NAME, 2)
    assert [v.version for v in client.search_model_versions(f"name='{NAME}'")] == ["3", "1"]
    assert client.get_registered_model(NAME).aliases == {}
    assert mlemu.storage.walk_files("files", "/Models/catalog/schema/my_model/2") == []
    with pytest.raises(MlflowException) as e:
        client.get_model_version(NAME, 2)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.delete_model_version(NAME, 2)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_search_by_name_newest_first(client, mlemu, three_versions):
    mlemu.registry.register_files("catalog.schema.other", {"MLmodel": b"signature: {inputs: a, outputs: b}"})
    versions = client.search_model_versions("name='catalog.schema.my_model'")
    assert [(v.name, v.version, v.status) for v in versions] == [
        (NAME, "3", "READY"), (NAME, "2", "READY"), (NAME, "1", "READY")]
    # names are case-insensitive; double quotes work too
    assert len(client.search_model_versions('name = "Catalog.Schema.My_Model"')) == 3
    assert len(client.search_model_versions()) == 4
    assert client.search_model_versions("name='catalog.schema.missing'") == []
    call = mlemu.calls.filter(operation="registry.model-versions.search")[0]
    assert call.request["filter"] == "name='catalog.schema.my_model'"
    assert "aliases" not in call.response["model_versions"][0]  # UC search omits aliases/tags


def test_search_by_run_id(client, mlemu, schema):
    reg = mlemu.registry
    for run in ("run-a", "run-b", "run-a"):
        reg.register_files(NAME, {"MLmodel": b"signature: {inputs: a, outputs: b}"}, run_id=run)
    assert [v.version for v in client.search_model_versions("run_id = 'run-a'")] == ["3", "1"]
    assert [v.version for v in client.search_model_versions("run_id IN ('run-a', 'run-b')")] == ["3", "2", "1"]
    assert [v.version for v in client.search_model_versions(
        f"name = '{NAME}' AND run_id = 'run-b'")] == ["2"]


@pytest.mark.parametrize("bad", ["name LIKE 'catalog%'", "tags.k = 'v'", "name = 'a' OR name = 'b'",
                                 "version_number = 1", "name = ", "name = 'unterminated"])
def test_unsupported_filters_are_invalid(client, three_versions, bad):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as e:
        client.search_model_versions(bad)
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_search_pages(client, three_versions):
    first = client.search_model_versions(f"name='{NAME}'", max_results=2)
    assert [v.version for v in first] == ["3", "2"] and first.token
    second = client.search_model_versions(f"name='{NAME}'", max_results=2, page_token=first.token)
    assert [v.version for v in second] == ["1"] and not second.token


def test_fluent_search_model_versions(mlemu, three_versions):
    import mlflow

    assert [v.version for v in mlflow.search_model_versions(filter_string=f"name='{NAME}'")] == ["3", "2", "1"]


def test_model_version_tags(client, three_versions):
    from mlflow.exceptions import MlflowException

    # (mlflow's UC store needs the version as a string for the tag calls: 2.22 for both,
    # 3.x for delete - a client quirk, so strings here)
    client.set_model_version_tag(NAME, "1", "validation_status", "approved")
    assert client.get_model_version(NAME, 1).tags == {"validation_status": "approved"}
    assert client.get_model_version(NAME, 2).tags == {}
    client.delete_model_version_tag(NAME, "1", "validation_status")
    assert client.get_model_version(NAME, 1).tags == {}
    with pytest.raises(MlflowException) as e:
        client.set_model_version_tag(NAME, "1", "bad=key", "v")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        client.set_model_version_tag(NAME, "9", "k", "v")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(MlflowException) as e:
        client.delete_model_version_tag(NAME, "1", "never_set")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_create_version_with_tags_and_description(client, schema, saved_model):
    client.create_registered_model(NAME)
    mv = client.create_model_version(NAME, saved_model, tags={"stage_hint": "candidate"},
                                     description="first")
    got = client.get_model_version(NAME, mv.version)
    assert (got.tags, got.description) == ({"stage_hint": "candidate"}, "first")


def test_download_uri_is_the_storage_location(client, mlemu, three_versions):
    uri = client.get_model_version_download_uri(NAME, 1)
    assert uri == mlemu.registry.get_version(NAME, 1).storage_location
    assert uri.startswith("s3://") and "/versions/" in uri


def test_same_state_over_http(mlemu, mlemu_server, schema, saved_model):
    from mlflow import MlflowClient

    c = MlflowClient()
    c.create_registered_model(NAME)
    assert c.create_model_version(NAME, saved_model).status == "READY"
    assert mlemu.registry.get_version(NAME, 1).status == "READY"
