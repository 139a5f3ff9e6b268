"""Where a notebook runs: the job and task around it (:class:`NotebookContext`), the task-value
store jobs share between tasks (:class:`TaskValues`), and the notebook context object code
reads through ``dbutils.notebook.entry_point.getDbutils().notebook().getContext()``.

The context object imitates the Scala API as Python code sees it through py4j: accessors
return ``Option`` values (``notebookPath().get()``, ``.isDefined()``), ``tags()`` is a map with
``get(key)`` (an ``Option``) and ``apply(key)``, and ``toJson()`` / ``safeToJson()`` give the JSON
document MLOps code parses (``tags.jobId``, ``tags.multitaskParentRunId``, ``currentRunId.id``,
``extraContext.notebook_path``...).
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from mlemu.standins.notebooks.errors import NoSuchElementException, NotEmulated


class _Missing:
    """The store's answer for a task value that was never set."""

    _instance: "_Missing | None" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class TaskValueStore(Protocol):
    """What a job run gives its notebook tasks: ``set(task_key, key, value)`` and
    ``get(task_key, key) -> value | MISSING``. A store may also offer ``has_task(task_key)``;
    then a task that is not part of the run is an error, as on Databricks."""

    def set(self, task_key: str, key: str, value: Any) -> None: ...

    def get(self, task_key: str, key: str) -> Any: ...


class TaskValues:
    """A plain in-memory :class:`TaskValueStore` (a job run's task values, by task)."""

    def __init__(self, tasks: list[str] | None = None) -> None:
        self._values: dict[str, dict[str, Any]] = {}
        self._tasks = set(tasks) if tasks is not None else None

    def set(self, task_key: str, key: str, value: Any) -> None:
        self._values.setdefault(task_key, {})[key] = value

    def get(self, task_key: str, key: str) -> Any:
        return self._values.get(task_key, {}).get(key, MISSING)

    def has_task(self, task_key: str) -> bool:
        return task_key in self._values if self._tasks is None else task_key in self._tasks

    def of(self, task_key: str) -> dict[str, Any]:
        """Every value ``task_key`` set."""
        return dict(self._values.get(task_key, {}))


@dataclass
class NotebookContext:
    """The job and task a notebook runs as (the Jobs service passes one); ``None`` everywhere
    is an interactive run, outside any job. ``run_id`` is the task's run (``currentRunId``),
    ``parent_run_id`` the job run it belongs to (``multitaskParentRunId``)."""

    notebook_path: str | None = None
    job_id: int | str | None = None
    run_id: int | str | None = None
    task_key: str | None = None
    task_values: TaskValueStore | None = None
    user_name: str | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)
    parent_run_id: int | str | None = None
    job_name: str | None = None

    @property
    def in_job(self) -> bool:
        return self.job_id is not None


class Option:
    """A Scala ``Option`` as py4j hands it to Python."""

    def __init__(self, value: Any = None) -> None:
        self._value = value

    def get(self) -> Any:
        if self._value is None:
            raise NoSuchElementException("java.util.NoSuchElementException: None.get")
        return self._value

    def isDefined(self) -> bool:
        return self._value is not None

    def isEmpty(self) -> bool:
        return self._value is None

    def nonEmpty(self) -> bool:
        return self._value is not None

    def getOrElse(self, default: Any) -> Any:
        return default if self._value is None else self._value

    def __repr__(self) -> str:
        return "None" if self._value is None else f"Some({self._value})"


class _RunId:
    def __init__(self, value: int) -> None:
        self._value = value

    def id(self) -> int:
        return self._value

    def __repr__(self) -> str:
        return f"RunId({self._value})"


