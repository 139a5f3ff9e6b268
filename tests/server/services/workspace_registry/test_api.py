"""The workspace model registry through ``MlflowClient`` (tags, search, rename, delete) and the
SDK's ``w.model_registry`` (Databricks views, transition requests, comments)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.mlemu(registry_uri="databricks")

MLMODEL = b"flavors: {}\n"


@pytest.fixture
def client(mlemu):
    from mlflow import MlflowClient
    return MlflowClient()


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


@pytest.fixture
def two_versions(mlemu):
    for _ in range(2):
        mlemu.workspace_registry.register_files("fraud", {"MLmodel": MLMODEL})
    return "fraud"


def test_tags_descriptions_rename_and_delete(client, two_versions):
    from mlflow.exceptions import MlflowException

    client.set_registered_model_tag("fraud", "team", "risk")
    client.set_model_version_tag("fraud", "2", "validated", "yes")
    client.update_registered_model("fraud", description="fraud scorer")
    client.update_model_version("fraud", 2, description="second")
    rm = client.get_registered_model("fraud")
    assert (rm.tags, rm.description) == ({"team": "risk"}, "fraud scorer")
    mv = client.get_model_version("fraud", 2)
    assert (mv.tags, mv.description) == ({"validated": "yes"}, "second")
    client.delete_model_version_tag("fraud", "2", "validated")
    client.delete_registered_model_tag("fraud", "team")
    assert client.get_registered_model("fraud").tags == {}
    with pytest.raises(MlflowException) as e:
        client.delete_registered_model_tag("fraud", "team")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    client.rename_registered_model("fraud", "fraud_v2")
    assert client.get_registered_model("fraud_v2").name == "fraud_v2"
    assert [v.name for v in client.search_model_versions("name='fraud_v2'")] == ["fraud_v2"] * 2
    client.delete_model_version("fraud_v2", 1)
    assert [v.version for v in client.search_model_versions("name='fraud_v2'")] == ["2"]
    client.delete_registered_model("fraud_v2")
    with pytest.raises(MlflowException) as e:
        client.get_registered_model("fraud_v2")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_names_are_flat_and_unique(client):
    from mlflow.exceptions import MlflowException

    client.create_registered_model("flat_name", tags={"a": "1"}, description="d")
    with pytest.raises(MlflowException) as e:
        client.create_registered_model("flat_name")
    assert e.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_search_filters_and_order(client, mlemu):
    for name in ("alpha", "beta", "alphabet"):
        mlemu.workspace_registry.register_files(name, {"MLmodel": MLMODEL})
    client.set_registered_model_tag("beta", "team", "x")
    names = lambda models: [m.name for m in models]  # noqa: E731
    assert names(client.search_registered_models()) == ["alpha", "alphabet", "beta"]
    assert names(client.search_registered_models("name LIKE 'alpha%'")) == ["alpha", "alphabet"]
    assert names(client.search_registered_models("name ILIKE 'ALPHA'")) == ["alpha"]
    assert names(client.search_registered_models("tags.team = 'x'")) == ["beta"]
    assert names(client.search_registered_models(order_by=["name DESC"])) == ["beta", "alphabet", "alpha"]
    page = client.search_registered_models(max_results=2)
    assert names(page) == ["alpha", "alphabet"] and page.token
    assert names(client.search_registered_models(max_results=2, page_token=page.token)) == ["beta"]
    from mlflow.exceptions import MlflowException
    with pytest.raises(MlflowException) as e:
        client.search_registered_models("owner = 'me'")
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_aliases_are_refused_client_side(client, two_versions):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="unsupported for models in the Workspace Model Registry"):
        client.set_registered_model_alias("fraud", "champion", 1)


def test_sdk_databricks_views_and_stages(w, two_versions):
    m = w.model_registry.get_model("fraud").registered_model_databricks
    assert (m.name, m.permission_level.value, [v.version for v in m.latest_versions]) == \
        ("fraud", "CAN_MANAGE", ["2"])
    assert [x.name for x in w.model_registry.list_models()] == ["fraud"]
    assert [x.name for x in w.model_registry.search_models(filter="name = 'fraud'")] == ["fraud"]
    assert [v.version for v in w.model_registry.search_model_versions(filter="name='fraud'")] == ["2", "1"]
    moved = w.model_registry.transition_stage("fraud", "1", "Production", False,
                                              comment="go").model_version_databricks
    assert moved.current_stage == "Production"
    latest = w.model_registry.get_latest_versions("fraud", stages=["Production"])
    assert [v.version for v in latest] == ["1"]
    assert w.model_registry.get_model_version_download_uri("fraud", "1").artifact_uri.startswith(
        "dbfs:/databricks/mlflow-registry/")


def test_sdk_transition_requests(w, two_versions):
    from databricks.sdk.errors import NotFound, ResourceAlreadyExists

    r = w.model_registry.create_transition_request("fraud", "2", "Production", comment="ship it")
    assert (r.request.to_stage, r.request.comment) == ("Production", "ship it")
    with pytest.raises(ResourceAlreadyExists):
        w.model_registry.create_transition_request("fraud", "2", "Production")
    w.model_registry.create_transition_request("fraud", "2", "Staging")
    open_ = w.model_registry.list_transition_requests("fraud", "2")
    assert sorted(a.to_stage for a in open_) == ["Production", "Staging"]

    w.model_registry.transition_stage("fraud", "1", "Production", False)
    approved = w.model_registry.approve_transition_request("fraud", "2", "Production", True).activity
    assert (approved.activity_type.value, approved.from_stage, approved.to_stage) == \
        ("APPROVED_REQUEST", "None", "Production")
    stages = {v.version: v.current_stage for v in w.model_registry.search_model_versions(filter="name='fraud'")}
    assert stages == {"2": "Production", "1": "Archived"}

    rejected = w.model_registry.reject_transition_request("fraud", "2", "Staging", comment="no").activity
    assert rejected.activity_type.value == "REJECTED_REQUEST"
    assert list(w.model_registry.list_transition_requests("fraud", "2")) == []
    with pytest.raises(NotFound):
        w.model_registry.approve_transition_request("fraud", "2", "Staging", False)

    w.model_registry.create_transition_request("fraud", "1", "Staging")
    me = w.current_user.me().user_name
    cancelled = w.model_registry.delete_transition_request("fraud", "1", "Staging", me).activity
    assert cancelled.activity_type.value == "CANCELLED_REQUEST"


def test_sdk_comments(w, two_versions):
    from databricks.sdk.errors import NotFound

    c = w.model_registry.create_comment("fraud", "1", "looks good").comment
    assert c.comment == "looks good" and c.id
    assert w.model_registry.update_comment(c.id, "edited").comment.comment == "edited"
    w.model_registry.delete_comment(c.id)
    with pytest.raises(NotFound):
        w.model_registry.update_comment(c.id, "again")


def test_module_marker_picks_the_workspace_registry(mlemu):
    import mlflow

    assert mlflow.get_registry_uri() == "databricks"


@pytest.mark.mlemu(registry_uri="databricks-uc")
def test_marker_can_pick_unity_catalog_back(mlemu):
    import mlflow

    assert mlflow.get_registry_uri() == "databricks-uc"


def test_version_search_applies_and_validates_order_by(client, mlemu):
    """``model-versions/search`` orders as ``registered-models/search`` does (issue 20, item 2):
    by the given columns, then name ASC and version DESC; a bad column is refused."""
    from mlflow.exceptions import MlflowException

    for name in ("b-model", "a-model", "b-model", "a-model", "b-model"):
        mlemu.clock.advance(1)
        mlemu.workspace_registry.register_files(name, {"MLmodel": MLMODEL})
    mlemu.clock.advance(1)
    client.update_model_version("a-model", 1, description="touched last")

    def found(order_by):
        return [(v.name, v.version) for v in client.search_model_versions(order_by=order_by)]

    assert found(None) == [("a-model", "1"), ("b-model", "3"), ("a-model", "2"), ("b-model", "2"),
                           ("b-model", "1")]  # last updated first
    assert found(["name DESC"]) == [("b-model", "3"), ("b-model", "2"), ("b-model", "1"),
                                    ("a-model", "2"), ("a-model", "1")]
    assert found(["version_number ASC"]) == [("a-model", "1"), ("b-model", "1"), ("a-model", "2"),
                                             ("b-model", "2"), ("b-model", "3")]
    assert found(["creation_timestamp"]) == [("b-model", "1"), ("a-model", "1"), ("b-model", "2"),
                                             ("a-model", "2"), ("b-model", "3")]
    pages, token = [], None
    while True:
        page = client.search_model_versions(order_by=["name ASC"], max_results=2, page_token=token)
        pages += [(v.name, v.version) for v in page]
        token = page.token
        if not token:
            break
    assert pages == [("a-model", "2"), ("a-model", "1"), ("b-model", "3"), ("b-model", "2"), ("b-model", "1")]
    for bad in (["bogus DESC"], ["name SIDEWAYS"], ["name", "name DESC"]):
        with pytest.raises(MlflowException) as e:
            client.search_model_versions(order_by=bad)
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
