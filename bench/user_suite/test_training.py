"""Training: a run per hyper-parameter set, metrics, an artifact and the model."""
import mlflow
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score

from conftest import log_model


@pytest.mark.parametrize("C", [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0])
def test_train_logs_params_metrics_and_model(mlemu, data, C, tmp_path):
    X, y = data
    mlflow.set_experiment("/Shared/churn")
    with mlflow.start_run() as run:
        model = LogisticRegression(C=C).fit(X, y)
        mlflow.log_params({"C": C, "solver": "lbfgs"})
        for epoch in range(10):
            mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch)
        mlflow.log_metric("accuracy", accuracy_score(y, model.predict(X)))
        (tmp_path / "notes.txt").write_text(f"C={C}")
        mlflow.log_artifact(str(tmp_path / "notes.txt"))
        log_model(model, X)
    got = mlflow.get_run(run.info.run_id)
    assert got.data.params["C"] == str(C) and got.data.metrics["accuracy"] > 0.5


def test_best_run_is_found_by_search(mlemu, data):
    X, y = data
    mlflow.set_experiment("/Shared/search")
    for C in (0.01, 1.0):
        with mlflow.start_run():
            mlflow.log_metric("accuracy", accuracy_score(y, LogisticRegression(C=C).fit(X, y).predict(X)))
    best = mlflow.search_runs(order_by=["metrics.accuracy DESC"], max_results=1, output_format="list")[0]
    assert best.data.metrics["accuracy"] > 0.5


def test_nested_runs(mlemu):
    mlflow.set_experiment("/Shared/nested")
    with mlflow.start_run() as parent:
        for i in range(3):
            with mlflow.start_run(nested=True):
                mlflow.log_param("fold", i)
    children = mlflow.search_runs(filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert len(children) == 3


def test_autolog_trains_and_logs(mlemu, data):
    X, y = data
    mlflow.set_experiment("/Shared/autolog")
    mlflow.sklearn.autolog(log_models=False)
    with mlflow.start_run() as run:
        LogisticRegression().fit(X, y)
    assert "training_score" in mlflow.get_run(run.info.run_id).data.metrics


def test_loaded_model_predicts_like_the_trained_one(mlemu, data, model):
    X, _ = data
    mlflow.set_experiment("/Shared/reload")
    with mlflow.start_run():
        info = log_model(model, X)
    assert (mlflow.pyfunc.load_model(info.model_uri).predict(X) == model.predict(X)).all()
