"""The churn project end to end against an emulated workspace: train -> register -> alias ->
deploy -> canary -> score with feature lookups, plus a rehearsal of a throttled workspace."""
from __future__ import annotations

import mlflow
import pandas as pd
import pytest

import churn_project as project


def test_training_uses_the_feature_table(customer_features, labels):
    df = project.training_set(labels).load_df()
    assert sorted(df.columns) == ["avg_order_value", "churned", "total_purchases"]
    assert df["total_purchases"].tolist() == customer_features["total_purchases"].tolist()


def test_train_register_and_promote(mlemu, customer_features, labels):
    version = project.train_and_register(labels)
    project.promote(version)
    mv = mlflow.MlflowClient().get_model_version_by_alias(project.MODEL, "champion")
    assert (mv.version, mv.status) == ("1", "READY")
    run = mlflow.get_run(mv.run_id)
    assert run.data.metrics["train_accuracy"] == 1.0
    mlemu.calls.assert_called_with("registry.registered-models.alias.set", alias="champion")


def test_deploy_and_score(customer_features, labels):
    project.promote(project.train_and_register(labels))
    endpoint = project.deploy("churn")
    assert endpoint.state.ready.value == "READY"
    customers = pd.DataFrame({"customer_id": [1, 5]})
    assert project.score("churn", customers) == [0, 1]


def test_canary_splits_traffic_between_champion_and_challenger(customer_features, labels):
    project.promote(project.train_and_register(labels))
    project.deploy("churn")
    challenger = project.train_and_register(labels, C=0.5)
    endpoint = project.canary("churn", challenger, percent=10)
    routes = {r.served_model_name: r.traffic_percentage for r in endpoint.config.traffic_config.routes}
    assert routes == {"churn_model-1": 90, "churn_model-2": 10}
    # promoting the challenger and redeploying serves it alone
    project.promote(challenger)
    endpoint = project.deploy("churn")
    assert [e.entity_version for e in endpoint.config.served_entities] == ["2"]


@pytest.mark.mlemu(virtual_time=True)
def test_a_throttled_workspace_is_survived(mlemu, customer_features, labels, fast_retries):
    # log-metric / log-parameter (mlflow 2) or log-batch (mlflow 3): each client retries a 429
    mlemu.inject_fault("tracking.runs.log-*", status=429, retry_after=1, times=2)
    mlemu.inject_fault("serving.endpoints.create", status=503, times=1)
    project.promote(project.train_and_register(labels))
    assert project.deploy("churn").state.ready.value == "READY"
    assert [f.hits for f in mlemu.faults] == [2, 1]
