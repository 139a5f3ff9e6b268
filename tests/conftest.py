"""Shared test data. The ``mlemu`` fixture itself comes from the installed pytest plugin."""
from __future__ import annotations

import pytest


#: Options for the pytest processes the tests start (a user's project, the docs' examples):
#: hypothesis's pytest plugin costs about 1.1 s of CPU at every pytest start and none of those
#: projects uses it (mlemu's own property tests run in this process, with the plugin).
CHILD_PYTEST_ADDOPTS = "-p no:hypothesispytest"


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's own ``pytester`` (which clears PYTEST_ADDOPTS), with CHILD_PYTEST_ADDOPTS for
    the pytest processes it starts."""
    monkeypatch.setenv("PYTEST_ADDOPTS", CHILD_PYTEST_ADDOPTS)
    return pytester


@pytest.fixture(scope="session")
def iris_data():
    """A small, deterministic classification data set (pandas X, numpy y)."""
    pd = pytest.importorskip("pandas")
    import numpy as np

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["feature1", "feature2", "feature3"])
    y = (X["feature1"] + X["feature2"] > 0).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="session")
def trained_model(iris_data):
    """A fitted scikit-learn classifier and its data: (model, X, y)."""
    from sklearn.linear_model import LogisticRegression

    X, y = iris_data
    return LogisticRegression().fit(X, y), X, y


#: Tests that share an expensive per-process fixture, by node id prefix: one pytest-xdist
#: worker runs each group, so the fixture is built once instead of once per worker.
SHARED_FIXTURE_GROUPS = {
    "tests/standins/test_spark.py::": "spark",                     # the session's JVM (~15-30 s)
    "tests/standins/notebooks/test_spark.py::test_spark_": "spark",
    "tests/toolkit/test_coverage_sweep.py::": "coverage-sweep",    # its module-scoped sweep
    "tests/test_docs_code.py::test_the_shared_page_tests_pass": "doc-pages",  # one pytest run
}


#: Tests that take tens of seconds (a fresh pytest process or server each): handed out first,
#: so the run does not end with one worker busy on a long test while the others idle.
SLOW_FIRST = (
    "doc-pages", "spark", "coverage-sweep",
    "tests/test_docs_code.py::test_the_page_tests_pass",
    "tests/test_conftest_examples.py::",
    "tests/test_demo.py::",
    "tests/test_packaging.py::",
    "tests/toolkit/test_pytest_integration.py::",
    "tests/toolkit/test_plugin_discovery.py::",
    "tests/toolkit/test_snapshots.py::test_the_same_scenario_in_two_processes",
    "tests/server/wire/test_differential.py::",
    "tests/server/ui/test_browser.py::",
)


@pytest.hookimpl(optionalhook=True)  # the matrix venvs run without pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's own ``--dist loadgroup`` does nothing under pytest 9 (it renames items through
    an attribute pytest no longer reads), so the groups are made here, from node ids; the
    slow tests go out first."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        _slow_first = False

        def _split_scope(self, nodeid: str) -> str:
            return next((group for prefix, group in SHARED_FIXTURE_GROUPS.items()
                         if nodeid.startswith(prefix)), nodeid)

        def _assign_work_unit(self, node: object) -> None:
            if not self._slow_first:
                self._slow_first = True
                slow = [scope for scope in self.workqueue if scope.startswith(SLOW_FIRST)]
                for scope in reversed(slow):
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return SharedFixtureScheduling(config, log)


#: Tests that never run the mlflow client: raw HTTP into the workspace (fuzzing, routing, the
#: transports, the differential test against mlflow 3.17's server), the SQL engine with the SDK
#: and the SQL connector, the state directory's log, the package's own structure. Both stacks
#: pin the same databricks-sdk, so on the second stack (scripts/test.sh sets
#: MLEMU_SECOND_STACK=1) they would test the same code twice and are left out.
#: tests/test_server_only_tests.py keeps mlflow out of them.
SERVER_ONLY = (
    "tests/fuzz/",
    "tests/server/wire/",
    "tests/server/services/sql/",
    "tests/server/transport/test_inprocess.py",
    "tests/server/transport/test_server.py",
    "tests/server/transport/test_server_credentials.py",
    "tests/server/transport/test_server_framing.py",
    "tests/server/transport/test_socket_guard.py",
    "tests/server/transport/test_socket_tokens.py",
    "tests/toolkit/test_state_dir_replay.py",
    "tests/toolkit/test_state_dir_damage.py",
    "tests/test_layers.py",
    "tests/test_no_code_execution.py",
    "tests/test_docs.py",
)


def pytest_ignore_collect(collection_path: "os.PathLike[str]", config: pytest.Config) -> bool | None:
    import os

    if os.environ.get("MLEMU_SECOND_STACK") != "1":
        return None
    rel = os.path.relpath(collection_path, config.rootpath).replace(os.sep, "/")
    if os.path.isdir(collection_path):
        rel += "/"
    return True if rel.startswith(SERVER_ONLY) else None
