"""Dynamic value references (``{{job.id}}``, ``{{job.parameters.env}}``, ``{{task.name}}``,
``{{tasks.Train.values.model_uri}}``...), resolved when a task starts.

As Databricks documents: text that is not a reference (unknown namespaces, missing braces)
stays literal; a reference in a known namespace that does not exist (``{{job.notebook_url}}``)
is refused when the job is saved; identifiers with other characters than letters, digits and
``_`` are escaped with backticks (``{{job.parameters.`my-param`}}``). The deprecated
references (``{{job_id}}``, ``{{run_id}}``, ``{{start_date}}``, ``{{start_time}}``,
``{{task_retry_count}}``, ``{{parent_run_id}}``, ``{{task_key}}``) resolve too.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from mlemu.server.core.errors import invalid

_REF = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_PART = re.compile(r"`([^`]*)`|([^.`]+)")
_NAMESPACES = ("job", "task", "tasks", "workspace")
_JOB_FIELDS = ("id", "name", "run_id", "repair_count", "start_time", "trigger", "parameters")
_TASK_FIELDS = ("name", "run_id", "notebook_path", "execution_count")
_TASKS_FIELDS = ("run_id", "result_state", "error_code", "execution_count", "notebook_path", "values")
_TIME_ARGS = ("iso_weekday", "is_weekday", "iso_date", "iso_datetime", "year", "month", "day", "hour",
              "minute", "second", "timestamp_ms")
_DEPRECATED = ("job_id", "run_id", "start_date", "start_time", "task_retry_count", "parent_run_id", "task_key")


class MissingValue(Exception):
    """A reference that is valid but has no value in this run (a task value never set)."""


@dataclass
class TaskFacts:
    """What ``{{tasks.<key>.*}}`` can read about another task of the run."""

    run_id: int
    result_state: str = ""
    error_code: str = ""
    execution_count: int = 0
    notebook_path: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scope:
    """The values one task's references resolve against."""

    job_id: int | None
    job_name: str
    run_id: int
    repair_count: int
    start_time_ms: int
    trigger_type: str
    parameters: dict[str, str]
    task_key: str = ""
    task_run_id: int = 0
    task_notebook_path: str = ""
    task_execution_count: int = 0
    tasks: dict[str, TaskFacts] = field(default_factory=dict)
    workspace_id: str = ""
    workspace_url: str = ""
    file_arrival_location: str = ""
    parent_run_id: int = 0


def _parts(path: str) -> list[str]:
    return [quoted or plain for quoted, plain in _PART.findall(path)]


def _refs(text: str) -> Iterator[tuple[re.Match[str], list[str]]]:
    for m in _REF.finditer(text):
        yield m, _parts(m.group(1))


def _known_namespace(parts: list[str]) -> bool:
    return bool(parts) and (parts[0] in _NAMESPACES and len(parts) > 1 or (len(parts) == 1 and parts[0] in _DEPRECATED))


def _shape_ok(parts: list[str]) -> bool:
    ns = parts[0]
    if len(parts) == 1:
        return ns in _DEPRECATED
    rest = parts[1:]
    if ns == "workspace":
        return rest in (["id"], ["url"])
    if ns == "task":
        return len(rest) == 1 and rest[0] in _TASK_FIELDS
    if ns == "tasks":
        if len(rest) < 2 or rest[1] not in _TASKS_FIELDS:
            return False
        return len(rest) == 3 if rest[1] == "values" else len(rest) == 2
    # job
    head = rest[0]
    if head not in _JOB_FIELDS:
        return False
    if head == "start_time":
        return len(rest) == 2 and rest[1] in _TIME_ARGS
    if head == "trigger":
        return rest[1:] in (["type"], ["file_arrival", "location"]) or (
            len(rest) == 3 and rest[1] == "time" and rest[2] in _TIME_ARGS)
    if head == "parameters":
        return len(rest) == 2
    return len(rest) == 1


