"""Fixtures of the churn project's tests: only mlemu's public fixtures (``mlemu``,
``make_catalog``, ``make_schema``, ``make_feature_table``) and pandas."""
from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture
def customer_features(mlemu, make_catalog, make_schema, make_feature_table):
    """``ml.churn.customer_features``: six customers, the first three heavy spenders."""
    make_schema(make_catalog("ml"), "churn")
    df = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6],
                       "total_purchases": [30, 25, 40, 1, 2, 0],
                       "avg_order_value": [80.0, 95.0, 60.0, 5.0, 12.0, 3.0]})
    make_feature_table("ml.churn.customer_features", df, primary_keys="customer_id")
    return df


@pytest.fixture
def labels():
    """Who churned: the light spenders."""
    return pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6], "churned": [0, 0, 0, 1, 1, 1]})


@pytest.fixture
def fast_retries(monkeypatch):
    """mlflow's HTTP backoff made instant for fault-injection tests."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
