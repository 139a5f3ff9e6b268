"""The permissions API through the real SDK: experiments, workspace-registry models and folders
(serving endpoints are covered with their endpoint tests)."""
from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import InvalidParameterValue, NotFound
from databricks.sdk.service import ml, workspace


@pytest.fixture
def w(mlemu) -> WorkspaceClient:
    return WorkspaceClient()


def _levels(perms) -> dict[str, str]:
    out = {}
    for acl in perms.access_control_list:
        who = acl.user_name or acl.group_name or acl.service_principal_name
        out[who] = ",".join(p.permission_level.value for p in acl.all_permissions)
    return out


def test_experiment_permissions_default_set_update(w, mlemu):
    exp = w.experiments.create_experiment(name="/Shared/perm").experiment_id
    perms = w.experiments.get_permissions(exp)
    assert perms.object_id == f"/experiments/{exp}"
    assert perms.object_type == "mlflowExperiment"
    assert _levels(perms) == {mlemu.user.user_name: "CAN_MANAGE", "admins": "CAN_MANAGE"}
    admins = next(a for a in perms.access_control_list if a.group_name == "admins")
    assert admins.all_permissions[0].inherited is True

    w.experiments.update_permissions(exp, access_control_list=[
        ml.ExperimentAccessControlRequest(group_name="data-scientists",
                                          permission_level=ml.ExperimentPermissionLevel.CAN_EDIT)])
    assert _levels(w.experiments.get_permissions(exp)) == {
        mlemu.user.user_name: "CAN_MANAGE", "data-scientists": "CAN_EDIT", "admins": "CAN_MANAGE"}

    perms = w.experiments.set_permissions(exp, access_control_list=[
        ml.ExperimentAccessControlRequest(service_principal_name="ci-bot",
                                          permission_level=ml.ExperimentPermissionLevel.CAN_READ)])
    assert _levels(perms) == {"ci-bot": "CAN_READ", "admins": "CAN_MANAGE"}  # set replaces
    levels = [lv.permission_level.value for lv in w.experiments.get_permission_levels(exp).permission_levels]
    assert levels == ["CAN_MANAGE", "CAN_EDIT", "CAN_READ"]


def test_a_level_of_another_object_type_is_refused_and_nothing_is_written(w):
    exp = w.experiments.create_experiment(name="/Shared/perm2").experiment_id
    with pytest.raises(InvalidParameterValue, match="CAN_QUERY is not supported"):
        w.api_client.do("PATCH", f"/api/2.0/permissions/experiments/{exp}", body={"access_control_list": [
            {"group_name": "a", "permission_level": "CAN_READ"},
            {"group_name": "b", "permission_level": "CAN_QUERY"}]})
    assert "a" not in _levels(w.experiments.get_permissions(exp))


def test_a_principal_is_required(w):
    exp = w.experiments.create_experiment(name="/Shared/perm3").experiment_id
    with pytest.raises(InvalidParameterValue, match="exactly one of user_name"):
        w.api_client.do("PUT", f"/api/2.0/permissions/experiments/{exp}",
                        body={"access_control_list": [{"permission_level": "CAN_READ"}]})


def test_missing_objects_are_not_found(w):
    with pytest.raises(NotFound):
        w.experiments.get_permissions("123456789")
    with pytest.raises(NotFound):
        w.model_registry.get_permissions("0123456789abcdef")
    with pytest.raises(NotFound):
        w.serving_endpoints.get_permissions("no-such-endpoint-id")


def test_workspace_registry_model_permissions(w):
    model = w.model_registry.create_model(name="churn").registered_model
    detail = w.model_registry.get_model(name="churn").registered_model_databricks
    perms = w.model_registry.update_permissions(detail.id, access_control_list=[
        ml.RegisteredModelAccessControlRequest(
            group_name="release-managers",
            permission_level=ml.RegisteredModelPermissionLevel.CAN_MANAGE_PRODUCTION_VERSIONS)])
    assert model.name == "churn"
    assert perms.object_type == "registered-model"
    assert _levels(perms)["release-managers"] == "CAN_MANAGE_PRODUCTION_VERSIONS"


def test_folder_permissions_through_the_generic_api(w, mlemu):
    w.workspace.mkdirs("/Shared/team")
    oid = str(w.workspace.get_status("/Shared/team").object_id)
    w.workspace.set_permissions("directories", oid, access_control_list=[
        workspace.WorkspaceObjectAccessControlRequest(
            group_name="users", permission_level=workspace.WorkspaceObjectPermissionLevel.CAN_RUN)])
    perms = w.permissions.get("directories", oid)
    assert perms.object_type == "directory"
    assert _levels(perms) == {"users": "CAN_RUN", "admins": "CAN_MANAGE"}
    levels = w.permissions.get_permission_levels("directories", oid).permission_levels
    assert [lv.permission_level.value for lv in levels] == ["CAN_MANAGE", "CAN_EDIT", "CAN_RUN", "CAN_READ"]
    assert mlemu.calls.filter("permissions.set")


def test_unsupported_object_type_is_invalid(w):
    with pytest.raises(InvalidParameterValue, match="not supported"):
        w.permissions.get("clusters", "0123-456789-abc")


def test_warehouse_permissions(w):
    from databricks.sdk.service import sql

    warehouse = next(iter(w.warehouses.list())).id
    perms = w.warehouses.update_permissions(warehouse, access_control_list=[
        sql.WarehouseAccessControlRequest(group_name="analysts", permission_level=sql.WarehousePermissionLevel.CAN_USE)])
    assert _levels(perms)["analysts"] == "CAN_USE"
    with pytest.raises(NotFound):
        w.warehouses.get_permissions("0000000000000000")
