"""The seed cheatsheet's "Experiment Tracking" section, run unchanged against the emulator.

Only the setup a real workspace already has is added: the ``/Shared/team_experiments``
folder, the names the snippets leave undefined (``train_model``, ``X_train``,
``loss_value``...) and the files they log. Code between ``# ---- cheatsheet`` markers is
verbatim.
"""
from __future__ import annotations

import pytest

mlflow = pytest.importorskip("mlflow")

MLFLOW3 = mlflow.__version__.startswith("3.")


@pytest.fixture
def team_folder(mlemu):
    from databricks.sdk import WorkspaceClient

    WorkspaceClient().workspace.mkdirs("/Shared/team_experiments")


def _basic_experiment_setup():
    # ---- cheatsheet: Basic Experiment Setup ------------------------------------------------
    import mlflow

    # Set tracking URI (Databricks default)
    mlflow.set_tracking_uri("databricks")

    # Create/set experiment
    mlflow.set_experiment("/Users/user@company.com/my_experiment")

    # Or by name
    experiment = mlflow.create_experiment(
        name="/Shared/team_experiments/fraud_detection",
        artifact_location="dbfs:/mlflow/artifacts"
    )
    mlflow.set_experiment(experiment_id=experiment)
    # ---- end -------------------------------------------------------------------------------
    return experiment


def test_basic_experiment_setup(mlemu, team_folder):
    experiment = _basic_experiment_setup()

    exp = mlflow.get_experiment(experiment)
    assert exp.name == "/Shared/team_experiments/fraud_detection"
    assert exp.artifact_location == "dbfs:/mlflow/artifacts"
    mine = mlflow.get_experiment_by_name("/Users/user@company.com/my_experiment")
    assert mine.artifact_location == f"dbfs:/databricks/mlflow-tracking/{mine.experiment_id}"
    # the active experiment is the one set last
    with mlflow.start_run() as run:
        pass
    assert run.info.experiment_id == experiment


@pytest.fixture
def training_names(iris_data):
    """What the logging snippet assumes is already defined."""
    from sklearn.linear_model import LogisticRegression

    X, y = iris_data

    def train_model(X_train, y_train):
        return LogisticRegression().fit(X_train, y_train)

    return {"train_model": train_model, "X_train": X, "y_train": y, "X_test": X, "loss_value": 0.25}


def test_logging_artifacts_and_model_verbatim(mlemu, team_folder, training_names, tmp_path, monkeypatch):
    """The whole logging snippet; its artifacts go to the experiment's custom DBFS location."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "feature_importance.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "roc.png").write_bytes(b"roc")
    _basic_experiment_setup()
    train_model, X_train, y_train, X_test, loss_value = (
        training_names[k] for k in ("train_model", "X_train", "y_train", "X_test", "loss_value"))

    # ---- cheatsheet: Logging Parameters, Metrics, Artifacts --------------------------------
    import mlflow
    from mlflow.models import infer_signature
    import pandas as pd

    with mlflow.start_run(run_name="xgboost_v1") as run:
        # Log parameters
        mlflow.log_param("max_depth", 6)
        mlflow.log_param("learning_rate", 0.1)
        mlflow.log_params({
            "n_estimators": 100,
            "min_child_weight": 1,
            "subsample": 0.8
        })

        # Train model
        model = train_model(X_train, y_train)
        predictions = model.predict(X_test)

        # Log metrics
        mlflow.log_metric("rmse", 0.87)
        mlflow.log_metric("mae", 0.65)
        mlflow.log_metrics({
            "r2": 0.92,
            "accuracy": 0.95,
            "f1_score": 0.89
        })

        # Log metric over time (for learning curves)
        for epoch in range(100):
            mlflow.log_metric("loss", loss_value, step=epoch)

        # Log artifacts
        mlflow.log_artifact("feature_importance.png")
        mlflow.log_artifacts("./plots/")  # Log entire directory

        # Log model with signature
        signature = infer_signature(X_test, predictions)
        mlflow.sklearn.log_model(model, "model", signature=signature)

        print(f"Run ID: {run.info.run_id}")
    # ---- end -------------------------------------------------------------------------------
    assert pd is not None
    got = mlflow.get_run(run.info.run_id)
    assert got.info.run_name == "xgboost_v1" and got.info.status == "FINISHED"
    assert got.data.params == {"max_depth": "6", "learning_rate": "0.1", "n_estimators": "100",
                               "min_child_weight": "1", "subsample": "0.8"}
    assert got.data.metrics == {"rmse": 0.87, "mae": 0.65, "r2": 0.92, "accuracy": 0.95, "f1_score": 0.89,
                                "loss": 0.25}
    history = mlflow.MlflowClient().get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == list(range(100))
    assert got.info.artifact_uri == f"dbfs:/mlflow/artifacts/{run.info.run_id}/artifacts"
    assert len(predictions) == len(X_test)
    client = mlflow.MlflowClient()
    listed = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"feature_importance.png", "roc.png"} <= listed
    if MLFLOW3:
        logged = mlflow.last_logged_model()
        assert logged.source_run_id == run.info.run_id
        assert logged.artifact_location == f"dbfs:/mlflow/artifacts/models/{logged.model_id}/artifacts"
        loaded = mlflow.sklearn.load_model(f"models:/{logged.model_id}")
    else:
        assert "model" in listed
        loaded = mlflow.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    assert list(loaded.predict(X_test)) == list(predictions)


def test_auto_logging(mlemu, iris_data):
    """The "Auto-logging" section. An experiment is set first, as the section follows the setup
    one (outside a notebook Databricks has no default experiment). Flavors whose library is not
    installed in this environment are left out: their autolog() fails client-side on import."""
    import importlib.util

    mlflow.set_experiment("/Users/user@company.com/my_experiment")
    X_train, y_train = iris_data
    have = {m: importlib.util.find_spec(m) is not None
            for m in ("tensorflow", "torch", "xgboost", "lightgbm", "pyspark")}

    # ---- cheatsheet: Auto-logging ------------------------------------------------------------
    # Enable auto-logging for supported frameworks
    mlflow.autolog()  # Generic
    mlflow.sklearn.autolog()
    if have["tensorflow"]:
        mlflow.tensorflow.autolog()
    if have["torch"]:
        mlflow.pytorch.autolog()
    if have["xgboost"]:
        mlflow.xgboost.autolog()
    if have["lightgbm"]:
        mlflow.lightgbm.autolog()
    if have["pyspark"]:
        mlflow.spark.autolog()

    # Then train as usual
    from sklearn.ensemble import RandomForestClassifier
    model = RandomForestClassifier(n_estimators=100, max_depth=5)
    model.fit(X_train, y_train)
    # All parameters, metrics, and model are logged automatically
    # ---- end ---------------------------------------------------------------------------------

    run = mlflow.last_active_run()
    assert run.info.status == "FINISHED"
    assert run.data.params["n_estimators"] == "100" and run.data.params["max_depth"] == "5"
    assert 0.9 <= run.data.metrics["training_accuracy_score"] <= 1.0
    assert {"training_f1_score", "training_precision_score", "training_recall_score"} <= set(run.data.metrics)
    assert run.data.tags["estimator_class"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    # the training data is recorded as a run input
    assert [d.dataset.source_type for d in run.inputs.dataset_inputs] == ["code"]
    if MLFLOW3:
        models = mlflow.MlflowClient().search_logged_models([run.info.experiment_id])
        assert [m.source_run_id for m in models] == [run.info.run_id]
        assert models[0].status == mlflow.entities.LoggedModelStatus.READY
    else:
        assert "mlflow.log-model.history" in run.data.tags
