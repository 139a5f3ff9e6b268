"""Experiments through the real mlflow client: names are workspace paths, deletion frees the
name, rename moves the tree object, tags, search and the errors the client sees."""
from __future__ import annotations

import pytest

mlflow = pytest.importorskip("mlflow")
from mlflow import MlflowClient  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402


def _code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.error_code


def test_set_experiment_creates_it_in_the_workspace_tree(mlemu, home):
    from databricks.sdk import WorkspaceClient

    exp = mlflow.set_experiment(f"{home}/my_experiment")

    assert exp.name == f"{home}/my_experiment"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == f"dbfs:/databricks/mlflow-tracking/{exp.experiment_id}"
    assert exp.tags["mlflow.ownerEmail"] == mlemu.user.user_name
    assert exp.tags["mlflow.experimentType"] == "MLFLOW_EXPERIMENT"
    status = WorkspaceClient().api_client.do("GET", "/api/2.0/workspace/get-status",
                                             query={"path": f"{home}/my_experiment"})
    assert status["object_type"] == "MLFLOW_EXPERIMENT"  # (the SDK's enum lacks this value)
    # the wire flow of protocol.md §8 flow 1
    assert mlemu.calls.operations()[:3] == [
        "tracking.experiments.get-by-name", "tracking.experiments.create", "tracking.experiments.get"]
    assert mlemu.calls[0].error_code == "RESOURCE_DOES_NOT_EXIST"
    # a second set_experiment finds it by name
    assert mlflow.set_experiment(f"{home}/my_experiment").experiment_id == exp.experiment_id


def test_get_experiment_by_name_missing_is_none(mlemu, home):
    assert mlflow.get_experiment_by_name(f"{home}/nope") is None
    assert mlflow.get_experiment_by_name("/nope") is None
    call = mlemu.calls.assert_called("tracking.experiments.get-by-name", times=2)[0]
    assert call.status == 404


def test_relative_name_is_refused(mlemu):
    with pytest.raises(MlflowException) as e:
        mlflow.set_experiment("my_experiment")
    refused = mlemu.calls.assert_called("tracking.experiments.create", times=1)[0]
    assert refused.error_code == "INVALID_PARAMETER_VALUE"
    assert "must be an absolute path" in refused.response["message"]
    if mlflow.__version__.startswith("3."):
        assert _code(e) == "INVALID_PARAMETER_VALUE"
    # (mlflow 2.22 swallows the create error and fails on the follow-up experiments/get)
    with pytest.raises(MlflowException) as e:
        mlflow.create_experiment("relative/name")
    assert _code(e) == "INVALID_PARAMETER_VALUE"


def test_parent_folder_must_exist(mlemu):
    with pytest.raises(MlflowException) as e:
        mlflow.create_experiment("/Shared/team_experiments/fraud_detection")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
    assert "Parent directory /Shared/team_experiments does not exist." in e.value.message


def test_creating_outside_home_and_shared_is_permission_denied(mlemu):
    with pytest.raises(MlflowException) as e:
        mlflow.create_experiment("/top_level_experiment")
    assert _code(e) == "PERMISSION_DENIED"


def test_duplicate_name_is_resource_already_exists(mlemu, home):
    mlflow.create_experiment(f"{home}/dup")
    with pytest.raises(MlflowException) as e:
        mlflow.create_experiment(f"{home}/dup")
    assert _code(e) == "RESOURCE_ALREADY_EXISTS"


def test_custom_artifact_location_is_kept(mlemu, home):
    exp_id = mlflow.create_experiment(f"{home}/custom", artifact_location="dbfs:/mlflow/artifacts")
    assert mlflow.get_experiment(exp_id).artifact_location == "dbfs:/mlflow/artifacts"
    run = MlflowClient().create_run(exp_id)
    assert run.info.artifact_uri == f"dbfs:/mlflow/artifacts/{run.info.run_id}/artifacts"


def test_get_missing_experiment_id(mlemu):
    with pytest.raises(MlflowException) as e:
        mlflow.get_experiment("123456789")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"


def test_start_run_without_experiment_fails_outside_a_notebook(mlemu):
    """On Databricks there is no default experiment "0" for the `databricks` tracking URI.
    mlflow 3 sends the experiment id "None" (not an id: INVALID_PARAMETER_VALUE); mlflow 2.22
    sends "0" (an id no workspace object has: RESOURCE_DOES_NOT_EXIST)."""
    with pytest.raises(MlflowException) as e:
        mlflow.start_run()
    sent = mlemu.calls.filter("tracking.runs.create")[-1].request["experiment_id"]
    if sent == "0":
        assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
        assert "Node ID 0 does not exist" in e.value.message
    else:
        assert _code(e) == "INVALID_PARAMETER_VALUE"
        assert "experiment_id" in e.value.message
    assert mlflow.active_run() is None


