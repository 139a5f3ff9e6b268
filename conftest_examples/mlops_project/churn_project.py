"""A small downstream MLOps project, as a team would write it for Databricks: train a churn
model on feature-store features, register it in Unity Catalog, promote it with an alias,
deploy it to a serving endpoint, roll out a challenger as a canary. Nothing here knows about
mlemu: the tests run it against an emulated workspace."""
from __future__ import annotations

import mlflow
import mlflow.sklearn
import pandas as pd
from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.serving import (
    EndpointCoreConfigInput, Route, ServedEntityInput, TrafficConfig)
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

FEATURES = "ml.churn.customer_features"
MODEL = "ml.churn.churn_model"
FEATURE_NAMES = ["total_purchases", "avg_order_value"]


def training_set(labels: pd.DataFrame):
    """Labels (customer_id, churned) joined with the customer features."""
    return FeatureEngineeringClient().create_training_set(
        df=labels,
        feature_lookups=[FeatureLookup(table_name=FEATURES, feature_names=FEATURE_NAMES,
                                       lookup_key="customer_id")],
        label="churned", exclude_columns=["customer_id"])


def train_and_register(labels: pd.DataFrame, experiment: str = "/Shared/churn", C: float = 1.0) -> str:
    """Train on the feature-store training set, log and register the model; its version."""
    mlflow.set_registry_uri("databricks-uc")
    mlflow.set_experiment(experiment)
    df = training_set(labels).load_df()
    X, y = df[FEATURE_NAMES], df["churned"]
    with mlflow.start_run():
        model = LogisticRegression(C=C).fit(X, y)
        mlflow.log_param("C", C)
        mlflow.log_metric("train_accuracy", float((model.predict(X) == y).mean()))
        info = mlflow.sklearn.log_model(model, "model", signature=infer_signature(X, model.predict(X)),
                                        input_example=X.head(2), registered_model_name=MODEL)
    return str(info.registered_model_version)


def promote(version: str, alias: str = "champion") -> None:
    mlflow.MlflowClient().set_registered_model_alias(MODEL, alias, version)


def _entity(version: str) -> ServedEntityInput:
    return ServedEntityInput(entity_name=MODEL, entity_version=version, workload_size="Small",
                             scale_to_zero_enabled=True)


def deploy(endpoint: str, alias: str = "champion"):
    """Serve the version the alias points at (create the endpoint, or update it)."""
    w = WorkspaceClient()
    version = mlflow.MlflowClient().get_model_version_by_alias(MODEL, alias).version
    config = EndpointCoreConfigInput(name=endpoint, served_entities=[_entity(version)])
    if endpoint in [e.name for e in w.serving_endpoints.list()]:
        return w.serving_endpoints.update_config_and_wait(endpoint, served_entities=[_entity(version)])
    return w.serving_endpoints.create_and_wait(name=endpoint, config=config)


def canary(endpoint: str, challenger: str, percent: int):
    """Send ``percent`` of the traffic to the challenger version, the rest to the champion."""
    w = WorkspaceClient()
    champion = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "champion").version
    entities = [_entity(champion), _entity(challenger)]
    names = [f"churn_model-{champion}", f"churn_model-{challenger}"]
    return w.serving_endpoints.update_config_and_wait(
        endpoint, served_entities=entities,
        traffic_config=TrafficConfig(routes=[Route(served_model_name=names[0], traffic_percentage=100 - percent),
                                             Route(served_model_name=names[1], traffic_percentage=percent)]))


def score(endpoint: str, customers: pd.DataFrame) -> list:
    """Look the customers' features up and score them on the endpoint."""
    features = FeatureEngineeringClient().read_table(name=FEATURES)
    rows = customers.merge(features, on="customer_id")[FEATURE_NAMES]
    answer = WorkspaceClient().serving_endpoints.query(endpoint, dataframe_records=rows.to_dict("records"))
    return list(answer.predictions)
