"""The pytest plugin, run as a user would: in a separate pytest session (pytester)."""
from __future__ import annotations

import os

import pytest

import databricks.sdk  # noqa: F401
import requests  # noqa: F401

import mlemu.toolkit.emulation  # noqa: F401
import mlemu.server.plugins
import mlemu.server.transport.inprocess  # noqa: F401

pytest_plugins = ["pytester"]

# pytester restores sys.modules after each in-process run: import the clients and build the
# app (importing every service) out here, so inner sessions share the classes the app uses.
mlemu.server.plugins.app()


def test_fixture_sets_env_and_restores_it(pytester, monkeypatch):
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", "stray-oauth-app")
    monkeypatch.setenv("DATABRICKS_CONFIG_PROFILE", "prod")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///elsewhere.db")
    pytester.makepyfile("""
        import os

        def test_env(mlemu):
            assert os.environ["DATABRICKS_HOST"] == mlemu.host
            assert os.environ["DATABRICKS_HOST"].startswith("https://")
            assert os.environ["DATABRICKS_TOKEN"] == mlemu.token
            assert "DATABRICKS_CLIENT_ID" not in os.environ
            assert "DATABRICKS_CONFIG_PROFILE" not in os.environ
            assert os.environ["MLFLOW_TRACKING_URI"] == "databricks"
            assert os.environ["MLFLOW_REGISTRY_URI"] == "databricks-uc"

        def test_after():
            assert os.environ["DATABRICKS_CLIENT_ID"] == "stray-oauth-app"
            assert os.environ["MLFLOW_TRACKING_URI"] == "sqlite:///elsewhere.db"
            assert "DATABRICKS_HOST" not in os.environ
    """)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_databrickscfg_is_never_read(pytester, monkeypatch, tmp_path):
    (tmp_path / ".databrickscfg").write_text(
        "[DEFAULT]\nhost = https://real.cloud.databricks.com\ntoken = dapi-real\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    pytester.makepyfile("""
        from databricks.sdk import WorkspaceClient

        def test_cfg(mlemu):
            w = WorkspaceClient()
            assert w.config.host == mlemu.host
            assert w.current_user.me().user_name == mlemu.user.user_name
    """)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_tests_are_isolated(pytester):
    pytester.makepyfile("""
        from databricks.sdk import WorkspaceClient

        def test_one(mlemu):
            WorkspaceClient().workspace.mkdirs("/Shared/only-in-one")
            assert mlemu.workspace_files.exists("/Shared/only-in-one")

        def test_two(mlemu):
            names = [o.path for o in WorkspaceClient().workspace.list("/Shared")]
            assert names == []
            assert mlemu.calls.operations() == ["workspace.list"]
    """)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_marker_configures_the_workspace(pytester):
    pytester.makepyfile("""
        import pytest
        from databricks.sdk import WorkspaceClient

        @pytest.mark.mlemu(user_name="ada@example.com", workspace_id="42", seed=9)
        def test_marked(mlemu):
            assert WorkspaceClient().current_user.me().user_name == "ada@example.com"
            assert mlemu.workspace_id == "42"
    """)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_internal_error_fails_the_test_with_its_traceback(pytester):
    pytester.makepyfile("""
        import requests
        from mlemu.server.services.workspace_files.state import WorkspaceFiles

        def test_bug(mlemu, monkeypatch):
            monkeypatch.setattr(WorkspaceFiles, "mkdirs", lambda self, path: 1 / 0)
            try:
                requests.post(mlemu.host + "/api/2.0/workspace/mkdirs", json={"path": "/Shared/x"},
                              headers={"Authorization": "Bearer " + mlemu.token})
            except ZeroDivisionError:
                pass  # swallowed by the code under test: the fixture must still report it
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*mlemu hit an internal error*", "*ZeroDivisionError*"])


def test_emulate_works_as_decorator_outside_pytest():
    import mlemu

    @mlemu.emulate(user_name="dec@example.com")
    def job():
        from databricks.sdk import WorkspaceClient
        return WorkspaceClient().current_user.me().user_name, os.environ["DATABRICKS_HOST"]

    before = os.environ.get("DATABRICKS_HOST")
    user, host = job()
    assert user == "dec@example.com"
    assert host.endswith(".mlemu.invalid")
    assert os.environ.get("DATABRICKS_HOST") == before  # restored exactly


@pytest.mark.parametrize("n", range(2))
def test_fixture_setup_is_cheap(mlemu, n):
    # Not a timing assertion (bench/ measures it): just that no service state was built eagerly.
    assert "tracking" not in vars(mlemu)
