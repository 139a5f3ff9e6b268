"""dbutils.secrets over the Secrets API plugin (plugins/mlemu_secrets), and the clear error
without it."""
from __future__ import annotations

import pathlib
import sys

import pytest

import mlemu.server.plugins
from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookFailed, NotEmulated, SecretError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "plugins"))
import mlemu_secrets  # noqa: E402


@pytest.fixture
def secrets_plugin():
    mlemu.server.plugins.register(mlemu_secrets, name="notebook-secrets")
    yield
    mlemu.server.plugins.unregister(mlemu_secrets)


def test_secrets_through_the_plugin(secrets_plugin, mlemu, write_notebook):
    from databricks.sdk import WorkspaceClient

    w = WorkspaceClient()
    w.secrets.create_scope("ml")
    w.secrets.put_secret("ml", "api-key", string_value="s3cr3t-value")
    w.secrets.put_secret("ml", "blob", bytes_value="AAEC")
    path = write_notebook("S.py", """
        key = dbutils.secrets.get(scope="ml", key="api-key")
        raw = dbutils.secrets.getBytes("ml", "blob")
        print("the key is", key)
        facts = ([s.name for s in dbutils.secrets.listScopes()], [m.key for m in dbutils.secrets.list("ml")],
                 list(raw), len(key))
        dbutils.notebook.exit(repr(facts))
    """)
    run = notebooks.run(path)
    assert eval(run.exit_value) == (["ml"], ["api-key", "blob"], [0, 1, 2], 12)  # noqa: S307
    assert run.output == "the key is [REDACTED]\n"


@pytest.mark.parametrize("cell, message", [
    ('dbutils.secrets.get("ml", "nope")', "Secret does not exist with scope: ml and key: nope"),
    ('dbutils.secrets.list("nope")', "Scope nope does not exist"),
])
def test_missing_secrets(secrets_plugin, mlemu, write_notebook, cell, message):
    from databricks.sdk import WorkspaceClient

    WorkspaceClient().secrets.create_scope("ml")
    with pytest.raises(NotebookFailed, match=message) as info:
        notebooks.run(write_notebook("S.py", cell))
    assert isinstance(info.value.error, SecretError)


def test_without_the_plugin_the_error_says_how_to_add_it(mlemu, write_notebook):
    with pytest.raises(NotebookFailed, match="pip install ./plugins/mlemu_secrets") as info:
        notebooks.run(write_notebook("S.py", 'dbutils.secrets.get("ml", "k")'))
    assert isinstance(info.value.error, NotEmulated)
