"""Shared test data. The ``mlemu`` fixture itself comes from the installed pytest plugin."""
from __future__ import annotations

import pytest


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
}


@pytest.hookimpl(optionalhook=True)  # the matrix venvs run without pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """xdist's own ``--dist loadgroup`` does nothing under pytest 9 (it renames items through
    an attribute pytest no longer reads), so the groups are made here, from node ids."""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((group for prefix, group in SHARED_FIXTURE_GROUPS.items()
                         if nodeid.startswith(prefix)), nodeid)

    return SharedFixtureScheduling(config, log)
