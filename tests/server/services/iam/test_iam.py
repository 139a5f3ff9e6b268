"""Host metadata and the current user."""
from __future__ import annotations

import pytest
import requests

from tests.sdk_features import CONFIG_WORKSPACE_ID, CONFIG_WORKSPACE_ID_REASON


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


@pytest.mark.skipif(not CONFIG_WORKSPACE_ID, reason=CONFIG_WORKSPACE_ID_REASON)
def test_sdk_picks_up_workspace_id(mlemu):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.current_user.me()
    assert w.config.workspace_id == mlemu.workspace_id


@pytest.mark.skipif(not CONFIG_WORKSPACE_ID, reason=CONFIG_WORKSPACE_ID_REASON)
def test_every_sdk_client_probes_and_record_probes_shows_each_probe(mlemu):
    """databricks-sdk caches no host metadata (0.162-0.167): every Config asks, and the answer
    (bytes encoded once per host) stays the same; the journal keeps the probes on request."""
    from databricks.sdk import WorkspaceClient

    mlemu.calls.record_probes = True
    for _ in range(3):
        w = WorkspaceClient()
        assert (w.config.workspace_id, w.config.cloud.value) == (mlemu.workspace_id, "AWS")
    probes = mlemu.calls.filter(operation="iam.host-metadata")
    assert len(probes) == 3 and all(c.response == probes[0].response for c in probes)
    assert probes[0].response == {"workspace_id": mlemu.workspace_id, "cloud": "aws",
                                  "oidc_endpoint": f"{mlemu.host}/oidc"}


def test_probes_are_left_out_of_the_journal_by_default(mlemu):
    from databricks.sdk import WorkspaceClient

    WorkspaceClient().current_user.me()
    assert [c.operation for c in mlemu.calls] == ["iam.current-user.me"]
