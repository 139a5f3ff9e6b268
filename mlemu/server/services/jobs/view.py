"""Read-only views of a job run for tests: ``run = ws.jobs.run_now("model_training_job")`` gives a
:class:`RunView` whose tasks carry their states, task values, exit values, logs and, for
notebook tasks, the notebook run itself (its displays and cells).

``run.assert_succeeded()`` fails with every failed task's error, and for a notebook the failing
cell and its traceback, so a broken job reads like a broken test.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlemu.server.services.jobs.runs import JobRun, TaskRun
    from mlemu.server.services.jobs.state import JobsService


class TaskView:
    """One task of a run (its latest attempt)."""

    def __init__(self, service: "JobsService", run: "JobRun", task: "TaskRun") -> None:
        self._service, self._run, self._task = service, run, task

    key = property(lambda self: self._task.task_key)
    run_id = property(lambda self: self._task.run_id)
    life_cycle_state = property(lambda self: self._task.state.life_cycle_state)
    result_state = property(lambda self: self._task.state.result_state)
    state_message = property(lambda self: self._task.state.state_message)
    attempt_number = property(lambda self: self._task.attempt_number)
    exit_value = property(lambda self: self._task.output.notebook_result)
    error = property(lambda self: self._task.output.error)
    error_trace = property(lambda self: self._task.output.error_trace)
    logs = property(lambda self: self._task.output.logs)
    condition_outcome = property(lambda self: self._task.output.condition_outcome)
    resolved = property(lambda self: self._task.resolved)

    @property
    def succeeded(self) -> bool:
        return self._task.state.result_state == "SUCCESS"

    @property
    def values(self) -> dict[str, Any]:
        """The task values this task set (``dbutils.jobs.taskValues.set``)."""
        with self._service.ws.lock:
            return dict(self._run.task_values.get(self.key, {}))

    @property
    def details(self) -> Any:
        """What the task's runner returned: for a notebook, its run (``.displays``, ``.cells``, ``.log``)."""
        return self._service.details.get(self._task.run_id)

    notebook = details

    @property
    def displays(self) -> list[Any]:
        """The notebook's ``display()`` outputs (``.kind``, ``.text``, ``.frame``)."""
        return list(getattr(self.details, "displays", None) or [])

    def report(self) -> str:
        """The task's state, and for a failure its error and traceback (a notebook's failing cell)."""
        head = f"task {self.key}: {self.life_cycle_state} {self.result_state or ''}".rstrip()
        if self.state_message:
            head += f" ({self.state_message})"
        lines = [head]
        if self.error:
            lines.append(f"  error: {self.error}")
        if self.error_trace:
            lines.append("  " + self.error_trace.rstrip().replace("\n", "\n  "))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<TaskView {self.key} {self.life_cycle_state} {self.result_state}>"


class RunView:
    """A job run as a test reads it; every property reads the run's current state."""

    def __init__(self, service: "JobsService", run_id: int) -> None:
        self._service = service
        self.run_id = run_id

    @property
    def run(self) -> "JobRun":
        return self._service.get_run(self.run_id)

    job_id = property(lambda self: self.run.job_id)
    life_cycle_state = property(lambda self: self.run.state.life_cycle_state)
    result_state = property(lambda self: self.run.state.result_state)
    state_message = property(lambda self: self.run.state.state_message)
    trigger = property(lambda self: self.run.trigger)
    start_time = property(lambda self: self.run.start_time)
    end_time = property(lambda self: self.run.end_time)

    @property
    def succeeded(self) -> bool:
        return self.run.state.result_state == "SUCCESS"

    @property
    def tasks(self) -> dict[str, TaskView]:
        """Tasks by key, in the job's order."""
        run = self.run
        return {k: TaskView(self._service, run, t) for k, t in run.tasks.items()}

    def task(self, key: str) -> TaskView:
        tasks = self.tasks
        if key not in tasks:
            raise KeyError(f"run {self.run_id} has no task {key!r} (tasks: {', '.join(tasks)})")
        return tasks[key]

    def __getitem__(self, key: str) -> TaskView:
        return self.task(key)

    @property
    def task_values(self) -> dict[str, dict[str, Any]]:
        with self._service.ws.lock:
            return {k: dict(v) for k, v in self.run.task_values.items()}

    @property
    def exit_values(self) -> dict[str, str | None]:
        return {k: t.exit_value for k, t in self.tasks.items()}

    @property
    def parameters(self) -> dict[str, str]:
        return self.run.parameter_values()

    def report(self) -> str:
        run = self.run
        lines = [f"run {run.run_id} of job {run.job_id} ({run.run_name}): {run.state.life_cycle_state} "
                 f"{run.state.result_state or ''}".rstrip()]
        if run.state.state_message:
            lines.append(f"  {run.state.state_message}")
        lines += ["  " + t.report().replace("\n", "\n  ") for t in self.tasks.values()]
        return "\n".join(lines)

    def assert_succeeded(self) -> "RunView":
        """Raise AssertionError with every task's state, and failed tasks' errors and
        tracebacks (a notebook's failing cell), unless the run succeeded."""
        if not self.succeeded:
            raise AssertionError("the job run did not succeed:\n" + self.report())
        return self

    def __repr__(self) -> str:
        run = self.run
        return f"<RunView run_id={run.run_id} job_id={run.job_id} {run.state.life_cycle_state} {run.state.result_state}>"
