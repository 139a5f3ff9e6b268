"""Registered models through mlflow's ``MlflowClient`` with ``registry_uri="databricks-uc"``."""
from __future__ import annotations

import pytest

NAME = "catalog.schema.my_model"
MLFLOW3 = __import__("mlflow").__version__.startswith("3.")


def _code(exc) -> str:  # type: ignore[no-untyped-def]
    return exc.value.error_code


def test_create_and_get(client, mlemu, schema):
    from mlflow.entities.model_registry import RegisteredModel

    rm = client.create_registered_model(NAME, tags={"team": "ml"}, description="churn model")
    assert isinstance(rm, RegisteredModel)
    assert (rm.name, rm.description, rm.tags) == (NAME, "churn model", {"team": "ml"})
    assert rm.creation_timestamp == rm.last_updated_timestamp > 0
    got = client.get_registered_model(NAME)
    assert (got.name, got.tags, got.aliases) == (NAME, {"team": "ml"}, {})
    mlemu.calls.assert_called("registry.registered-models.create", times=1)


def test_names_are_lower_cased(client, schema):
    rm = client.create_registered_model("Catalog.Schema.My_Model")
    assert rm.name == NAME
    assert client.get_registered_model("CATALOG.schema.MY_MODEL").name == NAME


def test_create_existing_is_resource_already_exists(client, schema):
    from mlflow.exceptions import MlflowException

    client.create_registered_model(NAME)
    with pytest.raises(MlflowException) as e:
        client.create_registered_model(NAME)
    assert _code(e) == "RESOURCE_ALREADY_EXISTS"


def test_missing_catalog_or_schema(client, mlemu):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="Catalog 'catalog' does not exist") as e:
        client.create_registered_model(NAME)
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
    mlemu.unity_catalog.create_catalog("catalog")
    with pytest.raises(MlflowException, match="Schema 'catalog.schema' does not exist") as e:
        client.create_registered_model(NAME)
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
    assert mlemu.registry.list_models() == []


@pytest.mark.parametrize("name", ["my_model", "schema.my_model", "a.b.c.d"])
def test_three_level_names_only(client, schema, mlemu, name):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="specify all three levels") as e:
        client.create_registered_model(name)
    assert "INVALID_PARAMETER_VALUE: Invalid registered model name" in str(e.value)
    if MLFLOW3:
        # mlflow 3 re-raises this exact server message with its legacy-registry hint appended
        # (and, given the code as a string, reports INTERNAL_ERROR: client behaviour, not ours)
        assert "legacy Workspace Model Registry" in str(e.value)
    else:
        assert _code(e) == "INVALID_PARAMETER_VALUE"
    err = mlemu.calls.filter(operation="registry.registered-models.create")[-1]
    assert (err.status, err.error_code) == (400, "INVALID_PARAMETER_VALUE")
    assert mlemu.registry.list_models() == []


@pytest.mark.parametrize("name", ["catalog.schema.has space", "catalog.schema." + "m" * 256,
                                  "catalog.schema.tab\tname"])
def test_invalid_model_names(client, schema, mlemu, name):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as e:
        client.create_registered_model(name)
    assert _code(e) == "INVALID_PARAMETER_VALUE"
    assert mlemu.registry.list_models() == []


def test_get_missing_model(client, schema):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="Routine or Model 'catalog.schema.nope' does not exist") as e:
        client.get_registered_model("catalog.schema.nope")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"


def test_update_description(client, schema):
    client.create_registered_model(NAME)
    rm = client.update_registered_model(NAME, description="v2")
    assert rm.description == "v2"
    assert client.get_registered_model(NAME).description == "v2"


def test_rename_moves_versions_and_files(client, mlemu, three_versions):
    client.set_registered_model_alias(NAME, "champion", 2)
    client.rename_registered_model(NAME, "catalog.schema.renamed")
    assert client.get_registered_model("catalog.schema.renamed").aliases == {"champion": "2"}
    assert client.get_model_version_by_alias("catalog.schema.renamed", "champion").version == "2"
    assert [f.path for f in mlemu.storage.walk_files("files", "/Models/catalog/schema/renamed/2")] == [
        "/Models/catalog/schema/renamed/2/MLmodel", "/Models/catalog/schema/renamed/2/model.pkl"]
    assert mlemu.storage.walk_files("files", "/Models/catalog/schema/my_model") == []
    assert not mlemu.registry.has_model(NAME)


