"""Catalogs and schemas through databricks-sdk ``w.catalogs`` / ``w.schemas``."""
from __future__ import annotations

import pytest


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


def test_fresh_workspace_has_main_and_default(w):
    assert [c.name for c in w.catalogs.list()] == ["main"]
    assert [s.full_name for s in w.schemas.list("main")] == ["main.default", "main.information_schema"]
    s = w.schemas.get("main.default")
    assert (s.catalog_name, s.name) == ("main", "default")


def test_create_catalog_creates_default_schemas(w, mlemu):
    from databricks.sdk.service.catalog import CatalogType

    c = w.catalogs.create("ml", comment="team catalog", properties={"team": "ml"})
    assert c.name == c.full_name == "ml"
    assert c.catalog_type == CatalogType.MANAGED_CATALOG
    assert c.owner == mlemu.user.user_name
    assert c.metastore_id == mlemu.unity_catalog.metastore_id
    got = w.catalogs.get("ml")
    assert (got.comment, got.properties) == ("team catalog", {"team": "ml"})
    assert [s.name for s in w.schemas.list("ml")] == ["default", "information_schema"]


def test_names_are_case_insensitive_and_stored_lower_case(w):
    c = w.catalogs.create("MyCatalog")
    assert c.name == "mycatalog"
    s = w.schemas.create("Features", catalog_name="MYCATALOG")
    assert s.full_name == "mycatalog.features"
    assert w.schemas.get("MyCatalog.FEATURES").schema_id == s.schema_id


def test_create_existing_catalog_or_schema(w):
    from databricks.sdk.errors import ResourceAlreadyExists

    with pytest.raises(ResourceAlreadyExists) as e:
        w.catalogs.create("Main")
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(ResourceAlreadyExists, match="Schema 'main.default' already exists"):
        w.schemas.create("default", catalog_name="main")


def test_missing_catalog_and_schema(w):
    from databricks.sdk.errors import ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist, match="Catalog 'nope' does not exist"):
        w.catalogs.get("nope")
    with pytest.raises(ResourceDoesNotExist, match="Catalog 'nope' does not exist"):
        w.schemas.create("s", catalog_name="nope")
    with pytest.raises(ResourceDoesNotExist, match="Schema 'main.nope' does not exist"):
        w.schemas.get("main.nope")
    with pytest.raises(ResourceDoesNotExist):
        list(w.schemas.list("nope"))


@pytest.mark.parametrize("bad", ["has space", "has/slash", "tab\tchar", "a" * 256, "del\x7f"])
def test_invalid_catalog_and_schema_names(w, mlemu, bad):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        w.catalogs.create(bad)
    with pytest.raises(InvalidParameterValue):
        w.schemas.create(bad, catalog_name="main")
    assert [c.name for c in w.catalogs.list()] == ["main"]
    assert len(list(w.schemas.list("main"))) == 2


def test_period_is_not_allowed_in_a_name(w):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue, match="periods"):
        w.catalogs.create("a.b")
    with pytest.raises(InvalidParameterValue, match="both levels"):
        w.schemas.get("main.default.extra")


def test_max_name_length_is_255(w):
    name = "c" * 255
    assert w.catalogs.create(name).name == name


def test_update_catalog_and_schema(w):
    w.catalogs.create("cat")
    w.schemas.create("s", catalog_name="cat")
    assert w.catalogs.update("cat", comment="new").comment == "new"
    renamed = w.schemas.update("cat.s", new_name="s2", comment="c")
    assert (renamed.full_name, renamed.comment) == ("cat.s2", "c")
    assert [s.name for s in w.schemas.list("cat")] == ["default", "information_schema", "s2"]
    w.catalogs.update("cat", new_name="cat2")
    assert w.schemas.get("cat2.s2").comment == "c"


def test_delete_empty_schema_and_catalog(w):
    w.catalogs.create("tmp")
    w.schemas.create("s", catalog_name="tmp")
    w.schemas.delete("tmp.s")
    w.catalogs.delete("tmp")  # only default + information_schema left
    assert [c.name for c in w.catalogs.list()] == ["main"]


def test_non_empty_schema_delete_is_refused_without_force(w, mlemu):
    from databricks.sdk.errors import BadRequest

    mlemu.unity_catalog.ensure_schema("cat.s")
    mlemu.registry.create_model("cat.s.model")
    with pytest.raises(BadRequest) as e:
        w.schemas.delete("cat.s")
    assert e.value.error_code == "SCHEMA_NOT_EMPTY"
    assert "1 registered model(s)" in str(e.value)
    assert mlemu.registry.has_model("cat.s.model")
    with pytest.raises(BadRequest) as e:
        w.catalogs.delete("cat")
    assert e.value.error_code == "CATALOG_NOT_EMPTY"
    w.schemas.delete("cat.s", force=True)
    assert not mlemu.registry.has_model("cat.s.model")
    w.catalogs.delete("cat")


def test_force_delete_catalog_removes_models_and_their_files(w, mlemu):
    from databricks.sdk.errors import ResourceDoesNotExist

    mlemu.unity_catalog.ensure_schema("cat.s")
    mlemu.registry.register_files("cat.s.m", {"MLmodel": b"signature: {inputs: '[]', outputs: '[]'}\n"})
    assert mlemu.storage.walk_files("files", "/Models/cat")
    w.catalogs.delete("cat", force=True)
    with pytest.raises(ResourceDoesNotExist):
        w.catalogs.get("cat")
    assert mlemu.storage.walk_files("files", "/Models/cat") == []
    # a new catalog of the same name starts empty
    w.catalogs.create("cat")
    w.schemas.create("s", catalog_name="cat")
    assert list(w.registered_models.list(catalog_name="cat", schema_name="s")) == []


def test_information_schema_is_read_only(w, mlemu):
    from databricks.sdk.errors import InvalidParameterValue, PermissionDenied

    with pytest.raises(InvalidParameterValue):
        w.schemas.delete("main.information_schema")
    with pytest.raises(PermissionDenied):
        w.registered_models.create(catalog_name="main", schema_name="information_schema", name="m")


def test_list_pages(w, mlemu):
    for i in range(5):
        mlemu.unity_catalog.create_schema("main", f"s{i}")
    r = w.api_client.do("GET", "/api/2.1/unity-catalog/schemas",
                        query={"catalog_name": "main", "max_results": 3})
    assert len(r["schemas"]) == 3 and r["next_page_token"]
    r2 = w.api_client.do("GET", "/api/2.1/unity-catalog/schemas",
                         query={"catalog_name": "main", "max_results": 3,
                                "page_token": r["next_page_token"]})
    assert len(r2["schemas"]) == 3 and r2["next_page_token"]
    r3 = w.api_client.do("GET", "/api/2.1/unity-catalog/schemas",
                         query={"catalog_name": "main", "max_results": 3,
                                "page_token": r2["next_page_token"]})
    assert [s["name"] for s in r3["schemas"]] == ["s4"] and "next_page_token" not in r3
    # the SDK iterator walks every page
    assert len(list(w.schemas.list("main", max_results=2))) == 7


def test_negative_max_results_and_bad_token(w):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        w.api_client.do("GET", "/api/2.1/unity-catalog/catalogs", query={"max_results": -1})
    with pytest.raises(InvalidParameterValue, match="page token"):
        w.api_client.do("GET", "/api/2.1/unity-catalog/catalogs", query={"page_token": "garbage!"})


def test_same_state_over_http(mlemu, mlemu_server):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.catalogs.create("served")
    assert "served" in [c.name for c in w.catalogs.list()]
    assert mlemu.unity_catalog.get_catalog("served").name == "served"
