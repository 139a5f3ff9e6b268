"""The Workspace API through databricks-sdk's ``w.workspace``."""
from __future__ import annotations

import pytest


@pytest.fixture
def w(mlemu):
    from databricks.sdk import WorkspaceClient
    return WorkspaceClient()


def test_home_and_shared_exist(w, mlemu):
    from databricks.sdk.service.workspace import ObjectType

    for path in ("/Shared", "/Users", mlemu.user.home):
        assert w.workspace.get_status(path).object_type == ObjectType.DIRECTORY


def test_mkdirs_creates_parents_and_is_idempotent(w):
    w.workspace.mkdirs("/Shared/team/a/b")
    w.workspace.mkdirs("/Shared/team/a/b")
    assert [o.path for o in w.workspace.list("/Shared/team")] == ["/Shared/team/a"]
    assert [o.path for o in w.workspace.list("/Shared/team/a")] == ["/Shared/team/a/b"]


def test_mkdirs_in_home(w, mlemu):
    w.workspace.mkdirs(f"{mlemu.user.home}/proj")
    assert w.workspace.get_status(f"{mlemu.user.home}/proj").path == f"{mlemu.user.home}/proj"


def test_other_users_folders_are_protected(w, mlemu):
    from databricks.sdk.errors import PermissionDenied

    with pytest.raises(PermissionDenied) as e:
        w.workspace.mkdirs("/Users/someone.else@company.com/x")
    assert e.value.error_code == "DIRECTORY_PROTECTED"
    assert not mlemu.workspace_files.exists("/Users/someone.else@company.com")


def test_protected_folders_cannot_be_deleted(w):
    from databricks.sdk.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        w.workspace.delete("/Shared")


def test_relative_path_is_invalid(w):
    from databricks.sdk.errors import InvalidParameterValue

    with pytest.raises(InvalidParameterValue):
        w.workspace.mkdirs("Shared/x")
    with pytest.raises(InvalidParameterValue):
        w.workspace.mkdirs("/Shared/../Users/x")


def test_get_status_of_missing_path(w):
    from databricks.sdk.errors import ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist, match=r"Path \(/Shared/nope\) doesn't exist"):
        w.workspace.get_status("/Shared/nope")


def test_delete_non_empty_needs_recursive(w, mlemu):
    from databricks.sdk.errors import BadRequest

    w.workspace.mkdirs("/Shared/d/e")
    with pytest.raises(BadRequest) as e:
        w.workspace.delete("/Shared/d")
    assert e.value.error_code == "DIRECTORY_NOT_EMPTY"
    assert mlemu.workspace_files.exists("/Shared/d/e")
    w.workspace.delete("/Shared/d", recursive=True)
    assert not mlemu.workspace_files.exists("/Shared/d")


def test_list_empty_folder(w):
    w.workspace.mkdirs("/Shared/empty")
    assert list(w.workspace.list("/Shared/empty")) == []
