"""Routes of the Jobs API (``w.jobs``): ``/api/2.2/jobs/*`` as the SDK calls them, the same
endpoints under ``/api/2.1`` and ``/api/2.0`` for older clients (mlflow's Databricks project
backend calls ``/api/2.0/jobs/runs/*``). 2.0 and 2.1 differ only where Databricks documents it:
jobs they create are not queued by default, ``jobs/get`` does not page its arrays, and a body
naming one task kind at the top level (the single-task format) is a one-task job.
"""
from __future__ import annotations

from typing import Any

from mlemu.server.services.jobs import wire
from mlemu.server.services.jobs.settings import TASK_KINDS
from mlemu.server.services.jobs.state import JobsService
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service

routes = RouteTable("jobs")
VERSIONS = ("2.2", "2.1", "2.0")


def _jobs(req: Request) -> JobsService:
    return req.ws.jobs  # type: ignore[no-any-return]


def _version(req: Request) -> str:
    return req.path.split("/")[2]


def _single_task(raw: dict[str, Any], key: str) -> dict[str, Any]:
    """The single-task format (a task kind at the top level) as a one-task job."""
    kinds = [k for k in TASK_KINDS if k in raw]
    if not kinds or raw.get("tasks"):
        return raw
    task = {k: raw.pop(k) for k in list(raw) if k in (*kinds, "new_cluster", "existing_cluster_id",
                                                        "libraries", "max_retries", "min_retry_interval_millis",
                                                        "retry_on_timeout")}
    task["task_key"] = key
    raw["tasks"] = [task]
    return raw


def _calls(*names: str) -> tuple[str, ...]:
    return tuple(f"WorkspaceClient.jobs.{n}" for n in names)


