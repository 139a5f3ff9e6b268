"""The SDK's Unity Catalog model API (``w.registered_models`` / ``w.model_versions``) over
the same state mlflow writes."""
from __future__ import annotations

import pytest

NAME = "catalog.schema.my_model"


def test_sdk_sees_what_mlflow_wrote(client, w, mlemu, schema, saved_model):
    from databricks.sdk.service.catalog import ModelVersionInfoStatus

    client.create_registered_model(NAME, description="from mlflow")
    client.create_model_version(NAME, saved_model)
    client.create_model_version(NAME, saved_model)
    client.set_registered_model_alias(NAME, "champion", 2)

    rm = w.registered_models.get(NAME, include_aliases=True)
    assert (rm.full_name, rm.catalog_name, rm.schema_name, rm.name) == (NAME, "catalog", "schema", "my_model")
    assert rm.comment == "from mlflow"
    assert rm.owner == rm.created_by == mlemu.user.user_name
    assert rm.metastore_id == mlemu.unity_catalog.metastore_id
    assert [(a.alias_name, a.version_num) for a in rm.aliases] == [("champion", 2)]

    versions = list(w.model_versions.list(NAME))
    assert [(v.version, v.status) for v in versions] == [(2, ModelVersionInfoStatus.READY),
                                                         (1, ModelVersionInfoStatus.READY)]
    assert versions[0].source == saved_model
    mv = w.model_versions.get(NAME, 2, include_aliases=True)
    assert (mv.model_name, mv.catalog_name, mv.schema_name) == ("my_model", "catalog", "schema")
    assert [a.alias_name for a in mv.aliases] == ["champion"]
    assert w.model_versions.get_by_alias(NAME, "champion").version == 2
    assert [m.full_name for m in w.registered_models.list(catalog_name="catalog", schema_name="schema")] == [NAME]
    assert [m.full_name for m in w.registered_models.list()] == [NAME]


def test_aliases_only_with_include_aliases(w, three_versions, client):
    client.set_registered_model_alias(NAME, "champion", 1)
    assert w.registered_models.get(NAME).aliases == []
    assert w.model_versions.get(NAME, 1).aliases == []
    assert [a.alias_name for a in w.model_versions.get(NAME, 1, include_aliases=True).aliases] == ["champion"]


def test_mlflow_sees_what_the_sdk_wrote(client, w, three_versions):
    alias = w.registered_models.set_alias(NAME, "Production", 3)
    assert (alias.alias_name, alias.version_num, alias.model_name) == ("production", 3, "my_model")
    assert client.get_model_version_by_alias(NAME, "production").version == "3"
    w.model_versions.update(NAME, 3, comment="sdk comment")
    assert client.get_model_version(NAME, 3).description == "sdk comment"
    w.registered_models.update(NAME, comment="sdk model comment")
    assert client.get_registered_model(NAME).description == "sdk model comment"
    w.registered_models.delete_alias(NAME, "production")
    assert client.get_registered_model(NAME).aliases == {}
    w.model_versions.delete(NAME, 1)
    assert [v.version for v in client.search_model_versions(f"name='{NAME}'")] == ["3", "2"]


def test_sdk_create_rename_delete(w, client, mlemu, schema):
    from databricks.sdk.errors import ResourceAlreadyExists, ResourceDoesNotExist

    rm = w.registered_models.create(catalog_name="catalog", schema_name="schema", name="Sdk_Model",
                                    comment="c")
    assert (rm.full_name, rm.comment) == ("catalog.schema.sdk_model", "c")
    assert client.get_registered_model("catalog.schema.sdk_model").description == "c"
    with pytest.raises(ResourceAlreadyExists):
        w.registered_models.create(catalog_name="catalog", schema_name="schema", name="sdk_model")
    renamed = w.registered_models.update("catalog.schema.sdk_model", new_name="sdk_model2")
    assert renamed.full_name == "catalog.schema.sdk_model2"
    w.registered_models.delete("catalog.schema.sdk_model2")
    with pytest.raises(ResourceDoesNotExist):
        w.registered_models.get("catalog.schema.sdk_model2")


def test_sdk_create_needs_catalog_and_schema(w, mlemu):
    from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist, match="Catalog 'catalog'"):
        w.registered_models.create(catalog_name="catalog", schema_name="schema", name="m")
    with pytest.raises(ResourceDoesNotExist, match="Schema 'main.nope'"):
        w.registered_models.create(catalog_name="main", schema_name="nope", name="m")
    with pytest.raises(InvalidParameterValue, match="catalog_name"):
        w.registered_models.create(schema_name="default", name="m")
    assert mlemu.registry.list_models() == []


def test_sdk_errors(w, three_versions):
    from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist):
        w.model_versions.get(NAME, 42)
    with pytest.raises(ResourceDoesNotExist):
        w.model_versions.get_by_alias(NAME, "nope")
    with pytest.raises(ResourceDoesNotExist):
        w.registered_models.delete_alias(NAME, "nope")
    with pytest.raises(ResourceDoesNotExist):
        w.registered_models.set_alias(NAME, "a", 42)
    with pytest.raises(InvalidParameterValue):
        w.registered_models.set_alias(NAME, "latest", 1)
    with pytest.raises(InvalidParameterValue):
        list(w.registered_models.list(catalog_name="catalog"))
    with pytest.raises(InvalidParameterValue):
        w.registered_models.get("not_three_levels")


def test_sdk_list_pages(w, mlemu, schema):
    for i in range(5):
        mlemu.registry.create_model(f"catalog.schema.m{i}")
    names = [m.name for m in w.registered_models.list(catalog_name="catalog", schema_name="schema",
                                                      max_results=2)]
    assert names == [f"m{i}" for i in range(5)]
    page = w.api_client.do("GET", "/api/2.1/unity-catalog/models",
                           query={"catalog_name": "catalog", "schema_name": "schema", "max_results": 2})
    assert len(page["registered_models"]) == 2 and page["next_page_token"]


def test_run_lineage_fields(w, mlemu, schema):
    mlemu.registry.create_model(NAME)
    # what mlflow sends after reading the x-databricks-org-id header of runs/get
    w.api_client.do("POST", "/api/2.0/mlflow/unity-catalog/model-versions/create",
                    body={"name": NAME, "source": "models:/m-123", "run_id": "abc",
                          "run_tracking_server_id": mlemu.workspace_id})
    mv = w.model_versions.get(NAME, 1)
    assert (mv.run_id, mv.run_workspace_id) == ("abc", int(mlemu.workspace_id))
    assert mv.status.value == "PENDING_REGISTRATION"
