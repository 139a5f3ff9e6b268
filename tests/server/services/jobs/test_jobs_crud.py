"""Jobs through the real SDK: create, get, list (name filter, paging), update, reset, delete,
and the errors a workspace answers for settings it refuses."""
from __future__ import annotations

import pytest
from databricks.sdk.errors import InvalidParameterValue, ResourceDoesNotExist
from databricks.sdk.service import jobs

pytestmark = pytest.mark.usefixtures("mlemu")


def _nb(key, path="/Shared/nb", **kw):
    return jobs.Task(task_key=key, notebook_task=jobs.NotebookTask(notebook_path=path), **kw)


def test_create_and_get_show_databricks_defaults(w):
    job = w.jobs.create(name="train", tasks=[_nb("a"), _nb("b", depends_on=[jobs.TaskDependency("a")])])
    got = w.jobs.get(job.job_id)
    assert got.job_id == job.job_id and got.creator_user_name == "user@company.com"
    s = got.settings
    assert s.name == "train" and s.max_concurrent_runs == 1 and s.timeout_seconds == 0
    assert s.format == jobs.Format.MULTI_TASK
    assert s.queue.enabled is True                       # API 2.2 queues by default
    a, b = s.tasks
    assert a.run_if == jobs.RunIf.ALL_SUCCESS and a.notebook_task.source == jobs.Source.WORKSPACE
    assert [d.task_key for d in b.depends_on] == ["a"]


def test_api_2_1_jobs_are_not_queued_by_default(mlemu, w):
    body = w.api_client.do("POST", "/api/2.1/jobs/create", body={"name": "old", "tasks": [
        {"task_key": "a", "notebook_task": {"notebook_path": "/x"}}]})
    assert "queue" not in w.jobs.get(body["job_id"]).settings.as_dict()
    mlemu.calls.assert_called("jobs.create.v21", times=1)


def test_unknown_fields_are_dropped(w):
    job_id = w.api_client.do("POST", "/api/2.2/jobs/create", body={
        "name": "x", "no_such_field": 1,
        "tasks": [{"task_key": "a", "notebook_task": {"notebook_path": "/x"}, "git_source_info": "u"}]})["job_id"]
    raw = w.api_client.do("GET", "/api/2.2/jobs/get", query={"job_id": job_id})
    assert "no_such_field" not in raw["settings"] and "git_source_info" not in raw["settings"]["tasks"][0]


def test_list_filters_by_exact_name_ignoring_case_and_pages(w):
    ids = [w.jobs.create(name=f"job-{i}").job_id for i in range(5)]
    w.jobs.create(name="Other")
    assert [j.job_id for j in w.jobs.list(name="other")] and len(list(w.jobs.list(name="oth"))) == 0
    page = w.api_client.do("GET", "/api/2.2/jobs/list", query={"limit": 2})
    assert len(page["jobs"]) == 2 and page["has_more"] is True and "tasks" not in page["jobs"][0]["settings"]
    listed = [j.job_id for j in w.jobs.list(limit=2)]       # the SDK follows next_page_token
    assert listed[1:] == list(reversed(ids)) and len(listed) == 6   # newest first


def test_list_limit_out_of_range_is_refused(w):
    with pytest.raises(InvalidParameterValue, match="between 1 and 100"):
        list(w.jobs.list(limit=101))


def test_update_merges_tasks_by_key_and_removes_fields(w):
    job = w.jobs.create(name="j", tasks=[_nb("a"), _nb("b")], tags={"team": "ml"})
    w.jobs.update(job.job_id, new_settings=jobs.JobSettings(
        name="j2", tasks=[_nb("b", path="/Shared/other"), _nb("c")]), fields_to_remove=["tags", "tasks/a"])
    s = w.jobs.get(job.job_id).settings
    assert s.name == "j2" and s.tags is None
    assert [(t.task_key, t.notebook_task.notebook_path) for t in s.tasks] == [("b", "/Shared/other"), ("c", "/Shared/nb")]