def test_rename_moves_the_experiment(mlemu, home):
    from databricks.sdk import WorkspaceClient

    client = MlflowClient()
    exp_id = client.create_experiment(f"{home}/before")
    WorkspaceClient().workspace.mkdirs(f"{home}/sub")
    client.rename_experiment(exp_id, f"{home}/sub/after")

    assert client.get_experiment(exp_id).name == f"{home}/sub/after"
    assert mlflow.get_experiment_by_name(f"{home}/before") is None
    assert mlflow.get_experiment_by_name(f"{home}/sub/after").experiment_id == exp_id
    names = [o.path for o in WorkspaceClient().workspace.list(f"{home}/sub")]
    assert names == [f"{home}/sub/after"]

    with pytest.raises(MlflowException) as e:
        client.rename_experiment(exp_id, f"{home}/missing-folder/x")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"
    other = client.create_experiment(f"{home}/other")
    with pytest.raises(MlflowException) as e:
        client.rename_experiment(other, f"{home}/sub/after")
    assert _code(e) == "RESOURCE_ALREADY_EXISTS"


def test_delete_and_restore(mlemu, home):
    from databricks.sdk import WorkspaceClient

    client = MlflowClient()
    exp = mlflow.set_experiment(f"{home}/to_delete")
    with mlflow.start_run() as run:
        mlflow.log_param("p", 1)
    client.delete_experiment(exp.experiment_id)

    deleted = client.get_experiment(exp.experiment_id)
    assert deleted.lifecycle_stage == "deleted"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    # the experiment left the workspace tree
    assert [o.path for o in WorkspaceClient().workspace.list(home)] == []
    # get-by-name still answers with the deleted experiment (Databricks' documented rule) ...
    assert mlflow.get_experiment_by_name(f"{home}/to_delete").lifecycle_stage == "deleted"
    # ... so set_experiment refuses it client-side,
    with pytest.raises(MlflowException, match="Cannot set a deleted experiment"):
        mlflow.set_experiment(f"{home}/to_delete")
    # and new runs or logging into its runs are refused.
    with pytest.raises(MlflowException) as e:
        client.create_run(exp.experiment_id)
    assert _code(e) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        client.log_param(run.info.run_id, "q", 2)
    assert _code(e) == "INVALID_PARAMETER_VALUE"
    assert f"The run {run.info.run_id} must be in the 'active' state" in e.value.message
    assert client.search_runs([exp.experiment_id]) == []

    client.restore_experiment(exp.experiment_id)
    assert client.get_experiment(exp.experiment_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    assert [r.info.run_id for r in client.search_runs([exp.experiment_id])] == [run.info.run_id]


def test_deleted_experiment_name_can_be_reused_and_blocks_restore(mlemu, home):
    client = MlflowClient()
    first = client.create_experiment(f"{home}/reused")
    client.delete_experiment(first)
    second = client.create_experiment(f"{home}/reused")  # Databricks frees the name

    assert second != first
    assert mlflow.get_experiment_by_name(f"{home}/reused").experiment_id == second
    with pytest.raises(MlflowException) as e:
        client.restore_experiment(first)
    assert _code(e) == "RESOURCE_ALREADY_EXISTS"
    with pytest.raises(MlflowException) as e:
        client.delete_experiment(first)
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"


def test_experiment_tags(mlemu, experiment_id):
    client = MlflowClient()
    mlflow.set_experiment_tag("team", "fraud")
    client.set_experiment_tag(experiment_id, "stage", "dev")
    assert client.get_experiment(experiment_id).tags["team"] == "fraud"

    def delete_tag(key):  # MlflowClient.delete_experiment_tag exists from mlflow 3 on
        if hasattr(client, "delete_experiment_tag"):
            return client.delete_experiment_tag(experiment_id, key)
        from databricks.sdk import WorkspaceClient
        WorkspaceClient().api_client.do("POST", "/api/2.0/mlflow/experiments/delete-experiment-tag",
                                        body={"experiment_id": experiment_id, "key": key})

    delete_tag("team")
    tags = client.get_experiment(experiment_id).tags
    assert "team" not in tags and tags["stage"] == "dev"
    from databricks.sdk.errors import DatabricksError
    with pytest.raises((MlflowException, DatabricksError)) as e:
        delete_tag("team")
    assert _code(e) == "RESOURCE_DOES_NOT_EXIST"


def test_create_with_tags(mlemu, home):
    exp_id = mlflow.create_experiment(f"{home}/tagged", tags={"a": "1", "b": "2"})
    tags = mlflow.get_experiment(exp_id).tags
    assert tags["a"] == "1" and tags["b"] == "2"


def test_search_experiments(mlemu, home):
    client = MlflowClient()
    ids = {}
    for i, name in enumerate(["alpha", "beta", "gamma", "delta"]):
        mlemu.clock.freeze(1_700_000_000_000 + i * 1000)
        ids[name] = client.create_experiment(f"{home}/{name}", tags={"group": "odd" if i % 2 else "even"})
    client.delete_experiment(ids["delta"])

    def names(exps):
        return [e.name.rsplit("/", 1)[1] for e in exps]

    # default order: newest first; deleted ones hidden
    assert names(mlflow.search_experiments()) == ["gamma", "beta", "alpha"]
    assert names(mlflow.search_experiments(view_type=mlflow.entities.ViewType.DELETED_ONLY)) == ["delta"]
    assert len(mlflow.search_experiments(view_type=mlflow.entities.ViewType.ALL)) == 4
    assert names(mlflow.search_experiments(filter_string="name LIKE '%a'")) == ["gamma", "beta", "alpha"]
    assert names(mlflow.search_experiments(filter_string="name ILIKE '%/BETA'")) == ["beta"]
    assert names(mlflow.search_experiments(filter_string="tags.group = 'even'", order_by=["name"])) == [
        "alpha", "gamma"]
    assert names(mlflow.search_experiments(order_by=["name DESC"])) == ["gamma", "beta", "alpha"]
    assert names(mlflow.search_experiments(
        filter_string=f"creation_time >= {1_700_000_001_000}", order_by=["creation_time ASC"])) == [
        "beta", "gamma"]
    assert names(mlflow.search_experiments(
        filter_string=f"attribute.experiment_id IN ('{ids['alpha']}', '{ids['beta']}')",
        order_by=["name"])) == ["alpha", "beta"]
    # paging
    page1 = client.search_experiments(max_results=2, order_by=["name"])
    assert names(page1) == ["alpha", "beta"] and page1.token
    page2 = client.search_experiments(max_results=2, order_by=["name"], page_token=page1.token)
    assert names(page2) == ["gamma"] and page2.token is None

    with pytest.raises(MlflowException) as e:
        client.search_experiments(filter_string="params.x = 'y'")
    assert _code(e) == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException) as e:
        client.search_experiments(max_results=3001)
    assert _code(e) == "INVALID_PARAMETER_VALUE"


