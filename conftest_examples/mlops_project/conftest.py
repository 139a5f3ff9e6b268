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


@pytest.fixture
def churn_tables(mlemu, make_catalog, make_schema, make_feature_table, make_table):
    """The seeded tables the bundle's jobs read (a small, fixed stand-in for production data):
    the customer feature table, the labels, and the customers to score."""
    make_schema(make_catalog("ml"), "churn")
    features = pd.DataFrame({"customer_id": list(range(1, 9)),
                             "total_purchases": [30, 25, 40, 35, 1, 2, 0, 3],
                             "avg_order_value": [80.0, 95.0, 60.0, 70.0, 5.0, 12.0, 3.0, 8.0]})
    make_feature_table("ml.churn.customer_features", features, primary_keys="customer_id")
    make_table("ml.churn.labels", pd.DataFrame({"customer_id": list(range(1, 9)),
                                                "churned": [0, 0, 0, 0, 1, 1, 1, 1]}),
               primary_keys=["customer_id"])
    make_table("ml.churn.scoring_input", pd.DataFrame({"customer_id": [2, 5, 6, 7]}), primary_keys=["customer_id"])
    return features
