"""MLflow 3 deployment jobs: a Unity Catalog model linked to a job runs it for every new version
(evaluation -> approval -> deployment), and the registry reports the link and each version's
run as Databricks does."""
from __future__ import annotations

import pathlib

import pytest

mlflow = pytest.importorskip("mlflow")
if int(mlflow.__version__.split(".")[0]) < 3:
    pytest.skip("deployment jobs are an MLflow 3 registry feature (deployment_job_id)", allow_module_level=True)

from databricks.sdk.service import jobs  # noqa: E402

HERE = pathlib.Path(__file__).parent / "deployment_job"
NB = "/Workspace/Shared/deployment_job"
MODEL = "main.ml.classifier"


@pytest.fixture
def deployment_job(mlemu, w):
    """The deployment job of the Databricks docs' shape: model_name and model_version parameters,
    Evaluation -> Approval_Check -> Deployment, the approval tag named after its task."""
    mlemu.jobs.mount(NB, HERE)
    mlemu.unity_catalog.ensure_schema("main.ml")
    params = [jobs.JobParameterDefinition(name="model_name", default=MODEL),
              jobs.JobParameterDefinition(name="model_version", default="")]

    def nb(key, name, after=None, extra=None):
        return jobs.Task(task_key=key, notebook_task=jobs.NotebookTask(notebook_path=f"{NB}/{name}",
                                                                       base_parameters=extra or {}),
                         depends_on=[jobs.TaskDependency(after)] if after else None)

    return w.jobs.create(name="deployment", parameters=params, max_concurrent_runs=1,
                         queue=jobs.QueueSettings(enabled=True), tasks=[
                             nb("Evaluation", "Evaluation"),
                             nb("Approval_Check", "Approval", "Evaluation", {"approval_tag_name": "{{task.name}}"}),
                             nb("Deployment", "Deployment", "Approval_Check")]).job_id


def _register(trained_model):
    from mlflow.models import infer_signature

    model, X, _ = trained_model
    mlflow.set_registry_uri("databricks-uc")
    mlflow.set_experiment("/Shared/deployment-jobs")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model", signature=infer_signature(X, model.predict(X)),
                                        pip_requirements=["scikit-learn"],
                                        registered_model_name=MODEL)
    return info.registered_model_version


def test_new_version_runs_evaluation_approval_deployment(mlemu, w, deployment_job, trained_model):
    client = mlflow.MlflowClient(registry_uri="databricks-uc")
    rm = client.create_registered_model(MODEL, deployment_job_id=str(deployment_job))
    assert rm.deployment_job_id == str(deployment_job) and rm.deployment_job_state == "CONNECTED"

    version = _register(trained_model)            # registering version 1 starts the deployment job

    mv = client.get_model_version(MODEL, version)
    state = mv.deployment_job_state
    assert state.job_id == str(deployment_job) and state.job_state == "CONNECTED"
    assert state.run_state == "APPROVAL" and state.current_task_name == "Approval_Check"
    assert float(mv.tags["accuracy"]) >= 0.7
    run = w.jobs.get_run(int(state.run_id))
    assert run.job_parameters[0].value == MODEL and run.job_parameters[1].value == str(version)
    assert [t.state.result_state.value for t in run.tasks] == ["SUCCESS", "FAILED", "UPSTREAM_FAILED"]

    # The approver tags the version for the approval task, and the run is repaired from there.
    client.set_model_version_tag(MODEL, version, "Approval_Check", "Approved")
    repaired = w.jobs.repair_run(run.run_id, rerun_all_failed_tasks=True).result()
    assert repaired.state.result_state.value == "SUCCESS"
    assert client.get_model_version(MODEL, version).deployment_job_state.run_state == "SUCCEEDED"
    assert client.get_model_version_by_alias(MODEL, "champion").version == str(version)


def test_approve_helper_and_unlinking(mlemu, w, deployment_job, trained_model):
    client = mlflow.MlflowClient(registry_uri="databricks-uc")
    client.create_registered_model(MODEL, deployment_job_id=str(deployment_job))
    version = _register(trained_model)
    run = mlemu.registry.approve_deployment(MODEL, version)        # the model page's Approve button
    assert run.state.result_state == "SUCCESS"
    assert client.get_model_version(MODEL, version).tags["Approval_Check"] == "Approved"

    client.update_registered_model(MODEL, deployment_job_id="")     # unlink
    assert client.get_registered_model(MODEL).deployment_job_id == ""
    second = _register(trained_model)
    assert client.get_model_version(MODEL, second).deployment_job_state is None
    assert len(list(w.jobs.list_runs(job_id=deployment_job))) == 1


def test_missing_job_and_missing_parameters_are_reported(mlemu, w, trained_model):
    mlemu.unity_catalog.ensure_schema("main.ml")
    client = mlflow.MlflowClient(registry_uri="databricks-uc")
    client.create_registered_model(MODEL, deployment_job_id="123")
    assert client.get_registered_model(MODEL).deployment_job_state == "NOT_FOUND"
    version = _register(trained_model)
    assert client.get_model_version(MODEL, version).deployment_job_state.run_state == "NO_VALID_DEPLOYMENT_JOB_FOUND"
    plain = w.jobs.create(name="no-params")
    client.update_registered_model(MODEL, deployment_job_id=str(plain.job_id))
    assert client.get_registered_model(MODEL).deployment_job_state == "REQUIRED_PARAMETERS_CHANGED"
