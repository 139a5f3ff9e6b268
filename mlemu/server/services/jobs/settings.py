"""Job settings as Databricks keeps them: the fields it knows (others are dropped, as its JSON
parser drops unknown fields), the defaults ``jobs/get`` shows, and the rules a job must meet
(unique task keys, one task kind per task, an acyclic ``depends_on`` graph, ...).

Settings stay plain JSON-shaped dicts: most fields are only stored and echoed; the ones mlemu
acts on (tasks, parameters, limits, schedule and triggers) are checked here once, so a refused
create or update leaves nothing behind.
"""
from __future__ import annotations

import copy
import re
from typing import Any, Iterable

from mlemu.server.core.errors import invalid
from mlemu.server.services.jobs import references, schedule

#: ``JobSettings`` fields (databricks-sdk ``jobs.JobSettings``); anything else is dropped.
JOB_FIELDS = frozenset({
    "budget_policy_id", "continuous", "deployment", "description", "duration_target", "edit_mode",
    "email_notifications", "environment_variables", "environments", "format", "git_source", "health",
    "job_clusters", "max_concurrent_runs", "name", "notification_settings", "parameters", "parent_path",
    "performance_target", "queue", "run_as", "schedule", "tags", "tasks", "timeout_seconds", "trigger",
    "triggers", "usage_policy_id", "webhook_notifications"})

#: The task kinds a task may name (exactly one per task).
TASK_KINDS = (
    "ai_function_task", "ai_runtime_task", "alert_task", "clean_rooms_notebook_task", "condition_task",
    "dashboard_task", "dbt_cloud_task", "dbt_platform_task", "dbt_task", "for_each_task",
    "gen_ai_compute_task", "notebook_task", "pipeline_task", "power_bi_task", "python_operator_task",
    "python_wheel_task", "run_job_task", "spark_jar_task", "spark_python_task", "spark_submit_task",
    "sql_task")

#: ``Task`` fields other than the kinds (databricks-sdk ``jobs.Task``).
TASK_FIELDS = frozenset(TASK_KINDS) | frozenset({
    "task_key", "compute", "depends_on", "description", "disable_auto_optimization", "disabled",
    "email_notifications", "environment_key", "environment_variables_key", "existing_cluster_id",
    "health", "job_cluster_key", "libraries", "max_retries", "min_retry_interval_millis", "new_cluster",
    "notification_settings", "retry_on_timeout", "run_if", "timeout_seconds", "webhook_notifications"})

RUN_IF = ("ALL_SUCCESS", "ALL_DONE", "NONE_FAILED", "AT_LEAST_ONE_SUCCESS", "ALL_FAILED", "AT_LEAST_ONE_FAILED")
CONDITION_OPS = ("EQUAL_TO", "GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL",
                 "NOT_EQUAL")
PAUSE_STATUSES = ("PAUSED", "UNPAUSED")

MAX_TASKS = 1000
MAX_CONCURRENT_RUNS = 1000
MAX_NAME = 4096
MAX_PARAMETERS = 1000
_TASK_KEY = re.compile(r"^[\w\-]{1,100}$")
_PARAM_NAME = re.compile(r"^[\w\-.]{1,255}$")

#: Required fields of the kinds mlemu runs (checked at create, as the Jobs API does).
_REQUIRED = {
    "notebook_task": ("notebook_path",),
    "spark_python_task": ("python_file",),
    "python_wheel_task": ("package_name", "entry_point"),
    "run_job_task": ("job_id",),
    "sql_task": ("warehouse_id",),
    "condition_task": ("op", "left", "right"),
}


