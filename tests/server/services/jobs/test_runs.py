"""Runs through the real SDK: run-now and submit with ``.result()``, task states as Databricks
reports them, parameters and dynamic value references, run_if, retries, timeouts, condition and
run-job tasks, get-output, export, cancel, queueing, repair, listing."""
from __future__ import annotations

import pytest
from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist
from databricks.sdk.service import jobs


def _py(key, path, params=(), **kw):
    return jobs.Task(task_key=key, spark_python_task=jobs.SparkPythonTask(python_file=path, parameters=list(params)),
                     **kw)


def _states(run):
    return {t.task_key: (t.state.life_cycle_state.value, t.state.result_state.value if t.state.result_state else None)
            for t in run.tasks}


def test_run_now_result_reports_terminated_success(w, script):
    job = w.jobs.create(name="j", tasks=[_py("a", script, ["x"])])
    run = w.jobs.run_now(job.job_id).result()
    assert run.state.life_cycle_state == jobs.RunLifeCycleState.TERMINATED
    assert run.state.result_state == jobs.RunResultState.SUCCESS and run.state.state_message == ""
    assert run.status.state == jobs.RunLifecycleStateV2State.TERMINATED
    assert run.status.termination_details.code == jobs.TerminationCodeCode.SUCCESS
    assert run.status.termination_details.type == jobs.TerminationTypeType.SUCCESS
    assert run.trigger == jobs.TriggerType.ONE_TIME and run.run_type == jobs.RunType.JOB_RUN
    assert run.run_page_url.endswith(f"/jobs/{job.job_id}/runs/{run.run_id}?o=1234567890123456")
    out = w.jobs.get_run_output(run.tasks[0].run_id)
    assert out.logs == "args ['x']\n" and out.metadata.job_run_id == run.run_id


def test_failed_task_fails_the_run_and_skips_downstream(w, script):
    job = w.jobs.create(name="j", tasks=[
        _py("a", script, ["fail"]), _py("b", script, depends_on=[jobs.TaskDependency("a")]),
        _py("c", script, depends_on=[jobs.TaskDependency("a")], run_if=jobs.RunIf.ALL_DONE),
        _py("d", script, depends_on=[jobs.TaskDependency("a")], run_if=jobs.RunIf.AT_LEAST_ONE_FAILED)])
    run = w.jobs.run_now(job.job_id).result()
    assert _states(run) == {"a": ("TERMINATED", "FAILED"), "b": ("SKIPPED", "UPSTREAM_FAILED"),
                            "c": ("TERMINATED", "SUCCESS"), "d": ("TERMINATED", "SUCCESS")}
    assert run.state.result_state == jobs.RunResultState.FAILED  # a leaf (b) was skipped for a failure
    assert run.state.state_message.startswith("Task a failed with message: Workload failed, see run output")
    a = run.tasks[0]
    assert a.status.termination_details.code == jobs.TerminationCodeCode.RUN_EXECUTION_ERROR
    out = w.jobs.get_run_output(a.run_id)
    assert out.error == "ValueError: asked to fail"
    assert 'raise ValueError("asked to fail")' in out.error_trace


def test_failed_middle_task_with_successful_leaves_is_success_with_failures(w, script):
    job = w.jobs.create(name="j", tasks=[
        _py("a", script, ["fail"]), _py("b", script, depends_on=[jobs.TaskDependency("a")], run_if=jobs.RunIf.ALL_DONE)])
    run = w.jobs.run_now(job.job_id).result()
    assert run.state.result_state == jobs.RunResultState.SUCCESS_WITH_FAILURES


def test_sys_exit_nonzero_fails_and_zero_succeeds(w, script):
    job = w.jobs.create(name="j", tasks=[_py("a", script, ["exit3"])])
    run = w.jobs.run_now(job.job_id).result()
    assert w.jobs.get_run_output(run.tasks[0].run_id).error == "SystemExit: 3"


