"""Running a job run: its tasks one at a time in dependency order, each attempt's code in a
thread of its own, state written back under the workspace lock.

Per task: ``disabled`` and ``run_if`` (against the upstream results and condition outcomes)
decide whether it runs; dynamic value references are resolved; the runner for its kind runs
it (``tasks.py``; client code through the ``mlemu_job_task_runners`` hook); a failure is
retried ``max_retries`` times (``-1``: up to :data:`MAX_UNLIMITED_RETRIES`); a task that outlives
its ``timeout_seconds`` (or the job's) is interrupted and TIMEDOUT. Task code runs in a fresh
thread so thread-local client state (mlflow's active run) starts empty, as in a new Databricks
process; the calling thread waits for it, so a run is the same on every run.

The run's result follows its leaf tasks: all succeeded -> SUCCESS, a non-leaf failed ->
SUCCESS_WITH_FAILURES, a leaf failed or was skipped for an upstream failure -> FAILED.
"""
from __future__ import annotations

import ctypes
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

from mlemu.server.services.jobs import references, settings as job_settings
from mlemu.server.services.jobs.runs import WORKLOAD_FAILED, JobRun, RepairAttempt, TaskRun, truncate
from mlemu.server.services.jobs.tasks import TaskFailed, TaskInvocation, TaskResult, TaskValues

if TYPE_CHECKING:
    from mlemu.server.services.jobs.state import JobsService

#: ``max_retries: -1`` retries "indefinitely" on Databricks; mlemu stops after this many.
MAX_UNLIMITED_RETRIES = 100
#: Seconds a timed-out task's thread is given to stop after it was interrupted.
INTERRUPT_GRACE_S = 10.0

_FAILED = frozenset({"FAILED", "TIMEDOUT", "UPSTREAM_FAILED", "CANCELED", "UPSTREAM_CANCELED"})
_SATISFIED = frozenset({"SUCCESS", "DISABLED"})
_RESOLVED_FIELDS = {
    "notebook_task": ("base_parameters",), "spark_python_task": ("parameters",),
    "python_wheel_task": ("parameters", "named_parameters"), "sql_task": ("parameters",),
    "condition_task": ("left", "right"), "run_job_task": ("job_parameters",)}
#: run-now's legacy parameters and the task field each overrides.
_OVERRIDES = {"spark_python_task": {"python_params": "parameters"},
              "python_wheel_task": {"python_params": "parameters", "python_named_params": "named_parameters"},
              "sql_task": {"sql_params": "parameters"}}


class TaskTimedOut(BaseException):
    """Raised inside a task's thread when it outlives its timeout (a BaseException, so task
    code's ``except Exception`` does not swallow it)."""


