import mlflow


def train_and_log(alpha: float) -> str:
    """Stands in for the code under test."""
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", alpha)
        mlflow.log_metric("rmse", 1.0 - alpha / 2)
    return run.info.run_id


def test_training_logs_to_the_team_experiment(experiment, workspace):
    run_id = train_and_log(0.5)
    run = mlflow.get_run(run_id)
    assert run.info.experiment_id == experiment.experiment_id
    assert run.data.params == {"alpha": "0.5"}
    workspace.calls.assert_called("tracking.runs.create", times=1)


def test_workspace_client_sees_the_folder(w):
    assert [o.path for o in w.workspace.list("/Shared")] == ["/Shared/ml-team"]
