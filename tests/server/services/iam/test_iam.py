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


def _probe(ws, **kw):
    return ws.handle("GET", "/.well-known/databricks-config", **kw)


def test_a_plain_probe_gets_exactly_what_the_full_path_answers(mlemu):
    """A plain probe is answered without building a request; a journalled one goes the whole
    way (routing, handler, rendering): status, headers and bytes are the same."""
    quick = _probe(mlemu, base_url="https://other.example")
    mlemu.calls.record_probes = True
    full = _probe(mlemu, base_url="https://other.example")
    assert quick == full and quick[0] == 200
    assert list(quick[1]) == list(full[1])  # the same header order too
    assert [c.operation for c in mlemu.calls] == ["iam.host-metadata"]


def test_a_fault_on_the_probe_still_fires(mlemu):
    mlemu.inject_fault("iam.host-metadata", status=503, times=1)
    assert _probe(mlemu)[0] == 503
    assert _probe(mlemu)[0] == 200


def test_request_hooks_still_see_every_probe(mlemu):
    import mlemu as package
    from mlemu.server import plugins

    seen = []

    class Counter:
        @package.hookimpl
        def mlemu_request_seen(self, workspace, method, path, operation, status):
            seen.append((operation, status))

    counter = Counter()
    plugins.manager().register(counter)
    try:
        _probe(mlemu)
    finally:
        plugins.manager().unregister(counter)
    assert seen == [("iam.host-metadata", 200)]


def test_a_probe_with_a_query_string_takes_the_full_path_to_the_same_answer(mlemu):
    assert _probe(mlemu, query_string="x=1") == _probe(mlemu)
