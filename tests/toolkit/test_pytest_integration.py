"""The pytest side of the toolkit, as a user's suite sees it (a separate pytest process):
``--mlemu-keep-failed``, the session server for subprocesses, and pytest-xdist workers."""
from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# imported once here: pytester restores sys.modules after each test (numpy cannot load twice)
mlflow = pytest.importorskip("mlflow")


def test_keep_failed_exports_the_failed_tests_workspace(pytester):
    pytest.importorskip("mlflow")
    pytester.makepyfile(test_user="""
        import mlflow

        def test_fails(mlemu):
            mlflow.set_experiment("/Shared/kept")
            with mlflow.start_run(run_name="the-run"):
                mlflow.log_metric("loss", 0.25)
            assert False, "boom"

        def test_passes(mlemu):
            mlflow.set_experiment("/Shared/not-kept")
    """)
    keep = pytester.path / "kept"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--mlemu-keep-failed={keep}")
    result.assert_outcomes(passed=1, failed=1)
    [path] = sorted(keep.iterdir())
    assert path.name == "test_user.py__test_fails.zip"

    import mlflow
    import mlemu

    ws = mlemu.Workspace.load(path)
    with mlemu.emulate(ws):
        [run] = mlflow.search_runs(experiment_names=["/Shared/kept"], output_format="list")
        assert (run.info.run_name, run.data.metrics) == ("the-run", {"loss": 0.25})


def test_session_server_serves_a_subprocess(pytester):
    pytest.importorskip("mlflow")
    pytester.makepyfile(test_user="""
        import os, subprocess, sys

        CHILD = (
            "import mlflow\\n"
            "mlflow.set_tracking_uri('databricks')\\n"
            "mlflow.set_experiment('/Shared/child')\\n"
            "with mlflow.start_run() as run:\\n"
            "    mlflow.log_param('from', 'child')\\n"
            "print(run.info.run_id)\\n")

        def test_child_process_logs_a_run(mlemu_session_server):
            env = {**os.environ, **mlemu_session_server.env}
            out = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True,
                                 capture_output=True, text=True).stdout.split()[-1]
            run = mlemu_session_server.workspace.tracking.get_run(out)
            assert run.data.params == {"from": "child"}

        def test_same_server_for_the_session(mlemu_session_server):
            assert mlemu_session_server.workspace.tracking.search_experiments()
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", timeout=300)
    result.assert_outcomes(passed=2)


def test_xdist_workers_each_get_their_own_deterministic_workspace(pytester, monkeypatch):
    pytest.importorskip("xdist")
    pytest.importorskip("mlflow")
    out = pytester.path / "ids"
    out.mkdir()
    monkeypatch.setenv("MLEMU_TEST_IDS", str(out))
    pytester.makepyfile(test_user="""
        import os
        import mlflow
        import pytest

        @pytest.mark.parametrize("n", range(6))
        def test_one_run(mlemu, n):
            mlflow.set_experiment("/Shared/x")
            with mlflow.start_run() as run:
                mlflow.log_param("n", n)
            assert len(mlflow.search_runs(output_format="list")) == 1  # its own workspace
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            with open(os.path.join(os.environ["MLEMU_TEST_IDS"], f"{n}-{worker}"), "w") as fh:
                fh.write(run.info.run_id)
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2", timeout=300)
    result.assert_outcomes(passed=6)
    files = sorted(out.iterdir())
    assert {f.name.split("-")[1] for f in files} == {"gw0", "gw1"}
    # the same test gives the same ids whichever worker runs it
    assert len({f.read_text() for f in files}) == 1


def test_mlflow_telemetry_is_off_before_a_conftest_imports_mlflow(pytester, monkeypatch):
    """Offline, mlflow 3's telemetry thread deleted a variable from os.environ while a test
    iterated it (a KeyError in an unrelated call, seen in this suite): the plugin turns
    telemetry off before conftests load, unless the environment says otherwise."""
    pytest.importorskip("mlflow.telemetry", reason="this mlflow has no usage telemetry")
    for var in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(var, raising=False)
    pytester.makeconftest("""
        import mlflow
        from mlflow.telemetry import get_telemetry_client
        CLIENT_AT_IMPORT = get_telemetry_client()
    """)
    pytester.makepyfile(test_user="""
        import os
        import conftest
        from mlflow.telemetry import get_telemetry_client

        def test_telemetry_never_started(mlemu):
            assert conftest.CLIENT_AT_IMPORT is None
            assert get_telemetry_client() is None
            assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=1)


def test_an_explicit_telemetry_setting_is_kept(pytester, monkeypatch):
    pytest.importorskip("mlflow.telemetry", reason="this mlflow has no usage telemetry")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "false")
    pytester.makepyfile(test_user="""
        import os

        def test_kept(mlemu):
            assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "false"
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=300)
    result.assert_outcomes(passed=1)