def test_rename_refusals(client, mlemu, schema):
    from mlflow.exceptions import MlflowException

    mlemu.unity_catalog.ensure_schema("catalog.other")
    client.create_registered_model(NAME)
    client.create_registered_model("catalog.schema.taken")
    with pytest.raises(MlflowException) as e:
        client.rename_registered_model(NAME, "catalog.schema.taken")
    assert _code(e) == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException, match="another catalog or schema") as e:
        client.rename_registered_model(NAME, "catalog.other.my_model")
    assert _code(e) == "INVALID_PARAMETER_VALUE"
    assert client.get_registered_model(NAME).name == NAME


def test_delete_removes_model_versions_and_files(client, mlemu, three_versions):
    from mlflow.exceptions import MlflowException

    client.delete_registered_model(NAME)
    with pytest.raises(MlflowException) as e:
        client.get_registered_model(NAME)
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
    assert client.search_model_versions(f"name='{NAME}'") == []
    assert mlemu.storage.walk_files("files", "/Models/catalog/schema/my_model") == []
    # a model re-created under the same name is a new securable: numbering starts again
    client.create_registered_model(NAME)
    assert mlemu.registry.register_files(NAME, {"MLmodel": b"signature: {inputs: a, outputs: b}"}).version == 1


def test_search_registered_models(client, mlemu, schema):
    for n in ("b", "a", "c"):
        client.create_registered_model(f"catalog.schema.{n}", tags={"k": "v"})
    found = client.search_registered_models()
    assert [m.name for m in found] == ["catalog.schema.a", "catalog.schema.b", "catalog.schema.c"]
    # UC search answers carry no tags/aliases (mlflow's RegisteredModelSearch refuses .tags)
    assert "tags" not in mlemu.calls.filter(operation="registry.registered-models.search")[-1].response[
        "registered_models"][0]
    page = client.search_registered_models(max_results=2)
    assert len(page) == 2 and page.token
    rest = client.search_registered_models(max_results=2, page_token=page.token)
    assert [m.name for m in rest] == ["catalog.schema.c"] and not rest.token


def test_search_registered_models_filter_is_refused_client_side(client, mlemu, schema):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="filter_string"):
        client.search_registered_models(filter_string="name LIKE 'a%'")
    mlemu.calls.assert_not_called("registry.registered-models.search")


def test_registered_model_tags(client, schema):
    client.create_registered_model(NAME)
    client.set_registered_model_tag(NAME, "owner_team", "ml")
    client.set_registered_model_tag(NAME, "owner_team", "ds")
    assert client.get_registered_model(NAME).tags == {"owner_team": "ds"}
    client.delete_registered_model_tag(NAME, "owner_team")
    assert client.get_registered_model(NAME).tags == {}


@pytest.mark.parametrize("key,value", [("has.dot", "v"), ("has-dash", "v"), ("k" * 256, "v"),
                                       ("key", "v" * 1001), (" padded", "v")])
def test_tag_limits(client, schema, key, value):
    from mlflow.exceptions import MlflowException

    client.create_registered_model(NAME)
    with pytest.raises(MlflowException) as e:
        client.set_registered_model_tag(NAME, key, value)
    assert _code(e) == "INVALID_PARAMETER_VALUE"
    assert client.get_registered_model(NAME).tags == {}


def test_at_most_50_tags(client, schema):
    from mlflow.exceptions import MlflowException

    client.create_registered_model(NAME, tags={f"t{i}": "v" for i in range(50)})
    with pytest.raises(MlflowException, match="at most 50 tags") as e:
        client.set_registered_model_tag(NAME, "one_more", "v")
    assert _code(e) == "INVALID_PARAMETER_VALUE"
    client.set_registered_model_tag(NAME, "t0", "overwrite is fine")
    with pytest.raises(MlflowException):
        client.create_registered_model("catalog.schema.other", tags={f"t{i}": "v" for i in range(51)})
    assert len(client.get_registered_model(NAME).tags) == 50


def test_delete_missing_tag(client, schema):
    from mlflow.exceptions import MlflowException

    client.create_registered_model(NAME)
    with pytest.raises(MlflowException) as e:
        client.delete_registered_model_tag(NAME, "nope")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"


def test_stages_are_refused_client_side(client, mlemu, three_versions):
    from mlflow.exceptions import MlflowException

    mlemu.calls.clear()
    with pytest.raises(MlflowException, match="unsupported"):
        client.transition_model_version_stage(NAME, 1, "Production")
    with pytest.raises(MlflowException, match="unsupported"):
        client.get_latest_versions(NAME)
    # at most mlflow's prompt check (registered-models/get) reaches the server
    assert {c.operation for c in mlemu.calls if c.operation.startswith("registry.")} <= {
        "registry.registered-models.get"}
    assert all(v.current_stage is None for v in client.search_model_versions(f"name='{NAME}'"))