class ScalaMap:
    """A Scala ``Map[String, String]``: ``get`` gives an :class:`Option`, ``apply`` the value."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = dict(values)

    def get(self, key: str) -> Option:
        return Option(self._values.get(key))

    def apply(self, key: str) -> str:
        if key not in self._values:
            raise NoSuchElementException(f"java.util.NoSuchElementException: key not found: {key}")
        return self._values[key]

    def contains(self, key: str) -> bool:
        return key in self._values

    def getOrElse(self, key: str, default: Any) -> Any:
        return self._values.get(key, default)

    def size(self) -> int:
        return len(self._values)

    def isEmpty(self) -> bool:
        return not self._values

    def keys(self) -> list[str]:
        return list(self._values)

    def toJson(self) -> str:
        return json.dumps(self._values)

    def __repr__(self) -> str:
        return "Map(" + ", ".join(f"{k} -> {v}" for k, v in self._values.items()) + ")"


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class CommandContext:
    """``getContext()``: what the notebook knows about where it runs."""

    def __init__(self, context: NotebookContext, notebook_path: str, host: str | None, token: str | None,
                 workspace_id: str | None, user_name: str) -> None:
        self._context = context
        self._path = notebook_path
        self._host = host
        self._token = token
        self._workspace_id = workspace_id
        self._user = user_name

    def _tags(self) -> dict[str, str]:
        c = self._context
        tags = {"user": self._user, "notebookId": str(notebook_id(self._path)),
                "clusterId": "0000-000000-mlemu000"}
        if self._workspace_id:
            tags["orgId"] = self._workspace_id
        if self._host:
            tags["browserHostName"] = urlsplit(self._host).netloc
        if c.in_job:
            tags["jobId"] = str(c.job_id)
            if c.job_name:
                tags["jobName"] = c.job_name
            if c.run_id is not None:
                tags["runId"] = str(c.run_id)
            if c.parent_run_id is not None:
                tags["multitaskParentRunId"] = str(c.parent_run_id)
                tags["jobRunId"] = str(c.parent_run_id)
            if c.task_key:
                tags["taskKey"] = c.task_key
        tags.update({str(k): str(v) for k, v in c.extra_tags.items()})
        return tags

    # -- the accessors MLOps code calls ---------------------------------------------------
    def notebookPath(self) -> Option:
        return Option(self._path)

    def notebookId(self) -> Option:
        return Option(notebook_id(self._path))

    def userName(self) -> Option:
        return Option(self._user)

    def apiUrl(self) -> Option:
        return Option(self._host)

    def apiToken(self) -> Option:
        return Option(self._token)

    def browserHostName(self) -> Option:
        return Option(urlsplit(self._host).netloc if self._host else None)

    def workspaceId(self) -> Option:
        return Option(self._workspace_id)

    def jobId(self) -> Option:
        return Option(str(self._context.job_id) if self._context.in_job else None)

    def currentRunId(self) -> Option:
        run = _int(self._context.run_id) if self._context.in_job else None
        return Option(_RunId(run) if run is not None else None)

    def rootRunId(self) -> Option:
        return self.currentRunId()

    def clusterId(self) -> Option:
        return Option("0000-000000-mlemu000")

    def tags(self) -> ScalaMap:
        return ScalaMap(self._tags())

    def extraContext(self) -> ScalaMap:
        return ScalaMap(self._extra(redact=False))

    def toJson(self) -> str:
        return json.dumps(self._document(redact=False))

    def safeToJson(self) -> str:
        return json.dumps(self._document(redact=True))

    def __getattr__(self, name: str) -> Any:
        raise NotEmulated(f"getContext().{name}() is not emulated by mlemu's notebook runtime")

    def _extra(self, redact: bool) -> dict[str, str]:
        extra = {"notebook_path": self._path}
        if self._host:
            extra["api_url"] = self._host
        if self._token:
            extra["api_token"] = "[REDACTED]" if redact else self._token
        return extra

    def _document(self, redact: bool) -> dict[str, Any]:
        run = _int(self._context.run_id) if self._context.in_job else None
        run_id = {"id": run} if run is not None else None
        return {"rootRunId": run_id, "currentRunId": run_id, "jobGroup": None,
                "tags": self._tags(), "extraContext": self._extra(redact), "credentialKeys": []}


def notebook_id(path: str) -> int:
    """A stable made-up notebook id for a path (no id of the workspace is used up)."""
    return zlib.crc32(path.encode("utf-8")) + 1_000_000_000_000


class _NotebookUtils:
    """``entry_point.getDbutils().notebook()``."""

    def __init__(self, context: CommandContext) -> None:
        self._context = context

    def getContext(self) -> CommandContext:
        return self._context

    def __getattr__(self, name: str) -> Any:
        raise NotEmulated(f"entry_point.getDbutils().notebook().{name}() is not emulated by mlemu")


class _JavaDbutils:
    def __init__(self, context: CommandContext) -> None:
        self._notebook = _NotebookUtils(context)

    def notebook(self) -> _NotebookUtils:
        return self._notebook

    def __getattr__(self, name: str) -> Any:
        raise NotEmulated(f"entry_point.getDbutils().{name}() is not emulated by mlemu")


class EntryPoint:
    """``dbutils.notebook.entry_point``: only ``getDbutils()`` and the context under it."""

    def __init__(self, context: CommandContext) -> None:
        self._dbutils = _JavaDbutils(context)

    def getDbutils(self) -> _JavaDbutils:
        return self._dbutils

    def __getattr__(self, name: str) -> Any:
        raise NotEmulated(f"dbutils.notebook.entry_point.{name} is not emulated by mlemu")
