"""The example project's notebooks, run as a job would run them: Train registers a model in
Unity Catalog and leaves task values; Validate reads them and sets the champion alias.
Everything goes through the real mlflow client to the emulated workspace."""
from __future__ import annotations

import os
import sys

import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookContext, TaskValues

from .conftest import PROJECT

pytest.importorskip("sklearn")


def job_context(task_key: str, store: TaskValues, notebook: str) -> NotebookContext:
    return NotebookContext(notebook_path=f"/Users/user@company.com/.bundle/proj/dev/files/notebooks/{notebook}",
                           job_id=11, run_id=100 + len(task_key), parent_run_id=99, task_key=task_key,
                           task_values=store, job_name="model_training_job")


def test_train_then_validate_as_job_tasks(mlemu):
    from mlflow import MlflowClient

    store = TaskValues(tasks=["Train", "Validate"])
    cwd, path = os.getcwd(), list(sys.path)
    train = mlemu_notebooks_run("Train", {"env": "dev", "experiment_name": "/Shared/notebook-train"}, store)

    model_uri = "models:/main.default.notebook_classifier/1"
    assert train.exit_value == model_uri
    assert train.task_values == {"model_uri": model_uri, "model_version": 1, "accuracy": pytest.approx(
        train.task_values["accuracy"])}
    assert store.of("Train")["model_uri"] == model_uri
    assert [c.status for c in train.cells][-1] == "exited"
    assert train.tables()[0].shape == (3, 3)                  # display(X.head(3))
    assert any("%pip install -r ../requirements.txt" in line for line in train.log)
    assert any("restartPython" in line for line in train.log)
    assert os.getcwd() == cwd and sys.path == path            # the test's process state is back
    assert "utils" not in sys.modules                          # the project's module is forgotten

    validate = mlemu_notebooks_run("Validate", {"env": "dev", "min_accuracy": "0.5"}, store)
    assert validate.exit_value == "dev_champion"
    assert validate.task_values == {"validated": True}
    version = MlflowClient(registry_uri="databricks-uc").get_model_version_by_alias(
        "main.default.notebook_classifier", "dev_champion")
    assert version.version == "1"
    run = MlflowClient().get_run(version.run_id)
    assert run.info.status == "FINISHED"                       # the run Train left open was ended
    assert run.data.params == {"env": "dev"}
    mlemu.calls.assert_called("registry.registered-models.alias.set", times=1)


def test_validation_gate_rejects_a_weak_model(mlemu):
    store = TaskValues(tasks=["Train", "Validate"])
    mlemu_notebooks_run("Train", {"env": "dev"}, store)
    validate = mlemu_notebooks_run("Validate", {"env": "dev", "min_accuracy": "1.01"}, store)
    assert validate.exit_value.startswith("rejected: accuracy")
    assert validate.task_values == {"validated": False}
    assert [c.status for c in validate.cells] == ["success", "success", "success", "exited"]


def test_validate_outside_a_job_uses_debug_values_and_widgets(mlemu):
    from mlflow import MlflowClient

    mlemu_notebooks_run("Train", {"env": "dev"}, TaskValues())  # registers version 1
    run = notebooks.run(PROJECT / "notebooks" / "Validate",
                              {"env": "prod", "model_version": "1"})  # interactive: no job context
    assert run.exit_value == "champion"
    assert MlflowClient(registry_uri="databricks-uc").get_model_version_by_alias(
        "main.default.notebook_classifier", "champion").version == "1"


def mlemu_notebooks_run(name: str, parameters: dict, store: TaskValues):
    return notebooks.run(str(PROJECT / "notebooks" / f"{name}.py"), parameters,
                               context=job_context(name, store, name))
