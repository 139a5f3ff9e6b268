"""Third-party services through the plugin hooks, with the example plugin in plugins/."""
from __future__ import annotations

import pathlib
import sys

import pytest

import mlemu.server.plugins
from mlemu.server.hookspecs import hookimpl

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "plugins"))
import mlemu_secrets  # noqa: E402


@pytest.fixture
def with_secrets_plugin():
    mlemu.server.plugins.register(mlemu_secrets, name="test-secrets")
    yield
    mlemu.server.plugins.unregister(mlemu_secrets)


def test_plugin_service_through_the_sdk(with_secrets_plugin, mlemu):
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.errors import ResourceAlreadyExists, ResourceDoesNotExist

    w = WorkspaceClient()
    w.secrets.create_scope("ml")
    w.secrets.put_secret("ml", "api-key", string_value="s3cr3t")
    assert [s.key for s in w.secrets.list_secrets("ml")] == ["api-key"]
    import base64
    assert base64.b64decode(w.secrets.get_secret("ml", "api-key").value) == b"s3cr3t"
    with pytest.raises(ResourceAlreadyExists):
        w.secrets.create_scope("ml")
    with pytest.raises(ResourceDoesNotExist):
        w.secrets.get_secret("nope", "x")
    mlemu.calls.assert_called("secrets.put", times=1)


def test_workspace_created_hook_seeds_state():
    from mlemu import Workspace

    class Seeder:
        @hookimpl
        def mlemu_workspace_created(self, workspace):
            workspace.workspace_files.mkdirs("/Shared/seeded")

    seeder = Seeder()
    mlemu.server.plugins.register(seeder, name="seeder")
    try:
        assert Workspace().workspace_files.exists("/Shared/seeded")
    finally:
        mlemu.server.plugins.unregister(seeder)
    assert not Workspace().workspace_files.exists("/Shared/seeded")


def test_unregistered_plugin_routes_are_gone(mlemu):
    import requests
    r = requests.get(f"{mlemu.host}/api/2.0/secrets/scopes/list",
                     headers={"Authorization": f"Bearer {mlemu.token}"})
    assert r.json()["error_code"] == "ENDPOINT_NOT_FOUND"
