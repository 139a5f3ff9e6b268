"""``notebook_task``: the notebook runs in mlemu's notebook runtime with the task's widgets
(``base_parameters`` under the job's parameters), its job context (``notebookPath()``, job and
run ids in ``tags()``) and the run's task values. A failing cell fails the task with the cell
and its traceback as ``error_trace``; the notebook's run (displays, cells) is the task's details.

The notebook comes from the local file behind its workspace path (a bundle's synced files,
``ws.jobs.mount``) or from the emulated workspace tree.
"""
from __future__ import annotations

from typing import Any

from mlemu.server.services.jobs.tasks import TaskFailed, TaskInvocation, TaskResult
from mlemu.standins.job_tasks.environment import client_environment


class _Values:
    """The run's task values as the notebook runtime's store (``get`` answers MISSING)."""

    def __init__(self, inv: TaskInvocation, missing: Any) -> None:
        self._inv, self._missing = inv, missing

    def set(self, task_key: str, key: str, value: Any) -> None:
        self._inv.task_values.set(task_key, key, value)

    def get(self, task_key: str, key: str) -> Any:
        return self._inv.task_values.get(task_key, key, self._missing)

    def has_task(self, task_key: str) -> bool:
        return task_key in self._inv.task_keys


def run_notebook(inv: TaskInvocation) -> TaskResult:
    from mlemu.standins import notebooks

    path = str(inv.body["notebook_path"])
    source = inv.body.get("source")
    if source == "GIT":
        raise TaskFailed("mlemu does not check out Git repositories: deploy the notebook (mlemu.bundles.load, "
                         "ws.jobs.mount) or import it into the workspace and use source WORKSPACE.",
                         code="REPOSITORY_CHECKOUT_FAILED")
    local = inv.local_path(path)
    workspace_path = "/" + path.strip("/").removeprefix("Workspace/")
    if workspace_path.endswith(".py"):
        workspace_path = workspace_path[:-3]
    context = notebooks.NotebookContext(
        notebook_path=workspace_path, job_id=inv.job_id, run_id=inv.task_run_id, task_key=inv.task_key,
        task_values=_Values(inv, notebooks.MISSING), user_name=inv.user_name or None,
        extra_tags=dict(inv.extra_tags), parent_run_id=inv.job_run_id, job_name=inv.job_name or None)
    try:
        with client_environment(inv.workspace, inv.base_url, inv.token):
            run = notebooks.run(local or workspace_path, parameters=inv.parameters, workspace=inv.workspace,
                                context=context, source=None if local else "WORKSPACE")
    except notebooks.NotebookFailed as e:
        error = e.error if e.error is not None else e
        text = str(error).strip().splitlines()
        one_line = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
        raise TaskFailed(one_line, str(e), details=e.run, logs=_logs(e.run)) from None
    except notebooks.NotebookNotFound as e:
        raise TaskFailed(f"Unable to access the notebook '{path}': {e}", code="RESOURCE_NOT_FOUND") from None
    return TaskResult(exit_value=run.exit_value, logs=_logs(run), details=run)


def _logs(run: Any) -> str | None:
    """What the notebook's cells printed, in order (what a job run's output page shows)."""
    if run is None:
        return None
    text = "".join(getattr(c, "output", "") or "" for c in getattr(run, "cells", []) or [])
    return text or None
