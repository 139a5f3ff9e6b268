"""Host metadata and the current user."""
from __future__ import annotations

import requests


def test_current_user(mlemu):
    from databricks.sdk import WorkspaceClient

    me = WorkspaceClient().current_user.me()
    assert me.user_name == "user@company.com"
    assert me.active is True
    assert me.emails[0].value == me.user_name


def test_host_metadata_needs_no_auth_and_names_the_workspace(mlemu):
    r = requests.get(f"{mlemu.host}/.well-known/databricks-config")
    assert r.status_code == 200
    assert r.json()["workspace_id"] == mlemu.workspace_id
    assert "{account_id}" not in r.json()["oidc_endpoint"]


def test_sdk_picks_up_workspace_id(mlemu):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.current_user.me()
    assert w.config.workspace_id == mlemu.workspace_id
