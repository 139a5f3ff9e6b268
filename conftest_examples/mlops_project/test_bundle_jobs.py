"""The bundle's jobs (databricks.yml, resources/*.yml) run as defined, notebooks unchanged:
training -> validation gate -> champion alias and serving endpoint, batch inference with feature
lookups into a predictions table, and the monitoring job retraining on a violated metric."""
from __future__ import annotations

import mlflow
import pytest

MODEL = "ml.churn.churn_classifier"

pytestmark = [pytest.mark.mlemu(bundle="databricks.yml", bundle_target="test"),
              pytest.mark.usefixtures("churn_tables")]


def test_training_job_trains_validates_and_deploys(mlemu):
    run = mlemu.jobs.run_now("model_training_job").assert_succeeded()
    assert [t.result_state for t in run.tasks.values()] == ["SUCCESS", "SUCCESS", "SUCCESS"]
    assert run["Train"].exit_value == f"models:/{MODEL}/1"
    assert run["Train"].values["model_version"] == 1
    assert run["ModelValidation"].exit_value == "accuracy=1.00"
    metrics = run["ModelValidation"].displays[-1].frame
    assert metrics.loc[0, "metric"] == "accuracy" and metrics.loc[0, "value"] == 1.0
    assert run["ModelDeployment"].exit_value == "champion=1"
    champion = mlflow.MlflowClient().get_model_version_by_alias(MODEL, "champion")
    assert champion.version == "1" and champion.tags["model_validation_status"] == "PASSED"
    from databricks.sdk import WorkspaceClient
    endpoint = WorkspaceClient().serving_endpoints.get("churn-test")
    assert endpoint.config.served_entities[0].entity_version == "1"


def test_validation_gate_stops_a_weak_model(mlemu):
    run = mlemu.jobs.run_now("model_training_job", {"accuracy_threshold": "1.01"})
    assert run["ModelValidation"].result_state == "FAILED"
    assert run["ModelDeployment"].result_state == "UPSTREAM_FAILED"
    assert "Model validation failed: accuracy 1.00 is below 1.01" in run["ModelValidation"].error
    with pytest.raises(AssertionError, match="raise Exception"):   # the failing cell, in the message
        run.assert_succeeded()
    assert mlflow.MlflowClient().get_registered_model(MODEL).aliases == {}


def test_batch_inference_writes_predictions_with_feature_lookups(mlemu):
    mlemu.jobs.run_now("model_training_job").assert_succeeded()
    run = mlemu.jobs.run_now("batch_inference_job").assert_succeeded()
    assert run["batch_inference_job"].exit_value == "scored 4"
    table = mlemu.unity_catalog.read_table("ml.churn.predictions")
    assert table.sort_values("customer_id")["prediction"].tolist() == [0.0, 1.0, 1.0, 1.0]
    assert set(table["model_version"]) == {"1"}


def test_monitoring_job_retrains_when_the_churn_rate_is_violated(mlemu):
    mlemu.jobs.run_now("model_training_job").assert_succeeded()
    mlemu.jobs.run_now("batch_inference_job").assert_succeeded()
    quiet = mlemu.jobs.run_now("retraining_job", {"churn_rate_threshold": "0.9"}).assert_succeeded()
    assert quiet["trigger_retraining"].result_state == "EXCLUDED"
    loud = mlemu.jobs.run_now("retraining_job", {"churn_rate_threshold": "0.5"}).assert_succeeded()
    assert loud["monitored_metric_violation_check"].values["churn_rate"] == 0.75
    assert loud["is_metric_violated"].condition_outcome == "true"
    assert loud["trigger_retraining"].result_state == "SUCCESS"
    assert mlflow.MlflowClient().get_model_version_by_alias(MODEL, "champion").version == "2"