def test_job_parameters_and_dynamic_references(w, script):
    job = w.jobs.create(name="refs", parameters=[jobs.JobParameterDefinition(name="env", default="dev")],
                        tasks=[_py("a", script, ["{{job.parameters.env}}", "{{task.name}}", "{{job.id}}",
                                                  "{{job.run_id}}", "{{job.name}}", "{{job.trigger.type}}",
                                                  "{{workspace.id}}", "{{job.start_time.iso_date}}"])])
    run = w.jobs.run_now(job.job_id, job_parameters={"env": "prod"}).result()
    args = w.jobs.get_run_output(run.tasks[0].run_id).logs
    assert f"'prod', 'a', '{job.job_id}', '{run.run_id}', 'refs', 'ONE_TIME', '1234567890123456'" in args
    assert run.job_parameters == [jobs.JobParameter(name="env", default="dev", value="prod")]
    got = w.jobs.get_run(run.run_id, include_resolved_values=True)
    assert got.tasks[0].resolved_values.spark_python_task.parameters[0] == "prod"


def test_undefined_job_parameter_is_refused(w, script):
    job = w.jobs.create(name="j", parameters=[jobs.JobParameterDefinition(name="env", default="dev")],
                        tasks=[_py("a", script)])
    with pytest.raises(InvalidParameterValue, match="nope"):
        w.jobs.run_now(job.job_id, job_parameters={"nope": "1"})


def test_condition_task_gates_downstream_by_outcome_and_task_values_reference(w, code):
    path = code("setter.py", """
        import os, sys
        print(sys.argv[1:])
    """)
    job = w.jobs.create(name="cond", parameters=[jobs.JobParameterDefinition(name="x", default="1")], tasks=[
        jobs.Task(task_key="check", condition_task=jobs.ConditionTask(
            op=jobs.ConditionTaskOp.GREATER_THAN, left="{{job.parameters.x}}", right="5")),
        _py("when_true", path, ["yes"], depends_on=[jobs.TaskDependency("check", outcome="true")]),
        _py("when_false", path, ["no"], depends_on=[jobs.TaskDependency("check", outcome="false")])])
    run = w.jobs.run_now(job.job_id, job_parameters={"x": "10.0"}).result()
    assert _states(run) == {"check": ("TERMINATED", "SUCCESS"), "when_true": ("TERMINATED", "SUCCESS"),
                            "when_false": ("SKIPPED", "EXCLUDED")}
    assert run.tasks[0].condition_task.outcome == "true"
    assert run.state.result_state == jobs.RunResultState.SUCCESS


def test_condition_task_with_non_numeric_operands_fails(w):
    job = w.jobs.create(name="c", tasks=[jobs.Task(task_key="c", condition_task=jobs.ConditionTask(
        op=jobs.ConditionTaskOp.LESS_THAN, left="abc", right="1"))])
    run = w.jobs.run_now(job.job_id).result()
    assert run.tasks[0].state.result_state == jobs.RunResultState.FAILED
    assert "must be numeric" in run.tasks[0].state.state_message


def test_max_retries_makes_new_attempts(w, code, tmp_path):
    path = code("flaky.py", f"""
        import pathlib
        marker = pathlib.Path({str(tmp_path / 'count')!r})
        n = int(marker.read_text()) if marker.exists() else 0
        marker.write_text(str(n + 1))
        if n < 2:
            raise RuntimeError(f"attempt {{n}}")
    """)
    job = w.jobs.create(name="retry", tasks=[_py("a", path, max_retries=2)])
    run = w.jobs.run_now(job.job_id).result()
    task = run.tasks[0]
    assert task.state.result_state == jobs.RunResultState.SUCCESS and task.attempt_number == 2
    assert (tmp_path / "count").read_text() == "3"


def test_task_timeout_interrupts_and_times_out(w, code):
    path = code("slow.py", """
        while True:
            pass
    """)
    job = w.jobs.create(name="slow", tasks=[_py("a", path, timeout_seconds=1)])
    run = w.jobs.run_now(job.job_id).result()
    assert run.tasks[0].state.result_state == jobs.RunResultState.TIMEDOUT
    assert run.state.result_state == jobs.RunResultState.FAILED


def test_run_job_task_runs_the_other_job(w, script):
    child = w.jobs.create(name="child", parameters=[jobs.JobParameterDefinition(name="p", default="0")],
                          tasks=[_py("c", script, ["{{job.parameters.p}}"])])
    parent = w.jobs.create(name="parent", tasks=[jobs.Task(task_key="call", run_job_task=jobs.RunJobTask(
        job_id=child.job_id, job_parameters={"p": "{{job.id}}"}))])
    run = w.jobs.run_now(parent.job_id).result()
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    out = w.jobs.get_run_output(run.tasks[0].run_id)
    child_run = w.jobs.get_run(out.run_job_output.run_id)
    assert child_run.trigger == jobs.TriggerType.RUN_JOB_TASK and child_run.job_id == child.job_id
    assert child_run.job_parameters[0].value == str(parent.job_id)


