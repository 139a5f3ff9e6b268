"""The Workspace: determinism, clock, auth, journal — through the real SDK and raw HTTP."""
from __future__ import annotations

import datetime as dt

import pytest
import requests

import mlemu
from mlemu import Workspace


def _mkdirs_and_list(ws: Workspace) -> list[dict]:
    ws.clock.freeze(1_700_000_000_000)  # time is the other input; pin it
    with mlemu.emulate(ws):
        from databricks.sdk import WorkspaceClient

        w = WorkspaceClient()
        w.workspace.mkdirs("/Shared/a/b")
        w.workspace.mkdirs("/Shared/c")
        return [o.as_dict() for o in w.workspace.list("/Shared")]


def test_same_seed_gives_byte_identical_state():
    first = _mkdirs_and_list(Workspace(seed=42))
    second = _mkdirs_and_list(Workspace(seed=42))
    assert first == second
    assert [o["path"] for o in first] == ["/Shared/a", "/Shared/c"]


def test_different_seeds_give_different_ids():
    a, b = Workspace(seed=1), Workspace(seed=2)
    assert a.ids.run_id() != b.ids.run_id()
    assert Workspace(seed=1).token == a.token


def test_ids_have_databricks_shapes():
    ws = Workspace()
    assert len(ws.ids.run_id()) == 32 and int(ws.ids.run_id(), 16) >= 0
    assert ws.ids.experiment_id().isdigit()
    assert ws.ids.logged_model_id().startswith("m-")


def test_clock_follows_freezegun():
    freezegun = pytest.importorskip("freezegun")
    ws = Workspace()
    with freezegun.freeze_time("2024-01-02 03:04:05"):
        expected = int(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc).timestamp() * 1000)
        assert ws.clock.now_ms() == expected


def test_clock_freeze_and_advance():
    ws = Workspace()
    ws.clock.freeze(1_000)
    ws.clock.advance(2.5)
    assert ws.clock.now_ms() == 3_500
    ws.clock.unfreeze()
    assert ws.clock.now_ms() > 1_600_000_000_000


def test_frozen_clock_stamps_created_objects(mlemu):
    from databricks.sdk import WorkspaceClient

    mlemu.clock.freeze(1_700_000_000_000)
    WorkspaceClient().workspace.mkdirs("/Shared/stamped")
    status = WorkspaceClient().workspace.get_status("/Shared/stamped")
    assert status.created_at == 1_700_000_000_000


def test_missing_token_is_unauthenticated_and_changes_nothing(mlemu):
    r = requests.post(f"{mlemu.host}/api/2.0/workspace/mkdirs", json={"path": "/Shared/x"})
    assert r.status_code == 401
    assert r.json()["error_code"] == "UNAUTHENTICATED"
    assert not mlemu.workspace_files.exists("/Shared/x")


def test_unknown_token_is_refused_by_the_sdk_and_changes_nothing(mlemu, monkeypatch):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import PermissionDenied

    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-not-a-real-token")
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        WorkspaceClient().workspace.mkdirs("/Shared/x")
    assert not mlemu.workspace_files.exists("/Shared/x")


def test_added_token_is_accepted(mlemu, monkeypatch):
    from databricks.sdk import WorkspaceClient

    monkeypatch.setenv("DATABRICKS_TOKEN", mlemu.add_token())
    assert WorkspaceClient().current_user.me().user_name == mlemu.user.user_name


def test_journal_records_operation_request_status_response(mlemu):
    from databricks.sdk import WorkspaceClient

    WorkspaceClient().workspace.mkdirs("/Shared/j")
    (call,) = mlemu.calls.assert_called("workspace.mkdirs", times=1)
    assert call.method == "POST"
    assert call.path == "/api/2.0/workspace/mkdirs"
    assert call.request == {"path": "/Shared/j"}
    assert (call.status, call.response) == (200, {})
    # The SDK's host-metadata probe is left out unless asked for.
    assert "iam.host-metadata" not in mlemu.calls.operations()


def test_journal_records_errors(mlemu):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import NotFound

    with pytest.raises(NotFound):
        WorkspaceClient().workspace.get_status("/Shared/missing")
    (call,) = mlemu.calls.filter(operation="workspace.get-status")
    assert call.status == 404 and call.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(AssertionError, match="expected 3"):
        mlemu.calls.assert_called("workspace.get-status", times=3)


def test_workspace_id_in_host_metadata_and_response_header(mlemu):
    r = requests.get(f"{mlemu.host}/.well-known/databricks-config")
    assert r.json()["workspace_id"] == mlemu.workspace_id
    assert r.headers["x-databricks-org-id"] == mlemu.workspace_id


def test_services_state_is_created_lazily():
    ws = Workspace()
    assert "workspace_files" not in vars(ws)
    ws.workspace_files.mkdirs("/Shared/lazy")
    assert "workspace_files" in vars(ws)
    with pytest.raises(AttributeError):
        ws.no_such_service
