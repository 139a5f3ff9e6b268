"""Notebook tasks: widgets from base parameters and job parameters, task values between tasks,
exit values and displays, and a failing cell's source and traceback in get-output and in the
test's assertion message."""
from __future__ import annotations

import pathlib

import pytest
from databricks.sdk.service import jobs

HERE = pathlib.Path(__file__).parent / "notebooks"
NB = "/Workspace/Shared/project/notebooks"


@pytest.fixture
def project(mlemu):
    mlemu.jobs.mount("/Workspace/Shared/project/notebooks", HERE)


def _job(w, **kw):
    return w.jobs.create(name="nb", tasks=[
        jobs.Task(task_key="produce", notebook_task=jobs.NotebookTask(
            notebook_path=f"{NB}/Produce", base_parameters={"size": "4", "label": "{{job.parameters.label}}"})),
        jobs.Task(task_key="consume", depends_on=[jobs.TaskDependency("produce")],
                  notebook_task=jobs.NotebookTask(notebook_path=f"{NB}/Consume"))],
        parameters=[jobs.JobParameterDefinition(name="label", default="L")], **kw)


def test_notebook_tasks_pass_task_values_and_exit_values(mlemu, w, project):
    job = _job(w)
    run = w.jobs.run_now(job.job_id, job_parameters={"label": "blue"}).result()
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    produce, consume = run.tasks
    assert w.jobs.get_run_output(produce.run_id).notebook_output.result == "made 4"
    assert w.jobs.get_run_output(consume.run_id).notebook_output.result == "blue:40"
    view = mlemu.jobs.view(run.run_id)
    assert view.task_values["produce"] == {"rows": 4, "label": "blue"}
    assert view["produce"].displays[0].frame["i"].tolist() == [0, 1, 2, 3]
    assert f"path /Shared/project/notebooks/Produce task produce" in w.jobs.get_run_output(produce.run_id).logs


def test_job_parameters_override_base_parameters(mlemu, w, project):
    job = w.jobs.create(name="p", parameters=[jobs.JobParameterDefinition(name="size", default="2")], tasks=[
        jobs.Task(task_key="produce", notebook_task=jobs.NotebookTask(
            notebook_path=f"{NB}/Produce", base_parameters={"size": "9"}))])
    run = w.jobs.run_now(job.job_id).result()
    assert w.jobs.get_run_output(run.tasks[0].run_id).notebook_output.result == "made 2"


def test_failing_cell_is_in_error_trace_and_in_the_assertion(mlemu, w, project):
    job = _job(w)
    run = mlemu.jobs.run_now(job.job_id, {"label": "x"})          # the Python API: a view of the run
    assert run.result_state == "SUCCESS"
    w.jobs.update(job.job_id, new_settings=jobs.JobSettings(tasks=[jobs.Task(
        task_key="produce", notebook_task=jobs.NotebookTask(notebook_path=f"{NB}/Produce",
                                                            base_parameters={"size": "1"}))]))
    run = mlemu.jobs.run_now(job.job_id)
    assert run["consume"].result_state == "FAILED"
    assert run["consume"].error == "ValueError: too few rows: 1"
    out = w.jobs.get_run_output(run["consume"].run_id)
    assert 'raise ValueError(f"too few rows: {rows}")' in out.error_trace
    with pytest.raises(AssertionError) as failure:
        run.assert_succeeded()
    text = str(failure.value)
    assert "task consume: TERMINATED FAILED" in text and "too few rows" in text and "rows < 2" in text


def test_legacy_notebook_params_and_export(mlemu, w, project):
    job = w.jobs.create(name="legacy", tasks=[jobs.Task(task_key="produce", notebook_task=jobs.NotebookTask(
        notebook_path=f"{NB}/Produce"))])
    run = w.jobs.run_now(job.job_id, notebook_params={"size": "5"}).result()
    assert w.jobs.get_run_output(run.tasks[0].run_id).notebook_output.result == "made 5"
    view = w.jobs.export_run(run.tasks[0].run_id).views[0]
    assert view.type == jobs.ViewType.NOTEBOOK and "made 5" in view.content and "taskValues" in view.content


def test_notebook_from_the_workspace_tree(mlemu, w):
    import base64
    from databricks.sdk.service.workspace import ImportFormat, Language
    w.workspace.import_("/Shared/hello", content=base64.b64encode(
        b"# Databricks notebook source\ndbutils.notebook.exit('hi ' + dbutils.widgets.get('who'))\n").decode(),
        format=ImportFormat.SOURCE, language=Language.PYTHON)
    run = w.jobs.submit_and_wait(run_name="ws", tasks=[jobs.SubmitTask(task_key="t", notebook_task=jobs.NotebookTask(
        notebook_path="/Shared/hello", base_parameters={"who": "there"}))])
    assert w.jobs.get_run_output(run.tasks[0].run_id).notebook_output.result == "hi there"


def test_missing_notebook_fails_the_task_as_resource_not_found(w):
    run = w.jobs.submit_and_wait(run_name="x", tasks=[jobs.SubmitTask(task_key="t", notebook_task=jobs.NotebookTask(
        notebook_path="/Shared/nope"))])
    task = run.tasks[0]
    assert task.state.result_state == jobs.RunResultState.FAILED
    assert task.status.termination_details.code == jobs.TerminationCodeCode.RESOURCE_NOT_FOUND
