"""The task-runner seam: what a runner gets (:class:`TaskInvocation`) and gives back
(:class:`TaskResult`), and the runners that need no client code (``condition_task``,
``sql_task``).

Runners of client code (notebooks, Python files, wheels) are stand-ins, not server code: the
jobs service finds them through the ``mlemu_job_task_runners`` plugin hook
(:mod:`mlemu.server.hookspecs`), which ``mlemu.standins.job_tasks`` implements. A kind no
runner takes fails its task with a clear "not emulated" message.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from mlemu.server.core.errors import ApiError

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

#: Databricks' limits on task values: the JSON of a value, and the key's length.
MAX_TASK_VALUE_BYTES = 48 * 1024
MAX_TASK_VALUE_KEY = 128


class TaskFailed(Exception):
    """A runner's way to fail its task with Databricks' words: ``error`` (one line, as
    get-output shows it), ``error_trace``, and the termination ``code`` when it is not
    RUN_EXECUTION_ERROR (RESOURCE_NOT_FOUND, INVALID_RUN_CONFIGURATION, FEATURE_DISABLED...)."""

    def __init__(self, error: str, error_trace: str | None = None, code: str | None = None,
                 details: Any = None, logs: str | None = None,
                 run_job_output: dict[str, Any] | None = None) -> None:
        super().__init__(error)
        self.error, self.error_trace, self.code, self.details, self.logs = error, error_trace, code, details, logs
        self.run_job_output = run_job_output


class TaskValues:
    """The task values of one job run (``dbutils.jobs.taskValues``): ``set`` by a task under its
    own key, ``get`` by any task of the run. Values are kept as their JSON round trip."""

    def __init__(self, ws: "WorkspaceState", store: dict[str, dict[str, Any]]) -> None:
        self._ws = ws
        self._store = store

    def set(self, task_key: str, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key or len(key) > MAX_TASK_VALUE_KEY:
            raise ValueError(f"A task value key must be 1 to {MAX_TASK_VALUE_KEY} characters; got {key!r}.")
        try:
            text = json.dumps(value)
        except (TypeError, ValueError) as e:
            raise ValueError(f"The task value '{key}' is not JSON serializable: {e}") from None
        if len(text.encode()) > MAX_TASK_VALUE_BYTES:
            raise ValueError(f"The task value '{key}' is {len(text.encode())} bytes as JSON; "
                             f"the limit is {MAX_TASK_VALUE_BYTES} bytes.")
        with self._ws.lock:
            self._store.setdefault(task_key, {})[key] = json.loads(text)

    def get(self, task_key: str, key: str, default: Any = KeyError) -> Any:
        with self._ws.lock:
            values = self._store.get(task_key, {})
            if key in values:
                return values[key]
        if default is KeyError:
            raise KeyError(f"{task_key}.{key}")
        return default

    def __contains__(self, item: tuple[str, str]) -> bool:
        task_key, key = item
        with self._ws.lock:
            return key in self._store.get(task_key, {})

    def as_dict(self) -> dict[str, dict[str, Any]]:
        with self._ws.lock:
            return {k: dict(v) for k, v in self._store.items()}


@dataclass
class TaskInvocation:
    """One attempt of one task, with its references resolved."""

    workspace: "WorkspaceState"
    kind: str                          # notebook_task, spark_python_task...
    body: dict[str, Any]               # the kind's settings, references resolved
    task_key: str
    job_id: int
    job_run_id: int
    task_run_id: int
    attempt: int
    #: Key-value parameters the task receives (a notebook's widgets): the task's own
    #: parameters under the job's parameters.
    parameters: dict[str, str]
    job_parameters: dict[str, str]
    task_values: TaskValues
    #: Where the task's clients reach the workspace (``DATABRICKS_HOST``) and with which token.
    base_url: str
    token: str
    timeout_seconds: float | None
    git_source: dict[str, Any] | None = None
    #: The local file behind a workspace path (a bundle's synced files), if any.
    local_path: Callable[[str], str | None] = lambda path: None
    extra_tags: dict[str, str] = field(default_factory=dict)
    job_name: str = ""
    #: Every task key of the run (task values may only be read from these).
    task_keys: tuple[str, ...] = ()
    user_name: str = ""


@dataclass
class TaskResult:
    """What a task produced: a notebook's exit value, its logs, anything for Python-level
    assertions (``details``: e.g. the notebook run with its displays)."""

    exit_value: str | None = None
    logs: str | None = None
    details: Any = None
    sql_output: dict[str, Any] | None = None
    condition_outcome: str | None = None
    run_job_output: dict[str, Any] | None = None
    info: str | None = None


Runner = Callable[[TaskInvocation], TaskResult]


# -- runners without client code ------------------------------------------------------------

def run_condition(inv: TaskInvocation) -> TaskResult:
    """``condition_task``: EQUAL_TO / NOT_EQUAL compare strings, the others compare numbers."""
    op, left, right = inv.body["op"], str(inv.body["left"]), str(inv.body["right"])
    if op in ("EQUAL_TO", "NOT_EQUAL"):
        outcome = (left == right) == (op == "EQUAL_TO")
    else:
        try:
            a, b = float(left), float(right)
        except ValueError:
            raise TaskFailed(f"Condition task operands must be numeric for {op}: '{left}', '{right}'.",
                             code="INVALID_RUN_CONFIGURATION") from None
        outcome = {"GREATER_THAN": a > b, "GREATER_THAN_OR_EQUAL": a >= b,
                   "LESS_THAN": a < b, "LESS_THAN_OR_EQUAL": a <= b}[op]
    return TaskResult(condition_outcome="true" if outcome else "false")


def run_sql(inv: TaskInvocation) -> TaskResult:
    """``sql_task`` with a ``file``: each statement of the file through the workspace's SQL
    engine, on the task's warehouse (``:name`` parameters from ``parameters``). Saved queries,
    dashboards and alerts are not emulated."""
    body = inv.body
    if not body.get("file"):
        which = next((k for k in ("query", "dashboard", "alert") if body.get(k)), "query")
        raise TaskFailed(f"mlemu does not emulate sql_task.{which} (saved {which}s); use sql_task.file.",
                         code="FEATURE_DISABLED")
    path = body["file"]["path"]
    text = _read_sql_file(inv, path)
    params = [(k, str(v), None) for k, v in (body.get("parameters") or {}).items()]
    ws: Any = inv.workspace
    statements = _split(text)
    ids = []
    for statement in statements:
        try:  # not under ws.lock: the statement runs on its own thread and stores under the lock
            st = ws.sql.execute(statement, body["warehouse_id"], parameters=params, wait_timeout="50s")
            while st.state in ("PENDING", "RUNNING"):  # a task waits for its statement to end
                st = ws.sql.poll(st.id)
        except ApiError as e:
            raise TaskFailed(e.message, code="INVALID_RUN_CONFIGURATION") from None
        ids.append(st.id)
        if st.state != "SUCCEEDED":
            err = getattr(st, "error", None)
            raise TaskFailed(str(getattr(err, "message", err) or f"statement {st.id} {st.state}"))
    return TaskResult(sql_output={"query_output": {
        "query_text": text, "warehouse_id": body["warehouse_id"],
        "sql_statements": [{"lookup_key": i} for i in ids]}})


def _read_sql_file(inv: TaskInvocation, path: str) -> str:
    local = inv.local_path(path)
    if local is not None:
        with open(local, encoding="utf-8") as f:
            return f.read()
    ws: Any = inv.workspace
    try:
        with ws.lock:
            content, _ = ws.workspace_files.export_object(path.removeprefix("/Workspace"))
        return content.decode("utf-8")  # type: ignore[no-any-return]
    except ApiError:
        raise TaskFailed(f"Unable to access the SQL file '{path}'.", code="RESOURCE_NOT_FOUND") from None


def _split(text: str) -> list[str]:
    """Statements of a SQL file (split by sqlglot, which knows quotes and comments)."""
    import sqlglot

    return [t.sql(dialect="databricks") for t in sqlglot.parse(text, read="databricks") if t is not None]


BUILTIN_RUNNERS: dict[str, Runner] = {"condition_task": run_condition, "sql_task": run_sql}