def normalize(raw: dict[str, Any] | None, *, api_version: str, for_submit: bool = False) -> dict[str, Any]:
    """Validated settings with Databricks' defaults filled in (a new job's settings)."""
    settings = _known(raw or {})
    settings.setdefault("name", "Untitled")
    settings.setdefault("email_notifications", {})
    settings.setdefault("webhook_notifications", {})
    settings.setdefault("timeout_seconds", 0)
    settings.setdefault("max_concurrent_runs", 1)
    settings.setdefault("format", "MULTI_TASK")
    if api_version == "2.2" and "queue" not in settings and not for_submit:
        settings["queue"] = {"enabled": True}  # 2.2 queues by default; 2.0 and 2.1 do not
    check(settings)
    return settings


def merge(current: dict[str, Any], new_settings: dict[str, Any] | None,
          fields_to_remove: Iterable[str] = ()) -> dict[str, Any]:
    """``jobs/update``: top-level fields replace, ``tasks``/``job_clusters``/``parameters`` and
    ``environments`` merge by key, ``fields_to_remove`` deletes (``tasks/<key>`` forms too)."""
    out = copy.deepcopy(current)
    for name in fields_to_remove:
        kind, _, key = name.partition("/")
        if key:
            list_key = {"tasks": "task_key", "job_clusters": "job_cluster_key",
                        "environments": "environment_key"}.get(kind)
            if list_key is None:
                raise invalid(f"Invalid field to remove: {name}")
            before = out.get(kind) or []
            kept = [item for item in before if item.get(list_key) != key]
            if len(kept) == len(before):
                raise invalid(f"Cannot remove {name}: no such element.")
            out[kind] = kept
        elif kind in JOB_FIELDS:
            out.pop(kind, None)
        else:
            raise invalid(f"Invalid field to remove: {name}")
    for key, value in _known(new_settings or {}).items():
        by = {"tasks": "task_key", "job_clusters": "job_cluster_key",
              "environments": "environment_key", "parameters": "name"}.get(key)
        if by is None or not isinstance(value, list):
            out[key] = value
            continue
        items = {item.get(by): item for item in out.get(key) or []}
        order = list(items)
        for item in value:
            if item.get(by) not in items:
                order.append(item.get(by))
            items[item.get(by)] = item
        out[key] = [items[k] for k in order]
    check(out)
    return out


def reset(new_settings: dict[str, Any] | None, *, api_version: str) -> dict[str, Any]:
    """``jobs/reset``: the whole settings replaced (defaults filled again)."""
    if new_settings is None:
        raise invalid("Missing value for required parameter 'new_settings'.")
    return normalize(new_settings, api_version=api_version)


def _known(raw: dict[str, Any]) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in raw.items() if k in JOB_FIELDS and v is not None}
    if "tasks" in out:
        if not isinstance(out["tasks"], list):
            raise invalid("Invalid value for parameter 'tasks': expected a list.")
        out["tasks"] = [_task(t, i) for i, t in enumerate(out["tasks"])]
    return out


def _task(task: Any, index: int) -> dict[str, Any]:
    if not isinstance(task, dict):
        raise invalid(f"Invalid value for parameter 'tasks[{index}]': expected an object.")
    out = {k: v for k, v in task.items() if k in TASK_FIELDS and v is not None}
    out.setdefault("run_if", "ALL_SUCCESS")
    out.setdefault("timeout_seconds", 0)
    out.setdefault("email_notifications", {})
    nb = out.get("notebook_task")
    if isinstance(nb, dict):
        nb.setdefault("source", "WORKSPACE")
    return out


# -- rules -----------------------------------------------------------------------------------

