"""The notebook context MLOps code reads through dbutils.notebook.entry_point: the path, tags
and the toJson() document, in and outside a job; and a WorkspaceClient made from it."""
from __future__ import annotations

import json

from mlemu.standins import notebooks
from mlemu.standins.notebooks import NotebookContext

READ_CONTEXT = """
    import json
    ctx = dbutils.notebook.entry_point.getDbutils().notebook().getContext()
    doc = json.loads(ctx.toJson())
    safe = json.loads(ctx.safeToJson())
    facts = {
        "path": ctx.notebookPath().get(),
        "user": ctx.tags().apply("user"),
        "job": ctx.tags().get("jobId").getOrElse(None),
        "task": ctx.tags().get("taskKey").isDefined(),
        "run": ctx.currentRunId().get().id() if ctx.currentRunId().isDefined() else None,
        "doc_tags": doc["tags"],
        "current": doc["currentRunId"],
        "extra_path": doc["extraContext"]["notebook_path"],
        "token_safe": safe["extraContext"]["api_token"],
        "api_url": ctx.apiUrl().get(),
    }
    dbutils.notebook.exit(json.dumps(facts))
"""


def test_inside_a_job(mlemu, write_notebook):
    path = write_notebook("Ctx.py", READ_CONTEXT)
    context = NotebookContext(notebook_path="/Users/ada@example.com/project/Ctx", job_id=123, run_id=456,
                              parent_run_id=455, task_key="Train", user_name="ada@example.com",
                              job_name="training", extra_tags={"env": "dev"})
    facts = json.loads(notebooks.run(path, context=context).exit_value)
    assert facts["path"] == "/Users/ada@example.com/project/Ctx"
    assert facts["user"] == "ada@example.com" and facts["job"] == "123" and facts["task"] is True
    assert facts["run"] == 456 and facts["current"] == {"id": 456}
    tags = facts["doc_tags"]
    assert {k: tags[k] for k in ("jobId", "runId", "multitaskParentRunId", "jobRunId", "taskKey", "jobName",
                                 "orgId", "env")} == {
        "jobId": "123", "runId": "456", "multitaskParentRunId": "455", "jobRunId": "455", "taskKey": "Train",
        "jobName": "training", "orgId": mlemu.workspace_id, "env": "dev"}
    assert tags["browserHostName"] == mlemu.host.split("//")[1]
    assert facts["extra_path"] == "/Users/ada@example.com/project/Ctx"
    assert facts["token_safe"] == "[REDACTED]" and facts["api_url"] == mlemu.host


def test_outside_a_job(mlemu, write_notebook):
    path = write_notebook("Ctx.py", READ_CONTEXT)
    facts = json.loads(notebooks.run(path).exit_value)
    assert facts["path"] == str(path)[:-3]                  # a local file: its path without .py
    assert facts["user"] == "user@company.com"
    assert facts["job"] is None and facts["task"] is False and facts["run"] is None
    assert facts["current"] is None and "jobId" not in facts["doc_tags"]


def test_a_workspace_client_from_the_context_reaches_the_workspace(mlemu, write_notebook):
    path = write_notebook("Client.py", """
        from databricks.sdk import WorkspaceClient
        ctx = dbutils.notebook.entry_point.getDbutils().notebook().getContext()
        w = WorkspaceClient(host=ctx.apiUrl().get(), token=ctx.apiToken().get())
        dbutils.notebook.exit(w.current_user.me().user_name)
    """)
    assert notebooks.run(path).exit_value == "user@company.com"
    mlemu.calls.assert_called("iam.*")
