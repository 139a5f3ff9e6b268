"""MLflow 3 deployment jobs: a Unity Catalog model linked to a job (``deployment_job_id``) has that
job run for every new version, with the job parameters ``model_name`` and ``model_version``.

What the registry reports, as Databricks does:

* the model's ``deployment_job_state``: CONNECTED (the job exists and defines both parameters),
  NOT_FOUND (no such job), REQUIRED_PARAMETERS_CHANGED (a parameter is missing);
* each version's ``deployment_job_state``: the job and run ids, the connection state, and the
  run's state: PENDING, RUNNING (``current_task_name`` is the running task), APPROVAL (the run
  stopped at a failed approval task, waiting for the version's approval tag), SUCCEEDED, FAILED,
  or NO_VALID_DEPLOYMENT_JOB_FOUND when no run could start.

An approval task is a task whose key starts with ``approval`` (any case), whose notebook checks
the version's UC tag named after the task (``{{task.name}}``) for ``Approved``. Approving (the
model version page's button; :func:`approve` here) sets that tag and repairs the run.
[emu: the approval-task naming rule is Databricks' documented convention as mlemu reads it.]
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.errors import invalid

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.jobs.runs import JobRun

APPROVED = "Approved"


def is_approval_task(task_key: str) -> bool:
    return task_key.lower().startswith("approval")


def connection_state(ws: "WorkspaceState", job_id: str) -> str:
    """The registered model's ``deployment_job_state``."""
    jobs: Any = ws.jobs
    return jobs.deployment_connection(job_id)  # type: ignore[no-any-return]


def start(ws: "WorkspaceState", job_id: str, model_name: str, version: int) -> int:
    """Start the deployment job for a new version; its run id (0 when none could start)."""
    jobs: Any = ws.jobs
    run = jobs.start_deployment_run(job_id, model_name, str(version))
    return run.run_id if run is not None else 0


def version_state(ws: "WorkspaceState", job_id: str, run_id: int) -> dict[str, Any] | None:
    """A version's ``deployment_job_state`` (None for a version of an unlinked model)."""
    if not job_id:
        return None
    jobs: Any = ws.jobs
    out: dict[str, Any] = {"job_id": job_id, "job_state": jobs.deployment_connection(job_id)}
    run = jobs.runs.get(run_id) if run_id else None
    if run is None:
        out["run_state"] = "NO_VALID_DEPLOYMENT_JOB_FOUND"
        return out
    out["run_id"] = str(run.run_id)
    state, task = run_state(run)
    out["run_state"] = state
    if task:
        out["current_task_name"] = task
    return out


def run_state(run: "JobRun") -> tuple[str, str]:
    """(run_state, current_task_name) of a deployment job run."""
    life = run.state.life_cycle_state
    if life in ("QUEUED", "PENDING"):
        return "PENDING", ""
    if not run.state.done:
        running = next((k for k, t in run.tasks.items() if t.state.life_cycle_state == "RUNNING"), "")
        return "RUNNING", running
    if run.state.result_state in ("SUCCESS", "SUCCESS_WITH_FAILURES"):
        return "SUCCEEDED", ""
    failed = [k for k, t in run.tasks.items() if t.state.result_state in ("FAILED", "TIMEDOUT")]
    if failed and is_approval_task(failed[0]):
        return "APPROVAL", failed[0]
    return "FAILED", failed[0] if failed else ""


def approve(ws: "WorkspaceState", model_name: str, version: Any) -> "JobRun":
    """What the Approve button does: tag the version ``{<approval task>: Approved}`` and repair
    the deployment run from the approval task on. The repaired run executes before this returns."""
    reg: Any = ws.registry
    jobs: Any = ws.jobs
    with ws.lock:
        mv = reg.get_version(model_name, version)
        run = jobs.runs.get(mv.deployment_run_id) if mv.deployment_run_id else None
        if run is None:
            raise invalid(f"Model version {mv.version} of '{mv.full_name}' has no deployment job run.")
        state, task = run_state(run)
        if state != "APPROVAL":
            raise invalid(f"The deployment job run {run.run_id} is {state}, not waiting for approval.")
        reg.set_version_tag(mv.full_name, mv.version, task, APPROVED)
        jobs.repair(run.run_id, rerun_all_failed_tasks=True)
        jobs._created.__dict__.pop("runs", None)
    if jobs.auto_run:
        jobs.drain([run.run_id])
    return run  # type: ignore[no-any-return]