def check(settings: dict[str, Any]) -> None:
    """Every rule a job's settings must meet; raises INVALID_PARAMETER_VALUE naming the first broken one."""
    name = settings.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise invalid(f"Job name must be a string of at most {MAX_NAME} characters.")
    _int_range(settings, "max_concurrent_runs", 0, MAX_CONCURRENT_RUNS)
    _int_range(settings, "timeout_seconds", 0, None)
    tasks = settings.get("tasks") or []
    if len(tasks) > MAX_TASKS:
        raise invalid(f"A job can have at most {MAX_TASKS} tasks; got {len(tasks)}.")
    keys = [t.get("task_key") for t in tasks]
    for i, task in enumerate(tasks):
        _check_task(task, i, settings)
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            raise invalid(f"Task key '{key}' is duplicated: task keys must be unique within a job.")
        seen.add(key)
    by_key = {t["task_key"]: t for t in tasks}
    for task in tasks:
        for dep in task.get("depends_on") or []:
            up = dep.get("task_key") if isinstance(dep, dict) else None
            if up not in by_key:
                raise invalid(f"Invalid dependency graph, task '{task['task_key']}' can not reference "
                              f"non-existent task '{up}'.")
            outcome = dep.get("outcome")
            if outcome is not None:
                if "condition_task" not in by_key[up]:
                    raise invalid(f"Task '{task['task_key']}' depends on the outcome of '{up}', "
                                  "which is not a condition task.")
                if outcome not in ("true", "false"):
                    raise invalid(f"Invalid outcome '{outcome}' in the dependency of '{task['task_key']}' "
                                  f"on '{up}': expected 'true' or 'false'.")
    order(tasks)  # raises on a cycle
    _check_parameters(settings.get("parameters"))
    _check_triggers(settings)
    references.check_settings(settings)


def _check_task(task: dict[str, Any], index: int, settings: dict[str, Any]) -> None:
    key = task.get("task_key")
    if not key:
        raise invalid(f"Missing value for required parameter 'tasks[{index}].task_key'.")
    if not isinstance(key, str) or not _TASK_KEY.match(key):
        raise invalid(f"Invalid task key '{key}': use up to 100 letters, digits, '_' and '-'.")
    kinds = [k for k in TASK_KINDS if k in task]
    if not kinds:
        raise invalid(f"Task '{key}' must specify exactly one task type (notebook_task, spark_python_task, "
                      "python_wheel_task, sql_task, condition_task, run_job_task, ...).")
    if len(kinds) > 1:
        raise invalid(f"Task '{key}' specifies more than one task type: {', '.join(kinds)}.")
    kind = kinds[0]
    body = task[kind]
    if not isinstance(body, dict):
        raise invalid(f"Invalid value for parameter 'tasks[{index}].{kind}': expected an object.")
    for field in _REQUIRED.get(kind, ()):
        if body.get(field) in (None, ""):
            raise invalid(f"Missing value for required parameter 'tasks[{index}].{kind}.{field}'.")
    if kind == "condition_task" and body["op"] not in CONDITION_OPS:
        raise invalid(f"Invalid condition_task op '{body['op']}' in task '{key}': expected one of "
                      f"{', '.join(CONDITION_OPS)}.")
    if kind == "sql_task" and not any(body.get(k) for k in ("query", "file", "dashboard", "alert")):
        raise invalid(f"Task '{key}': sql_task needs one of query, file, dashboard or alert.")
    if kind == "notebook_task" and body.get("source") == "GIT" and not settings.get("git_source"):
        raise invalid(f"Task '{key}' reads its notebook from Git, but the job has no git_source.")
    if task.get("run_if") not in RUN_IF:
        raise invalid(f"Invalid run_if '{task.get('run_if')}' in task '{key}': expected one of {', '.join(RUN_IF)}.")
    _int_range(task, "max_retries", -1, None, where=f"tasks[{index}].")
    _int_range(task, "timeout_seconds", 0, None, where=f"tasks[{index}].")
    _int_range(task, "min_retry_interval_millis", 0, None, where=f"tasks[{index}].")
    if not isinstance(task.get("depends_on", []), list):
        raise invalid(f"Invalid value for parameter 'tasks[{index}].depends_on': expected a list.")


def _int_range(obj: dict[str, Any], field: str, low: int, high: int | None, where: str = "") -> None:
    value = obj.get(field)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"Invalid value {value!r} for parameter '{where}{field}': expected an integer.")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(f"Invalid value {value} for parameter '{where}{field}': must be {bound}.")


