"""dbutils.jobs.taskValues as Databricks documents it, inside a job (a store shared by the
tasks of one run) and outside one (debugValue)."""
from __future__ import annotations

import pytest

from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookContext, NotebookFailed, TaskValues


def in_job(store: TaskValues, task_key: str) -> NotebookContext:
    return NotebookContext(job_id=1, run_id=2, parent_run_id=3, task_key=task_key, task_values=store)


def test_values_pass_between_tasks(write_notebook):
    store = TaskValues(tasks=["first", "second"])
    first = write_notebook("First.py", """
        dbutils.jobs.taskValues.set("rows", 42)
        dbutils.jobs.taskValues.set(key="meta", value={"ok": True, "tags": ["a", "b"]})
    """)
    second = write_notebook("Second.py", """
        rows = dbutils.jobs.taskValues.get("first", "rows")
        meta = dbutils.jobs.taskValues.get(taskKey="first", key="meta", debugValue={"ok": False})
        fallback = dbutils.jobs.taskValues.get("first", "nope", default="dflt")
        dbutils.notebook.exit(repr((rows, meta, fallback)))
    """)
    assert notebooks.run(first, context=in_job(store, "first")).task_values == {
        "rows": 42, "meta": {"ok": True, "tags": ["a", "b"]}}
    assert store.get("first", "rows") == 42
    run = notebooks.run(second, context=in_job(store, "second"))
    assert run.exit_value == repr((42, {"ok": True, "tags": ["a", "b"]}, "dflt"))


@pytest.mark.parametrize("cell, error, message", [
    ('dbutils.jobs.taskValues.get("first", "nope")', ValueError, "No task value"),
    ('dbutils.jobs.taskValues.get("ghost", "rows", default=1)', ValueError, "Task 'ghost' was not found"),
    ('dbutils.jobs.taskValues.set("x", object())', TypeError, "cannot be expressed as JSON"),
    ('dbutils.jobs.taskValues.set("x", "a" * 49152)', ValueError, "limit is 49152 bytes"),
    ('dbutils.jobs.taskValues.set(1, "a")', TypeError, "keys must be strings"),
])
def test_errors_in_a_job(write_notebook, cell, error, message):
    store = TaskValues(tasks=["first", "second"])
    store.set("first", "rows", 1)
    with pytest.raises(NotebookFailed, match=message) as info:
        notebooks.run(write_notebook("T.py", cell), context=in_job(store, "second"))
    assert isinstance(info.value.error, error)


def test_outside_a_job_get_needs_a_debug_value(write_notebook):
    ok = write_notebook("Ok.py", """
        value = dbutils.jobs.taskValues.get("Train", "model_uri", default="d", debugValue="debug")
        dbutils.jobs.taskValues.set("echo", value)
    """)
    run = notebooks.run(ok)
    assert run.task_values == {"echo": "debug"}           # kept on the run, for the test
    assert "outside a job" in run.log[0]
    with pytest.raises(NotebookFailed, match="Must pass debugValue when calling get outside of a job context") as info:
        notebooks.run(write_notebook("Bad.py", 'dbutils.jobs.taskValues.get("Train", "model_uri")'))
    assert isinstance(info.value.error, TypeError)


def test_a_job_store_without_has_task(write_notebook):
    class Store:  # the minimal protocol: set/get
        def __init__(self):
            self.values = {}

        def set(self, task_key, key, value):
            self.values[(task_key, key)] = value

        def get(self, task_key, key):
            return self.values.get((task_key, key), notebooks.MISSING)

    store = Store()
    notebooks.run(write_notebook("A.py", 'dbutils.jobs.taskValues.set("k", [1])'), context=in_job(store, "a"))
    run = notebooks.run(write_notebook("B.py", 'dbutils.notebook.exit(str(dbutils.jobs.taskValues.get("a", "k")))'),
                        context=in_job(store, "b"))
    assert store.values == {("a", "k"): [1]} and run.exit_value == "[1]"
