"""Job runs and task runs: their life cycle, result and termination states, as Databricks
reports them in both the classic ``state`` object and the newer ``status`` object.

A run moves QUEUED (waiting for ``max_concurrent_runs``) -> PENDING -> RUNNING -> TERMINATED,
or is SKIPPED (over the limit without queueing) or ends in INTERNAL_ERROR. A task run moves
PENDING -> BLOCKED (upstream tasks not done) -> RUNNING -> TERMINATED, passes through
WAITING_FOR_RETRY between attempts, or is SKIPPED when its ``run_if`` is not met.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TERMINAL = frozenset({"TERMINATED", "SKIPPED", "INTERNAL_ERROR"})
ACTIVE = frozenset({"QUEUED", "PENDING", "RUNNING", "TERMINATING", "BLOCKED", "WAITING_FOR_RETRY"})

#: result_state -> (termination code, termination type) of the ``status`` object. [emu: the
#: codes follow the SDK's documented meanings; the types of skipped and canceled runs are guesses.]
TERMINATION = {
    "SUCCESS": ("SUCCESS", "SUCCESS"),
    "SUCCESS_WITH_FAILURES": ("SUCCESS_WITH_FAILURES", "SUCCESS"),
    "FAILED": ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    "TIMEDOUT": ("CANCELED", "CLIENT_ERROR"),
    "CANCELED": ("USER_CANCELED", "CLIENT_ERROR"),
    "MAXIMUM_CONCURRENT_RUNS_REACHED": ("MAX_CONCURRENT_RUNS_EXCEEDED", "CLIENT_ERROR"),
    "UPSTREAM_FAILED": ("SKIPPED", "CLIENT_ERROR"),
    "UPSTREAM_CANCELED": ("SKIPPED", "CLIENT_ERROR"),
    "EXCLUDED": ("SKIPPED", "SUCCESS"),
    "DISABLED": ("DISABLED", "SUCCESS"),
}
#: life_cycle_state -> ``status.state`` (RunLifecycleStateV2State).
STATUS_STATE = {"QUEUED": "QUEUED", "PENDING": "PENDING", "RUNNING": "RUNNING", "TERMINATING": "TERMINATING",
                "BLOCKED": "BLOCKED", "WAITING_FOR_RETRY": "WAITING", "TERMINATED": "TERMINATED",
                "SKIPPED": "TERMINATED", "INTERNAL_ERROR": "TERMINATED"}

WORKLOAD_FAILED = "Workload failed, see run output for details"

#: Databricks keeps the first 5 MB of a notebook's exit value and of a task's logs.
MAX_OUTPUT_BYTES = 5 * 1024 * 1024


@dataclass
class RunState:
    """The state both ``state`` and ``status`` are rendered from."""

    life_cycle_state: str = "PENDING"
    result_state: str | None = None
    state_message: str = ""
    code: str | None = None       # termination code, when it is not the result's usual one
    kind: str | None = None       # termination type, likewise
    queue_reason: str = ""
    user_cancelled_or_timedout: bool = False

    @property
    def done(self) -> bool:
        return self.life_cycle_state in TERMINAL

    def set(self, life: str, result: str | None = None, message: str = "", *,
            code: str | None = None, kind: str | None = None) -> None:
        self.life_cycle_state, self.result_state, self.state_message = life, result, message
        self.code, self.kind = code, kind
        self.queue_reason = ""
        self.user_cancelled_or_timedout = result in ("CANCELED", "TIMEDOUT")

    def termination(self) -> tuple[str, str] | None:
        if not self.done:
            return None
        if self.life_cycle_state == "INTERNAL_ERROR":
            return self.code or "INTERNAL_ERROR", self.kind or "INTERNAL_ERROR"
        code, kind = TERMINATION.get(self.result_state or "", ("INTERNAL_ERROR", "INTERNAL_ERROR"))
        return self.code or code, self.kind or kind


@dataclass
class TaskOutput:
    """What ``runs/get-output`` returns for a task run (besides its metadata)."""

    notebook_result: str | None = None
    notebook_truncated: bool = False
    error: str | None = None
    error_trace: str | None = None
    logs: str | None = None
    logs_truncated: bool = False
    sql_output: dict[str, Any] | None = None
    run_job_output: dict[str, Any] | None = None
    condition_outcome: str | None = None
    info: str | None = None


@dataclass
class TaskRun:
    """One attempt of one task of a job run."""

    run_id: int
    task_key: str
    spec: dict[str, Any]
    attempt_number: int = 0
    state: RunState = field(default_factory=RunState)
    start_time: int = 0
    end_time: int = 0
    resolved: dict[str, Any] | None = None
    output: TaskOutput = field(default_factory=TaskOutput)
    notebook_path: str = ""
    repair_id: int | None = None

    @property
    def execution_count(self) -> int:
        return self.attempt_number + 1

    @property
    def execution_duration(self) -> int:
        return max(self.end_time - self.start_time, 0) if self.start_time and self.end_time else 0


@dataclass
class RepairAttempt:
    """One entry of a run's ``repair_history``: the original run or a repair of it."""

    type: str                 # ORIGINAL | REPAIR
    id: int | None
    start_time: int
    end_time: int = 0
    state: RunState = field(default_factory=RunState)
    task_run_ids: list[int] = field(default_factory=list)


@dataclass
class JobRun:
    """A run of a job (``run_type`` JOB_RUN or WORKFLOW_RUN) or a one-time run (SUBMIT_RUN)."""

    run_id: int
    job_id: int
    run_name: str
    run_type: str
    trigger: str
    creator: str
    settings: dict[str, Any]
    created_time: int
    base_url: str
    job_parameters: list[dict[str, Any]] | None = None
    overriding: dict[str, Any] = field(default_factory=dict)
    tasks: dict[str, TaskRun] = field(default_factory=dict)      # latest attempt per task, job order
    attempts: list[TaskRun] = field(default_factory=list)        # every attempt ever made
    state: RunState = field(default_factory=RunState)
    start_time: int = 0
    end_time: int = 0
    repair_history: list[RepairAttempt] = field(default_factory=list)
    task_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancel_requested: bool = False
    parent_run_id: int | None = None
    file_arrival_location: str = ""
    #: Set while queued: when the run entered the queue (for ``queue_duration``).
    queued_since: int = 0
    queue_duration: int = 0
    #: Tasks a repair reruns (None: the whole run).
    rerun: list[str] | None = None
    repair_count: int = 0
    seq: int = 0                      # creation order (ties of created_time)

    @property
    def active(self) -> bool:
        return not self.state.done

    def parameter_values(self) -> dict[str, str]:
        """Job parameters as tasks see them: run-time values over the job's defaults."""
        return {p["name"]: p.get("value", p.get("default", "")) for p in self.job_parameters or []}

    def task_order(self) -> list[str]:
        return list(self.tasks)

    def by_run_id(self, run_id: int) -> TaskRun | None:
        for attempt in self.attempts:
            if attempt.run_id == run_id:
                return attempt
        return None


def truncate(text: str | None) -> tuple[str | None, bool]:
    """The first :data:`MAX_OUTPUT_BYTES` of ``text`` (by UTF-8 bytes), and whether it was cut."""
    if text is None:
        return None, False
    data = text.encode("utf-8", "replace")
    if len(data) <= MAX_OUTPUT_BYTES:
        return text, False
    return data[:MAX_OUTPUT_BYTES].decode("utf-8", "ignore"), True