def test_reset_replaces_all_settings(w):
    job = w.jobs.create(name="j", tasks=[_nb("a")], max_concurrent_runs=3)
    w.jobs.reset(job.job_id, jobs.JobSettings(name="fresh"))
    s = w.jobs.get(job.job_id).settings
    assert s.name == "fresh" and s.max_concurrent_runs == 1 and not s.tasks


def test_delete_then_get_is_refused(mlemu, w):
    job = w.jobs.create(name="gone")
    w.jobs.delete(job.job_id)
    # Databricks answers 400 INVALID_PARAMETER_VALUE "Job <id> does not exist."; the SDK's own
    # error override turns exactly that into ResourceDoesNotExist.
    with pytest.raises(ResourceDoesNotExist, match=f"Job {job.job_id} does not exist"):
        w.jobs.get(job.job_id)
    assert mlemu.calls.filter("jobs.get")[-1].status == 400


@pytest.mark.parametrize("tasks, message", [
    ([_nb("a"), _nb("a")], "Task key 'a' is duplicated"),
    ([_nb("a", depends_on=[jobs.TaskDependency("zz")])], "non-existent task 'zz'"),
    ([_nb("a", depends_on=[jobs.TaskDependency("b")]), _nb("b", depends_on=[jobs.TaskDependency("a")])], "cycle"),
    ([jobs.Task(task_key="a")], "exactly one task type"),
    ([jobs.Task(task_key="a", notebook_task=jobs.NotebookTask(notebook_path="/x"),
                spark_python_task=jobs.SparkPythonTask(python_file="/y"))], "more than one task type"),
    ([_nb("bad key!")], "Invalid task key"),
    ([_nb("a", depends_on=[jobs.TaskDependency("b", outcome="true")]), _nb("b")], "not a condition task"),
])
def test_invalid_task_graphs_are_refused(w, tasks, message):
    with pytest.raises(InvalidParameterValue, match=message):
        w.jobs.create(name="bad", tasks=tasks)
    assert list(w.jobs.list()) == []                        # nothing half-written


def test_invalid_limits_schedule_and_references_are_refused(w):
    with pytest.raises(InvalidParameterValue, match="max_concurrent_runs"):
        w.jobs.create(name="x", max_concurrent_runs=1001)
    with pytest.raises(InvalidParameterValue, match="quartz_cron_expression"):
        w.jobs.create(name="x", schedule=jobs.CronSchedule(quartz_cron_expression="0 0 9 * *", timezone_id="UTC"))
    with pytest.raises(InvalidParameterValue, match="timezone_id"):
        w.jobs.create(name="x", schedule=jobs.CronSchedule(quartz_cron_expression="0 0 9 * * ?", timezone_id="Mars/Base"))
    with pytest.raises(InvalidParameterValue, match=r"\{\{job.notebook_url\}\}"):
        w.jobs.create(name="x", tasks=[jobs.Task(task_key="a", notebook_task=jobs.NotebookTask(
            notebook_path="/x", base_parameters={"u": "{{job.notebook_url}}"}))])


def test_unknown_references_outside_known_namespaces_stay_literal(w):
    w.jobs.create(name="x", tasks=[jobs.Task(task_key="a", notebook_task=jobs.NotebookTask(
        notebook_path="/x", base_parameters={"u": "{{not.a.namespace}}", "v": "{{job.id"}))])


def test_run_job_task_must_name_an_existing_job(w):
    with pytest.raises(InvalidParameterValue, match="does not exist"):
        w.jobs.create(name="x", tasks=[jobs.Task(task_key="a", run_job_task=jobs.RunJobTask(job_id=42))])


def test_jobs_get_pages_more_than_100_tasks(w):
    tasks = [_nb(f"t{i:03d}") for i in range(130)]
    job = w.jobs.create(name="big", tasks=tasks)
    got = w.jobs.get(job.job_id)                              # the SDK joins the pages
    assert len(got.settings.tasks) == 130
    raw = w.api_client.do("GET", "/api/2.2/jobs/get", query={"job_id": job.job_id})
    assert len(raw["settings"]["tasks"]) == 100 and raw["next_page_token"]