def test_sdk_sees_the_same_experiments(mlemu, home):
    from databricks.sdk import WorkspaceClient

    exp_id = mlflow.create_experiment(f"{home}/via-mlflow")
    w = WorkspaceClient()
    got = w.experiments.get_by_name(f"{home}/via-mlflow").experiment
    assert got.experiment_id == exp_id
    assert [e.experiment_id for e in w.experiments.search_experiments()] == [exp_id]


def test_state_is_isolated_between_tests_part_1(mlemu, home):
    mlflow.create_experiment(f"{home}/isolation")
    assert mlflow.get_experiment_by_name(f"{home}/isolation") is not None


def test_state_is_isolated_between_tests_part_2(mlemu, home):
    assert mlflow.get_experiment_by_name(f"{home}/isolation") is None
    assert mlflow.search_experiments() == []


def test_deleting_the_folder_deletes_its_experiments(mlemu, home):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.workspace.mkdirs(f"{home}/project")
    exp_id = mlflow.create_experiment(f"{home}/project/exp")
    w.workspace.delete(f"{home}/project", recursive=True)
    assert mlflow.get_experiment_by_name(f"{home}/project/exp").lifecycle_stage == "deleted"
    assert MlflowClient().get_experiment(exp_id).lifecycle_stage == "deleted"


def test_experiment_is_a_workspace_object_with_its_id(mlemu):
    from databricks.sdk import WorkspaceClient

    mlemu.workspace_files.mkdirs("/Shared/objs")
    exp_id = mlflow.create_experiment("/Shared/objs/exp")
    raw = WorkspaceClient().api_client.do("GET", "/api/2.0/workspace/get-status",
                                          query={"path": "/Shared/objs/exp"})
    assert raw["object_type"] == "MLFLOW_EXPERIMENT"
    assert str(raw["object_id"]) == exp_id
