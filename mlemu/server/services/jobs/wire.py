"""Request models and JSON shapes of the Jobs API (databricks-sdk ``jobs.Job``, ``BaseJob``,
``Run``, ``RunTask``, ``RunOutput``, ``RepairHistoryItem``), rendered from the domain objects
of :mod:`.state` and :mod:`.runs` in one place for every API version.

Requests accept fields mlemu does not know (Databricks' JSON parser ignores them); the settings
keep only the fields ``JobSettings`` has (:mod:`.settings`).
"""
from __future__ import annotations

import base64
import copy
import html
import json
from typing import TYPE_CHECKING, Any, Optional

from pydantic import ConfigDict

from mlemu.server.core.errors import invalid
from mlemu.server.wire.fields import WireArgs
from mlemu.server.services.jobs.runs import STATUS_STATE, JobRun, RunState, TaskRun

if TYPE_CHECKING:
    from mlemu.server.services.jobs.state import Job

#: Array fields ``jobs/get`` and ``runs/get`` page at 100 elements (API 2.2).
ARRAY_PAGE = 100
JOB_ARRAYS = ("tasks", "job_clusters", "parameters", "environments")
LIST_JOBS_MAX, LIST_JOBS_DEFAULT = 100, 20
LIST_RUNS_MAX, LIST_RUNS_DEFAULT = 25, 20


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class _Open(WireArgs):
    """A body whose other fields are kept (job settings)."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    def raw(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class CreateJob(_Open):
    name: Optional[str] = None
    tasks: Optional[list[dict[str, Any]]] = None
    max_concurrent_runs: Optional[int] = None
    timeout_seconds: Optional[int] = None
    parameters: Optional[list[dict[str, Any]]] = None
    tags: Optional[dict[str, str]] = None


class JobId(_Args):
    job_id: int


class GetJob(JobId):
    include_trigger_state: Optional[bool] = None
    page_token: Optional[str] = None


class ListJobs(_Args):
    limit: Optional[int] = None
    offset: Optional[int] = None
    name: Optional[str] = None
    expand_tasks: Optional[bool] = None
    page_token: Optional[str] = None


class UpdateJob(JobId):
    new_settings: Optional[dict[str, Any]] = None
    fields_to_remove: Optional[list[str]] = None


class ResetJob(JobId):
    new_settings: dict[str, Any]


class _TaskParams(_Args):
    notebook_params: Optional[dict[str, str]] = None
    python_params: Optional[list[str]] = None
    python_named_params: Optional[dict[str, str]] = None
    jar_params: Optional[list[str]] = None
    sql_params: Optional[dict[str, str]] = None
    spark_submit_params: Optional[list[str]] = None
    job_parameters: Optional[dict[str, str]] = None

    def legacy(self) -> dict[str, Any]:
        return {k: v for k in ("notebook_params", "python_params", "python_named_params", "jar_params",
                               "sql_params", "spark_submit_params") if (v := getattr(self, k)) is not None}


class RunNow(JobId, _TaskParams):
    idempotency_token: Optional[str] = None
    only: Optional[list[str]] = None
    queue: Optional[dict[str, Any]] = None


class SubmitRun(_Open):
    run_name: Optional[str] = None
    tasks: Optional[list[dict[str, Any]]] = None
    timeout_seconds: Optional[int] = None
    idempotency_token: Optional[str] = None


class RunId(_Args):
    run_id: int


class GetRun(RunId):
    include_history: Optional[bool] = None
    include_resolved_values: Optional[bool] = None
    page_token: Optional[str] = None


class ListRuns(_Args):
    job_id: Optional[int] = None
    active_only: Optional[bool] = None
    completed_only: Optional[bool] = None
    offset: Optional[int] = None
    limit: Optional[int] = None
    run_type: Optional[str] = None
    expand_tasks: Optional[bool] = None
    start_time_from: Optional[int] = None
    start_time_to: Optional[int] = None
    page_token: Optional[str] = None


class CancelAll(_Args):
    job_id: Optional[int] = None
    all_queued_runs: Optional[bool] = None


class ExportRun(RunId):
    views_to_export: Optional[str] = None


class RepairRun(RunId, _TaskParams):
    rerun_tasks: Optional[list[str]] = None
    rerun_all_failed_tasks: Optional[bool] = None
    rerun_dependent_tasks: Optional[bool] = None
    latest_repair_id: Optional[int] = None


# -- paging ----------------------------------------------------------------------------------

def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode().rstrip("=")


def read_page_token(token: str | None, offset: int | None) -> int:
    if not token:
        if offset is not None and offset < 0:
            raise invalid("offset must be a non-negative integer.")
        return offset or 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        value = int(data["offset"])
        if value < 0:
            raise ValueError
        return value
    except (ValueError, KeyError, TypeError):
        raise invalid(f"Invalid page token: {token[:100]}") from None


def limit_of(limit: int | None, default: int, maximum: int, *, zero_is_max: bool = False) -> int:
    if limit is None:
        return default
    if limit == 0 and zero_is_max:
        return maximum
    if not 1 <= limit <= maximum:
        raise invalid(f"Invalid limit {limit}: it must be between 1 and {maximum}.")
    return limit


def page(items: list[Any], start: int, limit: int) -> tuple[list[Any], dict[str, Any]]:
    """One page of a listing and its ``has_more`` / ``next_page_token`` / ``prev_page_token``."""
    chunk = items[start:start + limit]
    meta: dict[str, Any] = {"has_more": start + limit < len(items)}
    if meta["has_more"]:
        meta["next_page_token"] = page_token(start + limit)
    if start > 0:
        meta["prev_page_token"] = page_token(max(start - limit, 0))
    return chunk, meta


# -- jobs ------------------------------------------------------------------------------------

def job(j: "Job", *, expand_tasks: bool = True, page_token_in: str | None = None,
        api_version: str = "2.2") -> dict[str, Any]:
    """A job (``jobs/get``), or a ``BaseJob`` of a listing without its tasks."""
    settings = copy.deepcopy(j.settings)
    out: dict[str, Any] = {"job_id": j.job_id, "creator_user_name": j.creator,
                           "run_as_user_name": j.creator, "created_time": j.created_time}
    if not expand_tasks:
        for name in ("tasks", "job_clusters"):
            settings.pop(name, None)
    elif api_version == "2.2":
        start = read_page_token(page_token_in, None)
        more = False
        for name in JOB_ARRAYS:
            values = settings.get(name)
            if isinstance(values, list):
                settings[name] = values[start:start + ARRAY_PAGE]
                more = more or len(values) > start + ARRAY_PAGE
        if more:
            out["next_page_token"] = page_token(start + ARRAY_PAGE)
        out["has_more"] = more
    out["settings"] = settings
    return out


# -- runs ------------------------------------------------------------------------------------

def state(s: RunState) -> dict[str, Any]:
    out: dict[str, Any] = {"life_cycle_state": s.life_cycle_state, "state_message": s.state_message,
                           "user_cancelled_or_timedout": s.user_cancelled_or_timedout}
    if s.result_state:
        out["result_state"] = s.result_state
    if s.queue_reason:
        out["queue_reason"] = s.queue_reason
    return out


def status(s: RunState) -> dict[str, Any]:
    out: dict[str, Any] = {"state": STATUS_STATE.get(s.life_cycle_state, s.life_cycle_state)}
    term = s.termination()
    if term is not None:
        out["termination_details"] = {"code": term[0], "type": term[1], "message": s.state_message}
    if s.life_cycle_state == "QUEUED":
        out["queue_details"] = {"code": "MAX_CONCURRENT_RUNS_REACHED", "message": s.queue_reason}
    return out


def run_page_url(host: str, job_id: int, run_id: int, workspace_id: str) -> str:
    return f"{host}/jobs/{job_id}/runs/{run_id}?o={workspace_id}"


def _times(obj: Any, created: int) -> dict[str, Any]:
    start, end = obj.start_time, obj.end_time
    duration = max(end - start, 0) if start and end else 0
    return {"start_time": start or created, "setup_duration": 0, "execution_duration": duration,
            "cleanup_duration": 0, "end_time": end, "run_duration": duration}


def task(run: JobRun, t: TaskRun, host: str, workspace_id: str, *, resolved: bool = False) -> dict[str, Any]:
    """A ``RunTask``: the task's settings with its run's state and times."""
    out = {k: copy.deepcopy(v) for k, v in t.spec.items()}
    out.update({"run_id": t.run_id, "task_key": t.task_key, "state": state(t.state), "status": status(t.state),
                "attempt_number": t.attempt_number,
                "run_page_url": run_page_url(host, run.job_id, t.run_id, workspace_id)})
    out.update(_times(t, 0) if t.start_time else {"start_time": 0, "setup_duration": 0, "execution_duration": 0,
                                                      "cleanup_duration": 0, "end_time": 0})
    if "condition_task" in out and t.output.condition_outcome is not None:
        out["condition_task"]["outcome"] = t.output.condition_outcome
    if resolved and t.resolved:
        out["resolved_values"] = copy.deepcopy(t.resolved)
    return out


def run(r: JobRun, host: str, workspace_id: str, *, include_history: bool = False,
        include_resolved_values: bool = False, expand_tasks: bool = True,
        page_token_in: str | None = None) -> dict[str, Any]:
    """A ``Run`` (``jobs/runs/get``, and a listing's runs without their tasks)."""
    out: dict[str, Any] = {
        "job_id": r.job_id, "run_id": r.run_id, "number_in_job": r.run_id, "creator_user_name": r.creator,
        "original_attempt_run_id": r.run_id, "state": state(r.state), "status": status(r.state),
        **_times(r, r.created_time), "queue_duration": r.queue_duration, "trigger": r.trigger,
        "run_name": r.run_name, "run_page_url": run_page_url(host, r.job_id, r.run_id, workspace_id),
        "run_type": r.run_type, "attempt_number": 0, "format": "MULTI_TASK",
    }
    if not r.start_time:
        out["start_time"] = r.created_time if r.state.life_cycle_state != "QUEUED" else 0
    for name in ("job_clusters", "git_source", "environments"):
        if r.settings.get(name):
            out[name] = copy.deepcopy(r.settings[name])
    if r.job_parameters is not None:
        out["job_parameters"] = copy.deepcopy(r.job_parameters)
    if r.overriding:
        out["overriding_parameters"] = copy.deepcopy(r.overriding)
    if r.parent_run_id:
        out["trigger_info"] = {"run_id": r.parent_run_id}
    if expand_tasks:
        tasks = [task(r, t, host, workspace_id, resolved=include_resolved_values) for t in r.tasks.values()]
        start = read_page_token(page_token_in, None)
        out["tasks"] = tasks[start:start + ARRAY_PAGE]
        if len(tasks) > start + ARRAY_PAGE:
            out["next_page_token"] = page_token(start + ARRAY_PAGE)
            out["has_more"] = True
    if include_history:
        out["repair_history"] = [
            {"type": h.type, **({"id": h.id} if h.id is not None else {}), "start_time": h.start_time,
             "end_time": h.end_time, "state": state(h.state), "status": status(h.state),
             "task_run_ids": list(h.task_run_ids)} for h in r.repair_history]
    return out


def task_as_run(r: JobRun, t: TaskRun, host: str, workspace_id: str) -> dict[str, Any]:
    """A task run described as a ``Run`` (``runs/get`` and get-output's ``metadata`` of a task run)."""
    body = task(r, t, host, workspace_id)
    out = {k: v for k, v in body.items() if k not in ("run_page_url", "attempt_number")}
    out.update({"job_id": r.job_id, "job_run_id": r.run_id, "number_in_job": t.run_id,
                "creator_user_name": r.creator, "original_attempt_run_id": t.run_id,
                "run_name": r.run_name if r.run_type == "SUBMIT_RUN" else t.task_key,
                "run_page_url": run_page_url(host, r.job_id, t.run_id, workspace_id),
                "run_type": r.run_type, "trigger": r.trigger, "attempt_number": t.attempt_number,
                "format": "MULTI_TASK"})
    return out


def output(r: JobRun, t: TaskRun, host: str, workspace_id: str) -> dict[str, Any]:
    """``jobs/runs/get-output`` of a task run."""
    o = t.output
    out: dict[str, Any] = {"metadata": task_as_run(r, t, host, workspace_id)}
    if "notebook_task" in t.spec and t.state.done:
        nb: dict[str, Any] = {}
        if o.notebook_result is not None:
            nb = {"result": o.notebook_result, "truncated": o.notebook_truncated}
        out["notebook_output"] = nb
    if o.error is not None:
        out["error"] = o.error
    if o.error_trace is not None:
        out["error_trace"] = o.error_trace
    if o.logs is not None:
        out["logs"], out["logs_truncated"] = o.logs, o.logs_truncated
    if o.sql_output is not None:
        out["sql_output"] = copy.deepcopy(o.sql_output)
    if o.run_job_output is not None:
        out["run_job_output"] = dict(o.run_job_output)
    if o.info is not None:
        out["info"] = o.info
    return out


def export_views(t: TaskRun, details: Any, views: str | None) -> dict[str, Any]:
    """``jobs/runs/export``: a notebook task run as one HTML view (its cells and displayed output)."""
    if views not in (None, "CODE", "ALL", "DASHBOARDS"):
        raise invalid(f"Invalid views_to_export '{views}': expected CODE, DASHBOARDS or ALL.")
    if "notebook_task" not in t.spec or views == "DASHBOARDS":
        return {"views": []}
    parts = [f"<html><head><meta charset=\"utf-8\"><title>{html.escape(t.notebook_path)}</title></head><body>",
             f"<h1>{html.escape(t.notebook_path)}</h1>"]
    for cell in getattr(details, "cells", None) or []:
        parts.append(f"<pre class=\"cell\">{html.escape(str(getattr(cell, 'source', '')))}</pre>")
    for shown in getattr(details, "displays", None) or []:
        parts.append(f"<pre class=\"display\">{html.escape(str(getattr(shown, 'text', '')))}</pre>")
    if t.output.notebook_result is not None:
        parts.append(f"<pre class=\"exit\">{html.escape(t.output.notebook_result)}</pre>")
    if t.output.error_trace:
        parts.append(f"<pre class=\"error\">{html.escape(t.output.error_trace)}</pre>")
    parts.append("</body></html>")
    return {"views": [{"content": "".join(parts), "name": t.notebook_path or t.task_key, "type": "NOTEBOOK"}]}