def _route(method: str, path: str, operation: str, body: type, calls: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """Declare a handler under every API version (the SDK's calls are named on 2.2's)."""
    def decorate(fn):  # type: ignore[no-untyped-def]
        for v in VERSIONS:
            older = (f"Jobs API {v} clients (databricks-cli, REST)",)
            if v == "2.0" and path in ("runs/submit", "runs/get", "runs/cancel"):
                older += ("mlflow.projects.run(backend='databricks')",)
            routes.route(method, f"/api/{v}/jobs/{path}", operation if v == "2.2" else f"{operation}.v{v.replace('.', '')}",
                         body=body, client_calls=calls if v == "2.2" else older)(fn)
        return fn
    return decorate


# -- jobs ------------------------------------------------------------------------------------

@_route("POST", "create", "create", wire.CreateJob, _calls("create"))
def create(req: Request) -> dict:
    raw = _single_task(req.args.raw(), (req.args.raw().get("name") or "task").replace(" ", "_")[:100])
    raw.pop("access_control_list", None)
    return {"job_id": _jobs(req).create(raw, api_version=_version(req)).job_id}


@_route("GET", "get", "get", wire.GetJob, _calls("get"))
def get(req: Request) -> dict:
    a = req.args
    return wire.job(_jobs(req).get(a.job_id), page_token_in=a.page_token, api_version=_version(req))


@_route("GET", "list", "list", wire.ListJobs, _calls("list"))
def list_jobs(req: Request) -> dict:
    a = req.args
    limit = wire.limit_of(a.limit, wire.LIST_JOBS_DEFAULT, wire.LIST_JOBS_MAX)
    start = wire.read_page_token(a.page_token, a.offset)
    jobs, meta = wire.page(_jobs(req).list(name=a.name), start, limit)
    out: dict[str, Any] = {}
    if jobs:
        out["jobs"] = [wire.job(j, expand_tasks=bool(a.expand_tasks), api_version="list") for j in jobs]
    out.update(meta)
    return out


@_route("POST", "update", "update", wire.UpdateJob, _calls("update"))
def update(req: Request) -> dict:
    a = req.args
    _jobs(req).update(a.job_id, a.new_settings, a.fields_to_remove or ())
    return {}


@_route("POST", "reset", "reset", wire.ResetJob, _calls("reset"))
def reset(req: Request) -> dict:
    a = req.args
    _jobs(req).reset(a.job_id, a.new_settings, api_version=_version(req))
    return {}


@_route("POST", "delete", "delete", wire.JobId, _calls("delete"))
def delete(req: Request) -> dict:
    _jobs(req).delete(req.args.job_id)
    return {}


# -- runs ------------------------------------------------------------------------------------

@_route("POST", "run-now", "run_now", wire.RunNow, _calls("run_now", "run_now_and_wait"))
def run_now(req: Request) -> dict:
    a = req.args
    run = _jobs(req).start_run(a.job_id, job_parameters=a.job_parameters, idempotency_token=a.idempotency_token,
                               only=a.only, queue=a.queue, base_url=req.base_url, **a.legacy())
    return {"run_id": run.run_id, "number_in_job": run.run_id}


@_route("POST", "runs/submit", "runs.submit", wire.SubmitRun, _calls("submit", "submit_and_wait"))
def submit(req: Request) -> dict:
    raw = _single_task(req.args.raw(), "task")
    raw.pop("access_control_list", None)
    return {"run_id": _jobs(req).submit(raw, base_url=req.base_url).run_id}


@_route("GET", "runs/get", "runs.get", wire.GetRun,
        _calls("get_run", "wait_get_run_job_terminated_or_skipped"))
def get_run(req: Request) -> dict:
    a = req.args
    jobs = _jobs(req)
    if a.run_id not in jobs.runs:
        run, task = jobs.find_task_run(a.run_id)
        return wire.task_as_run(run, task, req.ws.host, req.ws.workspace_id)
    return wire.run(jobs.get_run(a.run_id), req.ws.host, req.ws.workspace_id, include_history=bool(a.include_history),
                    include_resolved_values=bool(a.include_resolved_values), page_token_in=a.page_token)


@_route("GET", "runs/list", "runs.list", wire.ListRuns, _calls("list_runs"))
def list_runs(req: Request) -> dict:
    a = req.args
    limit = wire.limit_of(a.limit, wire.LIST_RUNS_DEFAULT, wire.LIST_RUNS_MAX, zero_is_max=True)
    start = wire.read_page_token(a.page_token, a.offset)
    runs = _jobs(req).list_runs(job_id=a.job_id, active_only=bool(a.active_only), completed_only=bool(a.completed_only),
                                run_type=a.run_type, start_time_from=a.start_time_from, start_time_to=a.start_time_to)
    chunk, meta = wire.page(runs, start, limit)
    out: dict[str, Any] = {}
    if chunk:
        out["runs"] = [wire.run(r, req.ws.host, req.ws.workspace_id, expand_tasks=bool(a.expand_tasks)) for r in chunk]
    out.update(meta)
    return out


@_route("POST", "runs/cancel", "runs.cancel", wire.RunId, _calls("cancel_run", "cancel_run_and_wait"))
def cancel_run(req: Request) -> dict:
    _jobs(req).cancel(req.args.run_id)
    return {}


@_route("POST", "runs/cancel-all", "runs.cancel_all", wire.CancelAll, _calls("cancel_all_runs"))
def cancel_all(req: Request) -> dict:
    _jobs(req).cancel_all(req.args.job_id, bool(req.args.all_queued_runs))
    return {}


@_route("POST", "runs/delete", "runs.delete", wire.RunId, _calls("delete_run"))
def delete_run(req: Request) -> dict:
    _jobs(req).delete_run(req.args.run_id)
    return {}


@_route("GET", "runs/get-output", "runs.get_output", wire.RunId, _calls("get_run_output"))
def get_output(req: Request) -> dict:
    run, task = _jobs(req).find_task_run(req.args.run_id)
    return wire.output(run, task, req.ws.host, req.ws.workspace_id)


@_route("GET", "runs/export", "runs.export", wire.ExportRun, _calls("export_run"))
def export_run(req: Request) -> dict:
    jobs = _jobs(req)
    _, task = jobs.find_task_run(req.args.run_id)
    return wire.export_views(task, jobs.details.get(task.run_id), req.args.views_to_export)


@_route("POST", "runs/repair", "runs.repair", wire.RepairRun, _calls("repair_run", "repair_run_and_wait"))
def repair(req: Request) -> dict:
    a = req.args
    repair_id = _jobs(req).repair(a.run_id, rerun_tasks=a.rerun_tasks, rerun_all_failed_tasks=bool(a.rerun_all_failed_tasks),
                                  rerun_dependent_tasks=bool(a.rerun_dependent_tasks), latest_repair_id=a.latest_repair_id,
                                  job_parameters=a.job_parameters, base_url=req.base_url, **a.legacy())
    return {"repair_id": repair_id}


SERVICE = Service("jobs", routes, state=JobsService, description="Lakeflow Jobs: jobs, runs, task execution")