def check_text(text: str) -> None:
    """Refuse references in a known namespace that do not exist (as saving the job does)."""
    for m, parts in _refs(text):
        if _known_namespace(parts) and not _shape_ok(parts):
            raise invalid(f"Invalid dynamic value reference '{m.group(0)}': "
                          f"'{m.group(1)}' is not a known reference.")


def check_settings(settings: dict[str, Any]) -> None:
    """Every reference a job's settings hold is well formed."""
    for text in _strings(settings):
        if "{{" in text:
            check_text(text)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def resolve(text: str, scope: Scope) -> str:
    """``text`` with every reference replaced; :class:`MissingValue` when one has no value."""
    if "{{" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        parts = _parts(m.group(1))
        if not _known_namespace(parts) or not _shape_ok(parts):
            return m.group(0)  # literal, as Databricks leaves syntax it does not know
        return _value(parts, scope)

    return _REF.sub(one, text)


def resolve_tree(value: Any, scope: Scope) -> Any:
    """Every string of a JSON-shaped value resolved."""
    if isinstance(value, str):
        return resolve(value, scope)
    if isinstance(value, dict):
        return {k: resolve_tree(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_tree(v, scope) for v in value]
    return value


def _value(parts: list[str], s: Scope) -> str:
    deprecated: dict[str, Callable[[], Any]] = {
        "job_id": lambda: s.job_id or "", "run_id": lambda: s.task_run_id or s.run_id,
        "start_date": lambda: _time(s.start_time_ms, "iso_date"),
        "start_time": lambda: s.start_time_ms, "task_retry_count": lambda: max(s.task_execution_count - 1, 0),
        "parent_run_id": lambda: s.parent_run_id or s.run_id, "task_key": lambda: s.task_key}
    if len(parts) == 1:
        return str(deprecated[parts[0]]())
    ns, rest = parts[0], parts[1:]
    if ns == "workspace":
        return s.workspace_id if rest[0] == "id" else s.workspace_url
    if ns == "task":
        return str({"name": s.task_key, "run_id": s.task_run_id, "notebook_path": s.task_notebook_path,
                    "execution_count": s.task_execution_count}[rest[0]])
    if ns == "tasks":
        facts = s.tasks.get(rest[0])
        if facts is None:
            raise MissingValue(f"the task '{rest[0]}' is not part of this run")
        if rest[1] == "values":
            if rest[2] not in facts.values:
                raise MissingValue(f"the task '{rest[0]}' did not set the task value '{rest[2]}'")
            return _text(facts.values[rest[2]])
        return str(getattr(facts, rest[1]))
    head = rest[0]
    if head == "start_time":
        return _time(s.start_time_ms, rest[1])
    if head == "trigger":
        if rest[1] == "type":
            return s.trigger_type
        if rest[1] == "time":
            return _time(s.start_time_ms, rest[2])
        return s.file_arrival_location
    if head == "parameters":
        if rest[1] not in s.parameters:
            raise MissingValue(f"the job has no parameter '{rest[1]}'")
        return s.parameters[rest[1]]
    return str({"id": s.job_id or "", "name": s.job_name, "run_id": s.run_id,
                "repair_count": s.repair_count}[head])


def _text(value: Any) -> str:
    """A task value as a reference renders it: strings as they are, the rest as JSON."""
    import json
    return value if isinstance(value, str) else json.dumps(value)


def _time(epoch_ms: int, arg: str) -> str:
    t = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.timezone.utc)
    return str({
        "iso_weekday": t.isoweekday(), "is_weekday": str(t.isoweekday() <= 5).lower(),
        "iso_date": t.date().isoformat(), "iso_datetime": t.replace(tzinfo=None).isoformat(timespec="seconds"),
        "year": t.year, "month": t.month, "day": t.day, "hour": t.hour, "minute": t.minute,
        "second": t.second, "timestamp_ms": epoch_ms}[arg])