def test_unemulated_task_kinds_fail_with_a_clear_message(w):
    job = w.jobs.create(name="p", tasks=[jobs.Task(task_key="dlt", pipeline_task=jobs.PipelineTask(pipeline_id="x"))])
    run = w.jobs.run_now(job.job_id).result()
    task = run.tasks[0]
    assert task.state.result_state == jobs.RunResultState.FAILED
    assert "mlemu does not emulate pipeline_task tasks" in task.state.state_message
    assert task.status.termination_details.code == jobs.TerminationCodeCode.FEATURE_DISABLED


def test_submit_and_wait_one_time_run(w, script):
    run = w.jobs.submit_and_wait(run_name="once", tasks=[jobs.SubmitTask(
        task_key="t", spark_python_task=jobs.SparkPythonTask(python_file=script, parameters=["s"]))])
    assert run.run_type == jobs.RunType.SUBMIT_RUN and run.state.result_state == jobs.RunResultState.SUCCESS
    assert run.run_name == "once" and list(w.jobs.list()) == []


def test_get_output_of_a_job_run_is_refused(w, script):
    job = w.jobs.create(name="j", tasks=[_py("a", script)])
    run = w.jobs.run_now(job.job_id).result()
    with pytest.raises(InvalidParameterValue, match="Retrieving the output of runs with multiple tasks is not supported"):
        w.jobs.get_run_output(run.run_id)
    with pytest.raises(ResourceDoesNotExist, match="Run 1 does not exist"):
        w.jobs.get_run(1)


def test_idempotency_token_returns_the_same_run(w, script):
    job = w.jobs.create(name="j", tasks=[_py("a", script)])
    first = w.jobs.run_now(job.job_id, idempotency_token="tok").run_id
    assert w.jobs.run_now(job.job_id, idempotency_token="tok").run_id == first
    assert len(list(w.jobs.list_runs(job_id=job.job_id))) == 1


def test_queueing_and_cancel_with_manual_execution(mlemu, w, script):
    mlemu.jobs.auto_run = False           # runs wait for run_pending(): their queued states show
    job = w.jobs.create(name="q", tasks=[_py("a", script)])
    r1 = w.jobs.run_now(job.job_id).run_id
    r2 = w.jobs.run_now(job.job_id).run_id
    r3 = w.jobs.run_now(job.job_id).run_id
    assert w.jobs.get_run(r1).state.life_cycle_state == jobs.RunLifeCycleState.PENDING
    queued = w.jobs.get_run(r2)
    assert queued.state.life_cycle_state == jobs.RunLifeCycleState.QUEUED
    assert queued.status.queue_details.code == jobs.QueueDetailsCodeCode.MAX_CONCURRENT_RUNS_REACHED
    assert queued.state.queue_reason == "Queued due to reaching maximum concurrent runs of 1."
    w.jobs.cancel_run(r3)
    assert w.jobs.get_run(r3).state.result_state == jobs.RunResultState.CANCELED
    assert [r.run_id for r in w.jobs.list_runs(job_id=job.job_id, active_only=True)] == [r2, r1]
    done = mlemu.jobs.run_pending()
    assert [r.run_id for r in done] == [r1, r2]
    assert w.jobs.get_run(r2).state.result_state == jobs.RunResultState.SUCCESS
    assert w.jobs.get_run(r2).queue_duration == 0 or w.jobs.get_run(r2).queue_duration >= 0


def test_without_queue_a_run_over_the_limit_is_skipped(mlemu, w, script):
    mlemu.jobs.auto_run = False
    job = w.jobs.create(name="nq", tasks=[_py("a", script)], queue=jobs.QueueSettings(enabled=False))
    w.jobs.run_now(job.job_id)
    skipped = w.jobs.get_run(w.jobs.run_now(job.job_id).run_id)
    assert skipped.state.life_cycle_state == jobs.RunLifeCycleState.SKIPPED
    assert skipped.state.result_state == jobs.RunResultState.MAXIMUM_CONCURRENT_RUNS_REACHED
    assert skipped.status.termination_details.code == jobs.TerminationCodeCode.MAX_CONCURRENT_RUNS_EXCEEDED


