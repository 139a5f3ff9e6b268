"""The other task kinds that run: python_wheel_task (an installed distribution's entry point),
sql_task (a SQL file through the workspace's SQL engine), and runs over the loopback server,
where a worker thread executes them with the task's clients pointed at the server."""
from __future__ import annotations

import textwrap

import pytest
from databricks.sdk.service import jobs


@pytest.fixture
def demo_dist(tmp_path, monkeypatch):
    """An installed distribution ``demo-tasks`` with a console script ``demo`` (no pip needed:
    a dist-info folder on sys.path is what importlib.metadata finds)."""
    pkg = tmp_path / "demo_tasks"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent("""
        import sys
        def main():
            from databricks.sdk import WorkspaceClient
            print("wheel", sys.argv[1:], WorkspaceClient().current_user.me().user_name)
        def other():
            print("direct", sys.argv[1:])
    """))
    info = tmp_path / "demo_tasks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-tasks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[console_scripts]\ndemo = demo_tasks:main\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "demo-tasks"


def test_python_wheel_task_runs_the_entry_point(w, demo_dist):
    run = w.jobs.submit_and_wait(run_name="wheel", tasks=[
        jobs.SubmitTask(task_key="named", python_wheel_task=jobs.PythonWheelTask(
            package_name=demo_dist, entry_point="demo", named_parameters={"env": "dev"})),
        jobs.SubmitTask(task_key="fallback", python_wheel_task=jobs.PythonWheelTask(
            package_name="demo_tasks", entry_point="other", parameters=["a", "b"]))])
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    logs = [w.jobs.get_run_output(t.run_id).logs for t in run.tasks]
    assert logs == ["wheel ['--env=dev'] user@company.com\n", "direct ['a', 'b']\n"]


def test_python_wheel_task_of_a_missing_package_fails(w):
    run = w.jobs.submit_and_wait(run_name="wheel", tasks=[jobs.SubmitTask(
        task_key="t", python_wheel_task=jobs.PythonWheelTask(package_name="no_such_pkg_xyz", entry_point="main"))])
    task = run.tasks[0]
    assert task.status.termination_details.code == jobs.TerminationCodeCode.LIBRARY_INSTALLATION_ERROR


def test_sql_task_runs_a_sql_file_on_the_warehouse(mlemu, w, code):
    pytest.importorskip("duckdb")
    pytest.importorskip("sqlglot")
    mlemu.unity_catalog.ensure_schema("main.sq")
    path = code("report.sql", """
        CREATE TABLE main.sq.answers AS SELECT 42 AS answer;
        SELECT count(*) AS n FROM main.sq.answers WHERE answer = :wanted;
    """)
    warehouse = next(iter(w.warehouses.list())).id
    run = w.jobs.submit_and_wait(run_name="sql", tasks=[jobs.SubmitTask(task_key="q", sql_task=jobs.SqlTask(
        warehouse_id=warehouse, file=jobs.SqlTaskFile(path=path), parameters={"wanted": "42"}))])
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    out = w.jobs.get_run_output(run.tasks[0].run_id).sql_output.query_output
    assert out.warehouse_id == warehouse and len(out.sql_statements) == 2
    assert mlemu.unity_catalog.get_table("main.sq.answers") is not None


def test_sql_task_saved_query_is_not_emulated(w):
    run = w.jobs.submit_and_wait(run_name="sql", tasks=[jobs.SubmitTask(task_key="q", sql_task=jobs.SqlTask(
        warehouse_id="x", query=jobs.SqlTaskQuery(query_id="q1")))])
    assert "mlemu does not emulate sql_task.query" in run.tasks[0].state.state_message


def test_runs_over_the_loopback_server_execute_on_a_worker(mlemu, mlemu_server, code):
    from databricks.sdk import WorkspaceClient

    path = code("host.py", """
        from databricks.sdk import WorkspaceClient
        print(WorkspaceClient().config.host)
    """)
    w = WorkspaceClient()                                        # DATABRICKS_HOST is the server
    job = w.jobs.create(name="served", tasks=[jobs.Task(task_key="t", spark_python_task=jobs.SparkPythonTask(
        python_file=path))])
    run = w.jobs.run_now(job.job_id).result(callback=None)
    assert run.state.result_state == jobs.RunResultState.SUCCESS
    assert w.jobs.get_run_output(run.tasks[0].run_id).logs.strip() == mlemu_server.url