class Executor:
    """Executes runs of one workspace's jobs service."""

    def __init__(self, service: "JobsService") -> None:
        self.service = service
        self.ws = service.ws

    # -- a run -----------------------------------------------------------------------------
    def execute(self, run: JobRun) -> None:
        """Run ``run`` (PENDING) to its end in the calling thread."""
        ws = self.ws
        with ws.lock:
            if run.state.life_cycle_state != "PENDING":
                return
            now = ws.clock.now_ms()
            run.state.set("RUNNING")
            if not run.start_time:
                run.start_time = now
                if run.queued_since:
                    run.queue_duration = now - run.queued_since
            if run.repair_history and not run.repair_history[-1].end_time:
                history = run.repair_history[-1]        # the repair this run is executing
                history.start_time = now
            else:
                history = RepairAttempt("ORIGINAL", None, now)
                run.repair_history.append(history)
            keys = job_settings.order([t.spec for t in run.tasks.values()])
            if run.rerun is not None:
                keys = [k for k in keys if k in run.rerun]
            for key in keys:
                task = run.tasks[key]
                task.state.set("BLOCKED" if task.spec.get("depends_on") else "PENDING")
        started = time.monotonic()
        try:
            for key in keys:
                if run.cancel_requested:
                    break
                budget = self._job_budget(run, started)
                if budget is not None and budget <= 0:
                    run.__dict__["_timed_out"] = True
                    break
                skip = self._gate(run, key)
                with ws.lock:
                    task = run.tasks[key]
                    if skip is not None:
                        task.state.set("SKIPPED", skip[0], skip[1])
                        history.task_run_ids.append(task.run_id)
                        continue
                self._run_task(run, key, budget)
                history.task_run_ids.append(run.tasks[key].run_id)
        except Exception:  # an mlemu bug: the run ends in INTERNAL_ERROR, the test sees it
            ws.internal_errors.append(traceback.format_exc())
            with ws.lock:
                run.state.set("INTERNAL_ERROR", "FAILED", "mlemu internal error while running the job; "
                              "see ws.internal_errors")
        finally:
            with ws.lock:
                self._finish(run, history, keys)
            self.service.run_finished(run)

    def _job_budget(self, run: JobRun, started: float) -> float | None:
        limit = run.settings.get("timeout_seconds") or 0
        if not limit:
            return None
        return limit - (time.monotonic() - started)

    def _finish(self, run: JobRun, history: RepairAttempt, keys: list[str]) -> None:
        now = self.ws.clock.now_ms()
        for key in keys:  # tasks never reached (cancel, job timeout)
            task = run.tasks[key]
            if not task.state.done:
                timed_out = run.__dict__.get("_timed_out")
                task.state.set("TERMINATED" if timed_out else "SKIPPED",
                               "TIMEDOUT" if timed_out else "CANCELED",
                               "Run timed out." if timed_out else "Run was canceled.")
        if run.state.life_cycle_state != "INTERNAL_ERROR":
            result, message = self._result(run)
            run.state.set("TERMINATED", result, message)
        run.end_time = now
        run.rerun = None
        run.__dict__.pop("_timed_out", None)
        history.end_time = now
        history.state = run.state.__class__(**vars(run.state))

    def _result(self, run: JobRun) -> tuple[str, str]:
        if run.cancel_requested:
            return "CANCELED", "Run was canceled by the user."
        if run.__dict__.get("_timed_out"):
            return "TIMEDOUT", f"Run timed out after {run.settings.get('timeout_seconds')} seconds."
        specs = [t.spec for t in run.tasks.values()]
        upstream = {d["task_key"] for s in specs for d in s.get("depends_on") or []}
        leaves = [k for k in run.tasks if k not in upstream]
        failed = [t for t in run.tasks.values() if t.state.result_state in ("FAILED", "TIMEDOUT")]
        if any(run.tasks[k].state.result_state in _FAILED for k in leaves):
            first = failed[0] if failed else run.tasks[leaves[0]]
            why = first.state.state_message or first.state.result_state or ""
            return "FAILED", (f"Task {first.task_key} failed with message: {why}. "
                              "This caused all downstream tasks to get skipped.")
        if failed:
            return "SUCCESS_WITH_FAILURES", ""
        return "SUCCESS", ""

    # -- whether a task runs ----------------------------------------------------------------
    def _gate(self, run: JobRun, key: str) -> tuple[str, str] | None:
        """None: run the task; else the (result_state, message) it is skipped with."""
        spec = run.tasks[key].spec
        if spec.get("disabled"):
            return "DISABLED", "The task was disabled."
        deps = spec.get("depends_on") or []
        if not deps:
            return None
        met, failed, canceled = [], [], []
        for dep in deps:
            up = run.tasks[dep["task_key"]]
            result = up.state.result_state
            ok = result in _SATISFIED
            if ok and dep.get("outcome") is not None:
                ok = up.output.condition_outcome == dep["outcome"]
            met.append(ok)
            failed.append(result in ("FAILED", "TIMEDOUT", "UPSTREAM_FAILED"))
            canceled.append(result in ("CANCELED", "UPSTREAM_CANCELED"))
        run_if = spec.get("run_if", "ALL_SUCCESS")
        go = {
            "ALL_SUCCESS": all(met),
            "AT_LEAST_ONE_SUCCESS": any(met),
            "NONE_FAILED": not any(failed) and not any(canceled),
            "ALL_DONE": True,
            "AT_LEAST_ONE_FAILED": any(failed),
            "ALL_FAILED": all(failed),
        }[run_if]
        if go:
            return None
        if any(failed) and run_if in ("ALL_SUCCESS", "AT_LEAST_ONE_SUCCESS", "NONE_FAILED"):
            return "UPSTREAM_FAILED", "Upstream task failed."
        if any(canceled):
            return "UPSTREAM_CANCELED", "Upstream task was canceled."
        return "EXCLUDED", f"The run_if condition {run_if} of the task was not met."

    # -- a task ----------------------------------------------------------------------------
    def _run_task(self, run: JobRun, key: str, job_budget: float | None) -> None:
        ws = self.ws
        spec = run.tasks[key].spec
        kind = job_settings.kind_of(spec)
        retries = spec.get("max_retries", 0) or 0
        if retries < 0:
            retries = MAX_UNLIMITED_RETRIES
        attempt = run.tasks[key]
        while True:
            with ws.lock:
                attempt.state.set("RUNNING")
                attempt.start_time = ws.clock.now_ms()
            timed_out = self._attempt(run, attempt, kind, spec, job_budget)
            with ws.lock:
                attempt.end_time = ws.clock.now_ms()
                failed = attempt.state.result_state in ("FAILED", "TIMEDOUT")
                again = (failed and attempt.attempt_number < retries and not run.cancel_requested
                         and (not timed_out or spec.get("retry_on_timeout", False)))
                if not again:
                    return
                nxt = TaskRun(self.service.new_id(), key, spec, attempt.attempt_number + 1,
                              repair_id=attempt.repair_id)
                nxt.state.set("WAITING_FOR_RETRY")
                run.tasks[key] = nxt
                run.attempts.append(nxt)
                attempt = nxt

    def _attempt(self, run: JobRun, attempt: TaskRun, kind: str, spec: dict[str, Any],
                 job_budget: float | None) -> bool:
        """One attempt, its state and output recorded; True when it timed out."""
        timeout = spec.get("timeout_seconds") or None
        if job_budget is not None:
            timeout = min(timeout, job_budget) if timeout else job_budget
        try:
            inv = self._invocation(run, attempt, kind, spec, timeout)
            result = self._call(kind, inv, timeout)
        except TaskTimedOut:
            with self.ws.lock:
                attempt.state.set("TERMINATED", "TIMEDOUT",
                                  f"Task timed out after {timeout:g} seconds." if timeout else "Task timed out.")
                attempt.output.error = "Task timed out"
            return True
        except TaskFailed as f:
            with self.ws.lock:
                self._record_failure(attempt, f)
            return False
        with self.ws.lock:
            out = attempt.output
            out.notebook_result, out.notebook_truncated = truncate(result.exit_value)
            out.logs, out.logs_truncated = truncate(result.logs)
            out.sql_output, out.info = result.sql_output, result.info
            out.condition_outcome = result.condition_outcome
            out.run_job_output = result.run_job_output
            if result.details is not None:
                self.service.details[attempt.run_id] = result.details
            attempt.state.set("TERMINATED", "SUCCESS")
        return False

    def _record_failure(self, attempt: TaskRun, f: TaskFailed) -> None:
        out = attempt.output
        out.error, out.error_trace = f.error, f.error_trace
        out.run_job_output = f.run_job_output
        if f.logs is not None:
            out.logs, out.logs_truncated = truncate(f.logs)
        if f.details is not None:
            self.service.details[attempt.run_id] = f.details
        message = WORKLOAD_FAILED if f.code in (None, "RUN_EXECUTION_ERROR") else f.error
        attempt.state.set("TERMINATED", "FAILED", message, code=f.code)

    def _invocation(self, run: JobRun, attempt: TaskRun, kind: str, spec: dict[str, Any],
                    timeout: float | None) -> TaskInvocation:
        ws = self.ws
        with ws.lock:
            body = dict(spec.get(kind) or {})
            for legacy, target in _OVERRIDES.get(kind, {}).items():
                if run.overriding.get(legacy) is not None:
                    body[target] = run.overriding[legacy]
            scope = self._scope(run, attempt, body)
            try:
                body = references.resolve_tree(body, scope)
            except references.MissingValue as e:
                raise TaskFailed(f"Could not resolve a dynamic value reference of task '{attempt.task_key}': "
                                 f"{e}.", code="INVALID_RUN_CONFIGURATION") from None
            attempt.resolved = {kind: {f: body[f] for f in _RESOLVED_FIELDS.get(kind, ()) if f in body}}
            attempt.notebook_path = body.get("notebook_path", "")
            job_params = run.parameter_values()
            params = {k: str(v) for k, v in (body.get("base_parameters") or {}).items()}
            if kind == "notebook_task":
                params.update({k: str(v) for k, v in (run.overriding.get("notebook_params") or {}).items()})
            params.update(job_params)  # job parameters win over task parameters
            return TaskInvocation(
                workspace=ws, kind=kind, body=body, task_key=attempt.task_key, job_id=run.job_id,
                job_run_id=run.run_id, task_run_id=attempt.run_id, attempt=attempt.attempt_number,
                parameters=params, job_parameters=job_params,
                task_values=TaskValues(ws, run.task_values), base_url=run.base_url, token=ws.token,
                timeout_seconds=timeout, git_source=run.settings.get("git_source"),
                local_path=self.service.local_path,
                extra_tags={"jobId": str(run.job_id), "runId": str(attempt.run_id),
                            "multitaskParentRunId": str(run.run_id), "taskKey": attempt.task_key,
                            "jobTriggerType": run.trigger.lower()},
                job_name=run.settings.get("name", ""), task_keys=tuple(run.tasks), user_name=ws.user.user_name)

    def _scope(self, run: JobRun, attempt: TaskRun, body: dict[str, Any]) -> references.Scope:
        facts = {k: references.TaskFacts(
            t.run_id, t.state.result_state or "", (t.state.termination() or ("", ""))[0]
            if t.state.result_state not in (None, "SUCCESS") else "",
            t.execution_count if t.start_time else 0, t.notebook_path, dict(run.task_values.get(k, {})))
            for k, t in run.tasks.items()}
        return references.Scope(
            job_id=run.job_id, job_name=run.settings.get("name", ""), run_id=run.run_id,
            repair_count=run.repair_count, start_time_ms=run.start_time, trigger_type=run.trigger,
            parameters=run.parameter_values(), task_key=attempt.task_key, task_run_id=attempt.run_id,
            task_notebook_path=str(body.get("notebook_path", "")), task_execution_count=attempt.execution_count,
            tasks=facts, workspace_id=self.ws.workspace_id, workspace_url=self.ws.host,
            file_arrival_location=run.file_arrival_location, parent_run_id=run.parent_run_id or 0)

    # -- calling the runner ----------------------------------------------------------------
    def _call(self, kind: str, inv: TaskInvocation, timeout: float | None) -> TaskResult:
        if kind == "run_job_task":
            return self.service.run_child_job(inv)
        runner = self.service.runner(kind)
        if runner is None:
            raise TaskFailed(f"mlemu does not emulate {kind} tasks: only notebook_task, spark_python_task, "
                             "python_wheel_task, sql_task (file), condition_task and run_job_task run.",
                             code="FEATURE_DISABLED")
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = runner(inv)
            except TaskTimedOut:
                box["timeout"] = True
            except TaskFailed as e:
                box["failed"] = e
            except BaseException as e:  # task code that raised: the task fails with its traceback
                box["failed"] = TaskFailed(_one_line(e), traceback.format_exc())

        thread = threading.Thread(target=target, name=f"mlemu-job-task-{inv.task_key}", daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            _interrupt(thread)
            thread.join(INTERRUPT_GRACE_S)
            raise TaskTimedOut()
        if "timeout" in box:
            raise TaskTimedOut()
        if "failed" in box:
            raise box["failed"]
        result = box.get("result")
        return result if isinstance(result, TaskResult) else TaskResult()


def _one_line(e: BaseException) -> str:
    """An exception as get-output's ``error`` shows it: ``ValueError: message``."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


def _interrupt(thread: threading.Thread) -> None:
    """Raise :class:`TaskTimedOut` inside ``thread`` at its next bytecode (a thread blocked in
    C code is reached when it returns to Python)."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(TaskTimedOut))