def test_cancel_all_runs_of_a_job(mlemu, w, script):
    mlemu.jobs.auto_run = False
    job = w.jobs.create(name="c", tasks=[_py("a", script)], max_concurrent_runs=5)
    ids = [w.jobs.run_now(job.job_id).run_id for _ in range(3)]
    w.jobs.cancel_all_runs(job_id=job.job_id)
    assert {w.jobs.get_run(i).state.result_state for i in ids} == {jobs.RunResultState.CANCELED}
    assert mlemu.jobs.run_pending() == []


def test_repair_reruns_failed_tasks_with_history(w, code, tmp_path):
    flag = tmp_path / "fixed"
    path = code("gate.py", f"""
        import pathlib
        if not pathlib.Path({str(flag)!r}).exists():
            raise RuntimeError("not yet")
    """)
    job = w.jobs.create(name="r", tasks=[_py("a", path), _py("b", path, depends_on=[jobs.TaskDependency("a")])])
    run = w.jobs.run_now(job.job_id).result()
    assert run.state.result_state == jobs.RunResultState.FAILED
    flag.write_text("")
    repaired = w.jobs.repair_run(run.run_id, rerun_all_failed_tasks=True).result()
    assert repaired.state.result_state == jobs.RunResultState.SUCCESS
    history = w.jobs.get_run(run.run_id, include_history=True).repair_history
    assert [h.type.value for h in history] == ["ORIGINAL", "REPAIR"]
    assert history[0].state.result_state == jobs.RunResultState.FAILED
    assert all(t.run_id in history[1].task_run_ids for t in repaired.tasks)
    with pytest.raises(InvalidParameterValue, match="not the latest repair"):
        w.jobs.repair_run(run.run_id, rerun_tasks=["a"], latest_repair_id=1)


def test_repair_of_an_active_run_is_refused(mlemu, w, script):
    mlemu.jobs.auto_run = False
    job = w.jobs.create(name="r", tasks=[_py("a", script)])
    run_id = w.jobs.run_now(job.job_id).run_id
    with pytest.raises(InvalidParameterValue, match="still active"):
        w.jobs.repair_run(run_id, rerun_tasks=["a"])
    with pytest.raises(InvalidParameterValue, match="cancel it first"):
        w.jobs.delete_run(run_id)


def test_delete_run_and_list_runs_paging(w, script):
    job = w.jobs.create(name="l", tasks=[_py("a", script)])
    ids = [w.jobs.run_now(job.job_id).result().run_id for _ in range(4)]
    page = w.api_client.do("GET", "/api/2.2/jobs/runs/list", query={"job_id": job.job_id, "limit": 3})
    assert [r["run_id"] for r in page["runs"]] == ids[::-1][:3] and page["has_more"] is True
    assert "tasks" not in page["runs"][0]
    w.jobs.delete_run(ids[0])
    assert [r.run_id for r in w.jobs.list_runs(job_id=job.job_id, limit=2)] == ids[:0:-1]
    with pytest.raises(InvalidParameterValue, match="between 1 and 25"):
        list(w.jobs.list_runs(limit=26))


def test_export_of_a_non_notebook_task_has_no_views(w, script):
    job = w.jobs.create(name="e", tasks=[_py("a", script)])
    run = w.jobs.run_now(job.job_id).result()
    assert w.jobs.export_run(run.tasks[0].run_id).views == []


def test_api_2_0_single_task_submit_and_get(w, script):
    """The 2.0 surface mlflow's Databricks project backend calls (a task kind at the top level)."""
    run_id = w.api_client.do("POST", "/api/2.0/jobs/runs/submit", body={
        "run_name": "MLflow Run", "new_cluster": {"num_workers": 1},
        "spark_python_task": {"python_file": script, "parameters": ["p"]}})["run_id"]
    got = w.api_client.do("GET", "/api/2.0/jobs/runs/get", query={"run_id": run_id})
    assert got["state"]["result_state"] == "SUCCESS" and got["tasks"][0]["task_key"] == "task"