def _check_parameters(params: Any) -> None:
    if params is None:
        return
    if not isinstance(params, list) or len(params) > MAX_PARAMETERS:
        raise invalid(f"Job parameters must be a list of at most {MAX_PARAMETERS} definitions.")
    names: set[str] = set()
    for i, p in enumerate(params):
        if not isinstance(p, dict) or not p.get("name"):
            raise invalid(f"Missing value for required parameter 'parameters[{i}].name'.")
        if "default" not in p or not isinstance(p["default"], str):
            raise invalid(f"Missing value for required parameter 'parameters[{i}].default'.")
        if not _PARAM_NAME.match(p["name"]):
            raise invalid(f"Invalid job parameter name '{p['name']}': use letters, digits, '_', '-' and '.'.")
        if p["name"] in names:
            raise invalid(f"Job parameter '{p['name']}' is defined more than once.")
        names.add(p["name"])


def _check_triggers(settings: dict[str, Any]) -> None:
    sched = settings.get("schedule")
    if sched is not None:
        if not isinstance(sched, dict) or not sched.get("quartz_cron_expression") or not sched.get("timezone_id"):
            raise invalid("A schedule needs quartz_cron_expression and timezone_id.")
        schedule.parse(sched["quartz_cron_expression"])
        schedule.zone(sched["timezone_id"])
        sched.setdefault("pause_status", "UNPAUSED")
        if sched["pause_status"] not in PAUSE_STATUSES:
            raise invalid(f"Invalid pause_status '{sched['pause_status']}'.")
    trig = settings.get("trigger")
    if trig is not None:
        if not isinstance(trig, dict):
            raise invalid("Invalid value for parameter 'trigger': expected an object.")
        trig.setdefault("pause_status", "UNPAUSED")
        if trig["pause_status"] not in PAUSE_STATUSES:
            raise invalid(f"Invalid pause_status '{trig['pause_status']}'.")
        fa = trig.get("file_arrival")
        if fa is not None and (not isinstance(fa, dict) or not fa.get("url")):
            raise invalid("Missing value for required parameter 'trigger.file_arrival.url'.")
        periodic = trig.get("periodic")
        if periodic is not None:
            if not isinstance(periodic, dict) or not isinstance(periodic.get("interval"), int) \
                    or periodic.get("interval") < 1 or periodic.get("unit") not in ("HOURS", "DAYS", "WEEKS"):
                raise invalid("trigger.periodic needs an interval >= 1 and a unit of HOURS, DAYS or WEEKS.")
    if sum(1 for k in ("schedule", "trigger", "continuous") if settings.get(k) is not None) > 1:
        raise invalid("A job can have only one of schedule, trigger and continuous.")


# -- the task graph --------------------------------------------------------------------------

def order(tasks: list[dict[str, Any]]) -> list[str]:
    """Task keys in an order that respects ``depends_on`` (ties: the job's own task order).

    Databricks runs independent tasks in parallel; mlemu runs them one at a time in this
    order, so a run is the same on every run."""
    position = {t["task_key"]: i for i, t in enumerate(tasks)}
    deps = {t["task_key"]: [d["task_key"] for d in t.get("depends_on") or []] for t in tasks}
    done: list[str] = []
    placed: set[str] = set()
    remaining = sorted(position, key=position.__getitem__)
    while remaining:
        ready = [k for k in remaining if all(d in placed for d in deps[k])]
        if not ready:
            raise invalid("Invalid dependency graph: the tasks "
                          f"{', '.join(repr(k) for k in remaining)} depend on each other in a cycle.")
        first = ready[0]
        done.append(first)
        placed.add(first)
        remaining.remove(first)
    return done


def kind_of(task: dict[str, Any]) -> str:
    """The task's kind (``notebook_task``...)."""
    for kind in TASK_KINDS:
        if kind in task:
            return kind
    return "unknown"
