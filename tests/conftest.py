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
