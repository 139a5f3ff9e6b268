"""``ws.jobs``: the jobs of a workspace, their runs, queueing, cancel and repair, triggers, and
the Python API tests use (``ws.jobs.run_now("model_training_job")``).

Where runs execute: a run a request starts (run-now, submit, a repair, a deployment job a new
model version starts) is executed after that request is answered
(:meth:`JobsService.after_request`, called by the composition root): in the calling thread for
the in-process transport, so a test's ``w.jobs.run_now(...).result()`` sees the run finished on
its first poll and every run is the same; by a worker thread for the loopback server, so the
answer is not held for the length of the run. Runs started from Python (``ws.jobs.run_now``,
``fire_triggers``) run in the calling thread. ``ws.jobs.auto_run = False`` leaves runs PENDING
until :meth:`run_pending` (to look at queued and pending states, or to cancel).

Rules kept here: ``max_concurrent_runs`` (a run over it is QUEUED when the job's queue is on,
at most :data:`MAX_QUEUED_RUNS` per job, else SKIPPED), one ``idempotency_token`` per run,
repairs only of ended runs, ``get-output`` only of task runs.
"""
from __future__ import annotations

import copy
import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from mlemu.server.core.errors import ApiError, invalid
from mlemu.server.services.jobs import schedule, settings as job_settings
from mlemu.server.services.jobs.executor import Executor
from mlemu.server.services.jobs.runs import ACTIVE, JobRun, RepairAttempt, TaskRun
from mlemu.server.services.jobs.tasks import BUILTIN_RUNNERS, Runner, TaskFailed, TaskInvocation, TaskResult

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.jobs.view import RunView

#: Runs a job may hold in its queue; more are SKIPPED with MAX_JOB_QUEUE_SIZE_EXCEEDED [emu: guessed bound].
MAX_QUEUED_RUNS = 1000
#: Runs kept per workspace; the oldest ended ones are forgotten beyond it, as Databricks forgets
#: runs after 60 days [emu: by count, so a long ``mlemu serve`` stays bounded].
MAX_RUNS = 10_000
#: Fire times one schedule may produce in one :meth:`JobsService.fire_triggers` call.
MAX_FIRES_PER_CALL = 1000
#: The parameters a deployment job must define (MLflow 3 deployment jobs).
DEPLOYMENT_PARAMETERS = ("model_name", "model_version")
_FAILED_RESULTS = frozenset({"FAILED", "TIMEDOUT", "CANCELED", "UPSTREAM_FAILED", "UPSTREAM_CANCELED"})


@dataclass
class Job:
    job_id: int
    creator: str
    created_time: int
    settings: dict[str, Any]
    seq: int = 0                      # creation order (ties of created_time)
    #: Trigger bookkeeping: when the schedule was last evaluated, files already seen.
    trigger_checked_ms: int = 0
    trigger_fired_ms: int = 0
    seen_files: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.settings.get("name", ""))


class JobsService:
    """The Lakeflow Jobs state of one workspace (``ws.jobs``)."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self.ws = ws
        self.jobs: dict[int, Job] = {}
        self.runs: dict[int, JobRun] = {}
        self.pending: list[int] = []          # PENDING runs in start order
        self.idempotency: dict[str, int] = {}
        self.sequence = 0                     # creation order of jobs and runs
        #: Execute runs as they are started (False: they wait for :meth:`run_pending`).
        self.auto_run = True
        #: Workspace path prefix -> local directory (a bundle's synced files; :meth:`mount`).
        self.mounts: dict[str, str] = {}
        #: Bundle resource keys -> job ids (``mlemu.bundles.load``), for :meth:`job`.
        self.resource_keys: dict[str, int] = {}
        self._init_transient()

    def _init_transient(self) -> None:
        #: Python objects task runners returned (a notebook's run, its displays), by task run id.
        self.details: dict[int, Any] = {}
        self._created = threading.local()
        self._workers: list[threading.Thread] = []
        self._firing = False
        self.executor = Executor(self)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in ("details", "_created", "_workers", "executor", "_firing"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_transient()

    # -- ids -------------------------------------------------------------------------------
    def new_id(self) -> int:
        return int(self.ws.ids.numeric(15))

    # == jobs ===============================================================================
    def create(self, raw: dict[str, Any] | None, *, api_version: str = "2.2") -> Job:
        settings = job_settings.normalize(raw, api_version=api_version)
        self._check_run_job_targets(settings)
        now = self.ws.clock.now_ms()
        self.sequence += 1
        job = Job(self.new_id(), self.ws.user.user_name, now, settings, self.sequence, trigger_checked_ms=now)
        self.jobs[job.job_id] = job
        return job

    def get(self, job_id: Any) -> Job:
        jid = _as_id(job_id, "job_id")
        job = self.jobs.get(jid)
        if job is None:
            raise invalid(f"Job {jid} does not exist.")
        return job

    def list(self, name: str | None = None) -> list[Job]:
        """Jobs, most recently created first; ``name`` matches exactly, ignoring case."""
        jobs = sorted(self.jobs.values(), key=lambda j: (-j.created_time, -j.seq))
        if name is not None:
            jobs = [j for j in jobs if j.name.lower() == name.lower()]
        return jobs

    def update(self, job_id: Any, new_settings: dict[str, Any] | None,
               fields_to_remove: Iterable[str] = ()) -> Job:
        job = self.get(job_id)
        merged = job_settings.merge(job.settings, new_settings, fields_to_remove)
        self._check_run_job_targets(merged)
        self._set_settings(job, merged)
        return job

    def reset(self, job_id: Any, new_settings: dict[str, Any] | None, *, api_version: str = "2.2") -> Job:
        job = self.get(job_id)
        settings = job_settings.reset(new_settings, api_version=api_version)
        self._check_run_job_targets(settings)
        self._set_settings(job, settings)
        return job

    def _set_settings(self, job: Job, settings: dict[str, Any]) -> None:
        if settings.get("schedule") != job.settings.get("schedule") or \
                settings.get("trigger") != job.settings.get("trigger"):
            job.trigger_checked_ms = self.ws.clock.now_ms()  # a new schedule starts from now
        job.settings = settings

    def delete(self, job_id: Any) -> None:
        job = self.get(job_id)
        for run in self.runs.values():
            if run.job_id == job.job_id and run.active and run.run_type != "SUBMIT_RUN":
                self._cancel(run)
        del self.jobs[job.job_id]
        self.resource_keys = {k: v for k, v in self.resource_keys.items() if v != job.job_id}

    def _check_run_job_targets(self, settings: dict[str, Any]) -> None:
        for task in settings.get("tasks") or []:
            target = (task.get("run_job_task") or {}).get("job_id")
            if target is not None and _is_int(target) and int(target) not in self.jobs:
                raise invalid(f"Task '{task['task_key']}' runs job {target}, which does not exist.")

    # == starting runs ======================================================================
    def start_run(self, job_id: Any, *, job_parameters: dict[str, Any] | None = None,
                idempotency_token: str | None = None, only: list[str] | None = None,
                queue: dict[str, Any] | None = None, trigger: str = "ONE_TIME",
                base_url: str | None = None, parent_run_id: int | None = None,
                **legacy: Any) -> JobRun:
        """Start a run of a job (``jobs/run-now``); ``legacy`` holds notebook_params,
        python_params, python_named_params, jar_params, sql_params, spark_submit_params."""
        job = self.get(job_id)
        if idempotency_token:
            earlier = self._idempotent(idempotency_token)
            if earlier is not None:
                return earlier
        params = self._job_parameters(job, job_parameters, legacy)
        tasks = job.settings.get("tasks") or []
        if only is not None:
            unknown = [k for k in only if k not in {t["task_key"] for t in tasks}]
            if unknown:
                raise invalid(f"Task key(s) {', '.join(unknown)} in 'only' do not exist in job {job.job_id}.")
            tasks = [_without_deps_outside(t, set(only)) for t in tasks if t["task_key"] in only]
        settings = dict(job.settings, tasks=copy.deepcopy(tasks))
        if queue is not None:
            settings["queue"] = queue
        run = self._new_run(job.job_id, job.name, "JOB_RUN", trigger, settings, base_url,
                            job_parameters=params, overriding=_overriding(job_parameters, legacy),
                            parent_run_id=parent_run_id)
        if idempotency_token:
            self.idempotency[idempotency_token] = run.run_id
        return run

    def submit(self, raw: dict[str, Any], *, base_url: str | None = None) -> JobRun:
        """A one-time run (``jobs/runs/submit``): its own settings, no job in the list."""
        token = raw.get("idempotency_token")
        if token:
            earlier = self._idempotent(token)
            if earlier is not None:
                return earlier
        body = {k: v for k, v in raw.items() if k in job_settings.JOB_FIELDS}
        body["name"] = raw.get("run_name") or "Untitled"
        settings = job_settings.normalize(body, api_version="2.2", for_submit=True)
        self._check_run_job_targets(settings)
        if not settings.get("tasks"):
            raise invalid("A one-time run needs at least one task.")
        settings.setdefault("queue", {"enabled": False})
        settings["max_concurrent_runs"] = max(settings.get("max_concurrent_runs", 1), 1)
        run = self._new_run(self.new_id(), settings["name"], "SUBMIT_RUN", "ONE_TIME", settings, base_url)
        if token:
            self.idempotency[token] = run.run_id
        return run

    def _idempotent(self, token: str) -> JobRun | None:
        if len(token) > 64:
            raise invalid("idempotency_token must be at most 64 characters.")
        rid = self.idempotency.get(token)
        return self.runs.get(rid) if rid is not None else None

    def _job_parameters(self, job: Job, given: dict[str, Any] | None,
                        legacy: dict[str, Any]) -> list[dict[str, Any]] | None:
        defs = job.settings.get("parameters")
        if given and not defs:
            raise invalid(f"Job {job.job_id} does not define job parameters; "
                          f"got {', '.join(sorted(given))}.")
        if defs and any(legacy.get(k) for k in ("notebook_params", "python_params", "python_named_params",
                                                 "jar_params", "sql_params", "spark_submit_params")):
            raise invalid("Job parameters cannot be combined with task-level parameters "
                          "(notebook_params, python_params, ...) on a job that defines job parameters.")
        if not defs:
            return None
        given = {k: str(v) for k, v in (given or {}).items()}
        names = {d["name"] for d in defs}
        unknown = sorted(set(given) - names)
        if unknown:
            raise invalid(f"Job parameter(s) {', '.join(unknown)} are not defined in job {job.job_id}.")
        out = []
        for d in defs:
            entry = {"name": d["name"], "default": d["default"]}
            if d["name"] in given:
                entry["value"] = given[d["name"]]
            out.append(entry)
        return out

    def _new_run(self, job_id: int, name: str, run_type: str, trigger: str, settings: dict[str, Any],
                 base_url: str | None, *, job_parameters: list[dict[str, Any]] | None = None,
                 overriding: dict[str, Any] | None = None, parent_run_id: int | None = None,
                 file_arrival_location: str = "") -> JobRun:
        now = self.ws.clock.now_ms()
        run = JobRun(self.new_id(), job_id, name, run_type, trigger, self.ws.user.user_name, settings, now,
                     base_url or "", job_parameters=job_parameters, overriding=overriding or {},
                     parent_run_id=parent_run_id, file_arrival_location=file_arrival_location)
        self.sequence += 1
        run.seq = self.sequence
        for spec in settings.get("tasks") or []:
            task = TaskRun(self.new_id(), spec["task_key"], spec)
            run.tasks[task.task_key] = task
            run.attempts.append(task)
        self.runs[run.run_id] = run
        self._admit(run)
        self._forget_old_runs()
        created = self._created.__dict__.setdefault("runs", [])
        created.append(run.run_id)
        return run

    def _admit(self, run: JobRun) -> None:
        """PENDING when the job has room, else QUEUED or SKIPPED (``max_concurrent_runs``)."""
        limit = run.settings.get("max_concurrent_runs", 1)
        active = sum(1 for r in self.runs.values()
                     if r.job_id == run.job_id and r is not run and r.state.life_cycle_state in ACTIVE
                     and r.state.life_cycle_state != "QUEUED")
        if active < limit:
            run.state.set("PENDING")
            self.pending.append(run.run_id)
            return
        now = self.ws.clock.now_ms()
        queued = sum(1 for r in self.runs.values()
                     if r.job_id == run.job_id and r.state.life_cycle_state == "QUEUED")
        if (run.settings.get("queue") or {}).get("enabled") and limit > 0:
            if queued >= MAX_QUEUED_RUNS:
                run.state.set("SKIPPED", "MAXIMUM_CONCURRENT_RUNS_REACHED",
                              f"Skipping this run because the job's queue holds {MAX_QUEUED_RUNS} runs.",
                              code="MAX_JOB_QUEUE_SIZE_EXCEEDED")
                run.end_time = now
                return
            run.state.set("QUEUED")
            run.state.queue_reason = f"Queued due to reaching maximum concurrent runs of {limit}."
            run.queued_since = now
            return
        run.state.set("SKIPPED", "MAXIMUM_CONCURRENT_RUNS_REACHED",
                      f"Skipping this run because the limit of {limit} maximum concurrent runs has been reached.")
        run.end_time = now

    def _forget_old_runs(self) -> None:
        if len(self.runs) <= MAX_RUNS:
            return
        for rid in [r.run_id for r in self.runs.values() if not r.active][: len(self.runs) - MAX_RUNS]:
            run = self.runs.pop(rid)
            for attempt in run.attempts:
                self.details.pop(attempt.run_id, None)

    # == executing ==========================================================================
    def after_request(self, base_url: str, inline: bool) -> None:
        """Execute the runs the request just answered started (the composition root calls
        this after every answer): here when ``inline``, else on the worker thread."""
        created = self._created.__dict__.pop("runs", None)
        if not created:
            return
        with self.ws.lock:
            for rid in created:
                run = self.runs.get(rid)
                if run is not None and not run.base_url:
                    run.base_url = base_url
        if not self.auto_run:
            return
        starting = [rid for rid in created if rid in self.pending]
        if inline:
            self.drain(starting)
        else:
            self._start_workers(starting)

    def run_pending(self) -> list["RunView"]:
        """Execute every PENDING run (and the queued runs they make room for), oldest first;
        views of the runs executed."""
        done: list[JobRun] = []
        while True:
            with self.ws.lock:
                if not self.pending:
                    return self._views(done)
                rid = self.pending[0]
            done.extend(self.drain([rid]))

    def _views(self, runs: list[JobRun]) -> list["RunView"]:
        from mlemu.server.services.jobs.view import RunView
        return [RunView(self, r.run_id) for r in runs]

    def drain(self, run_ids: list[int]) -> list[JobRun]:
        """Execute these runs, then whatever their ending let out of a queue."""
        order = list(run_ids)
        done = []
        while order:
            rid = order.pop(0)
            with self.ws.lock:
                if rid not in self.pending:
                    continue
                self.pending.remove(rid)
                run = self.runs[rid]
                if not run.base_url:
                    run.base_url = self.ws.host
                before = set(self.pending)
            self.executor.execute(run)
            done.append(run)
            with self.ws.lock:
                order.extend(r for r in self.pending if r not in before and r not in order)
        return done

    def _start_workers(self, run_ids: list[int]) -> None:
        """The loopback server's runs: one thread per run, so a task that waits for another
        run (``w.jobs.run_now(...).result()`` inside a notebook) does not wait on itself."""
        for rid in run_ids:
            thread = threading.Thread(target=self.drain, args=([rid],), name=f"mlemu-job-run-{rid}", daemon=True)
            self._workers.append(thread)
            thread.start()
        self._workers = [t for t in self._workers if t.is_alive()]

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the runs worker threads execute (loopback server) to end."""
        for thread in list(self._workers):
            thread.join(timeout)

    def run_finished(self, run: JobRun) -> None:
        """A run ended: queued runs of its job move up (PENDING) while there is room."""
        with self.ws.lock:
            for other in sorted(self.runs.values(), key=lambda r: (r.queued_since, r.seq)):
                if other.job_id == run.job_id and other.state.life_cycle_state == "QUEUED":
                    limit = other.settings.get("max_concurrent_runs", 1)
                    active = sum(1 for r in self.runs.values() if r.job_id == run.job_id
                                 and r.state.life_cycle_state in ACTIVE and r.state.life_cycle_state != "QUEUED")
                    if active >= limit:
                        break
                    other.state.set("PENDING")
                    self.pending.append(other.run_id)

    def runner(self, kind: str) -> Runner | None:
        """The runner of a task kind: the plugins' (``mlemu_job_task_runners``), then the built-ins."""
        hooks = getattr(self.ws, "hooks", None)
        if hooks is not None:
            for batch in hooks.mlemu_job_task_runners():
                if batch and kind in batch:
                    return batch[kind]  # type: ignore[no-any-return]
        return BUILTIN_RUNNERS.get(kind)

    def run_child_job(self, inv: TaskInvocation) -> TaskResult:
        """``run_job_task``: a run of another job, executed now; its outcome is the task's."""
        body = inv.body
        try:
            with self.ws.lock:
                child = self.start_run(body["job_id"], job_parameters=body.get("job_parameters"),
                                     trigger="RUN_JOB_TASK", base_url=inv.base_url, parent_run_id=inv.task_run_id,
                                     **{k: body[k] for k in ("notebook_params", "python_params", "python_named_params",
                                                            "jar_params", "sql_params") if body.get(k)})
        except ApiError as e:
            raise TaskFailed(e.message, code="INVALID_RUN_CONFIGURATION") from None
        if child.state.life_cycle_state == "QUEUED":
            raise TaskFailed(f"The run {child.run_id} of job {child.job_id} is queued behind the job's "
                             "max_concurrent_runs; mlemu runs a run_job_task's run at once [emu].",
                             code="MAX_CONCURRENT_RUNS_EXCEEDED")
        self.drain([child.run_id])
        result = child.state.result_state
        output = {"run_id": child.run_id}
        if result not in ("SUCCESS", "SUCCESS_WITH_FAILURES"):
            raise TaskFailed(f"Run {child.run_id} of job {child.job_id} ended {result}: "
                             f"{child.state.state_message}", run_job_output=output)
        return TaskResult(run_job_output=output)

    # == reading runs =======================================================================
    def get_run(self, run_id: Any) -> JobRun:
        rid = _as_id(run_id, "run_id")
        run = self.runs.get(rid)
        if run is None:
            raise invalid(f"Run {rid} does not exist.")
        return run

    def find_task_run(self, run_id: Any) -> tuple[JobRun, TaskRun]:
        """The job run holding task run ``run_id`` and that task run."""
        rid = _as_id(run_id, "run_id")
        for run in self.runs.values():
            task = run.by_run_id(rid)
            if task is not None:
                return run, task
        if rid in self.runs:
            raise invalid("Retrieving the output of runs with multiple tasks is not supported. "
                          "Please retrieve the output of each individual task run instead.")
        raise invalid(f"Run {rid} does not exist.")

    def list_runs(self, *, job_id: Any = None, active_only: bool = False, completed_only: bool = False,
                  run_type: str | None = None, start_time_from: int | None = None,
                  start_time_to: int | None = None) -> list[JobRun]:
        """Runs, newest first (``jobs/runs/list``)."""
        if active_only and completed_only:
            raise invalid("active_only and completed_only cannot both be true.")
        jid = _as_id(job_id, "job_id") if job_id is not None else None
        runs = sorted(self.runs.values(), key=lambda r: (-r.created_time, -r.seq))
        out = []
        for r in runs:
            if jid is not None and r.job_id != jid:
                continue
            if active_only and not r.active or completed_only and r.active:
                continue
            if run_type and r.run_type != run_type:
                continue
            started = r.start_time or r.created_time
            if start_time_from is not None and started < start_time_from:
                continue
            if start_time_to is not None and started > start_time_to:
                continue
            out.append(r)
        return out

    # == cancel, delete, repair =============================================================
    def cancel(self, run_id: Any) -> JobRun:
        run = self.get_run(run_id)
        self._cancel(run)
        return run

    def _cancel(self, run: JobRun) -> None:
        if not run.active:
            return
        run.cancel_requested = True
        if run.state.life_cycle_state in ("PENDING", "QUEUED"):
            if run.run_id in self.pending:
                self.pending.remove(run.run_id)
            now = self.ws.clock.now_ms()
            for task in run.tasks.values():
                if not task.state.done:
                    task.state.set("SKIPPED", "CANCELED", "Run was canceled.")
            run.state.set("TERMINATED", "CANCELED", "Run was canceled by the user.")
            run.end_time = now
            run.cancel_requested = False
        else:
            run.state.life_cycle_state = "TERMINATING"

    def cancel_all(self, job_id: Any = None, all_queued_runs: bool = False) -> None:
        if job_id is None and not all_queued_runs:
            raise invalid("Either job_id or all_queued_runs must be provided.")
        jid = self.get(job_id).job_id if job_id is not None else None
        for run in list(self.runs.values()):
            if jid is not None and run.job_id == jid:
                self._cancel(run)
            elif jid is None and run.state.life_cycle_state == "QUEUED":
                self._cancel(run)

    def delete_run(self, run_id: Any) -> None:
        run = self.get_run(run_id)
        if run.active:
            raise invalid(f"Run {run.run_id} is active and cannot be deleted; cancel it first.")
        del self.runs[run.run_id]
        for attempt in run.attempts:
            self.details.pop(attempt.run_id, None)

    def repair(self, run_id: Any, *, rerun_tasks: list[str] | None = None, rerun_all_failed_tasks: bool = False,
               rerun_dependent_tasks: bool = False, latest_repair_id: Any = None,
               job_parameters: dict[str, Any] | None = None, base_url: str | None = None,
               **legacy: Any) -> int:
        """Rerun tasks of an ended run (``jobs/runs/repair``); the new repair's id."""
        run = self.get_run(run_id)
        if run.active:
            raise invalid(f"Run {run.run_id} is still active; only an ended run can be repaired.")
        latest = next((h.id for h in reversed(run.repair_history) if h.type == "REPAIR"), None)
        if latest_repair_id is not None and latest is not None and _as_id(latest_repair_id, "latest_repair_id") != latest:
            raise invalid(f"latest_repair_id {latest_repair_id} is not the latest repair of run {run.run_id} ({latest}).")
        keys = list(run.tasks)
        chosen: list[str] = []
        for key in rerun_tasks or []:
            if key not in run.tasks:
                raise invalid(f"Task '{key}' does not exist in run {run.run_id}.")
            chosen.append(key)
        if rerun_all_failed_tasks:
            chosen += [k for k in keys if run.tasks[k].state.result_state in _FAILED_RESULTS]
        if rerun_dependent_tasks:
            chosen += _downstream(run, set(chosen))
        chosen = [k for k in keys if k in set(chosen)]
        if not chosen:
            raise invalid("No tasks to repair: name rerun_tasks or set rerun_all_failed_tasks.")
        if job_parameters is not None and run.job_id in self.jobs:
            run.job_parameters = self._job_parameters(self.jobs[run.job_id], job_parameters, legacy)
        run.overriding.update(_overriding(job_parameters, legacy))
        repair_id = self.new_id()
        now = self.ws.clock.now_ms()
        run.repair_history.append(RepairAttempt("REPAIR", repair_id, now))
        for key in chosen:
            old = run.tasks[key]
            fresh = TaskRun(self.new_id(), key, old.spec, 0, repair_id=repair_id)
            run.tasks[key] = fresh
            run.attempts.append(fresh)
            run.task_values.pop(key, None)
        run.rerun = chosen
        run.repair_count += 1
        run.cancel_requested = False
        if base_url and not run.base_url:
            run.base_url = base_url
        run.state.set("PENDING")
        run.end_time = 0
        self.pending.append(run.run_id)
        self._created.__dict__.setdefault("runs", []).append(run.run_id)
        return repair_id

    # == triggers ===========================================================================
    def has_triggers(self) -> bool:
        """Whether any job has an unpaused schedule or trigger (virtual time checks it per sleep)."""
        return any((j.settings.get("schedule") or j.settings.get("trigger") or {}).get("pause_status") == "UNPAUSED"
                   for j in self.jobs.values())

    def fire_triggers(self, now_ms: int | None = None, *, reentrant: bool = True) -> list["RunView"]:
        """Start the runs that schedules, periodic and file-arrival triggers owe by now (the
        workspace clock), oldest job first, then execute them unless :attr:`auto_run` is off.
        With ``reentrant=False`` (virtual time's sleeps) a call while triggered runs are
        executing does nothing, so a task that sleeps does not start runs inside itself."""
        if not reentrant and self._firing:
            return []
        started: list[JobRun] = []
        with self.ws.lock:
            now = self.ws.clock.now_ms() if now_ms is None else now_ms
            for job in sorted(self.jobs.values(), key=lambda j: j.seq):
                started += self._due_runs(job, now)
            self._created.__dict__.pop("runs", None)
        if self.auto_run and started:
            self._firing = True
            try:
                self.drain([r.run_id for r in started])
            finally:
                self._firing = False
        return self._views(started)

    def _due_runs(self, job: Job, now: int) -> list[JobRun]:
        sched, trig = job.settings.get("schedule"), job.settings.get("trigger")
        runs: list[JobRun] = []
        after = job.trigger_checked_ms
        job.trigger_checked_ms = max(now, after)
        if sched and sched.get("pause_status") != "PAUSED":
            for _ in schedule.fire_times(sched["quartz_cron_expression"], sched["timezone_id"], after, now,
                                         MAX_FIRES_PER_CALL):
                runs.append(self.start_run(job.job_id, trigger="PERIODIC"))
        if trig and trig.get("pause_status") != "PAUSED":
            periodic = trig.get("periodic")
            if periodic:
                step = periodic["interval"] * {"HOURS": 3600, "DAYS": 86400, "WEEKS": 604800}[periodic["unit"]] * 1000
                base = job.trigger_fired_ms or job.created_time
                while base + step <= now and len(runs) < MAX_FIRES_PER_CALL:
                    base += step
                    runs.append(self.start_run(job.job_id, trigger="PERIODIC"))
                job.trigger_fired_ms = base
            if trig.get("file_arrival"):
                run = self._file_arrival(job, trig["file_arrival"], now)
                if run is not None:
                    runs.append(run)
        return runs

    def _file_arrival(self, job: Job, conf: dict[str, Any], now: int) -> JobRun | None:
        from mlemu.server.core.storage import dbfs_location
        url = str(conf["url"])
        if not url.startswith(("/Volumes/", "dbfs:/Volumes/")):
            return None  # cloud storage locations are not emulated
        ns, path = dbfs_location(url.removeprefix("dbfs:"))
        files = {f.path: f.mtime_ms for f in self.ws.storage.walk_files(ns, path)}
        new = {p: m for p, m in files.items() if job.seen_files.get(p) != m}
        if not new:
            return None
        wait = (conf.get("wait_after_last_change_seconds") or 0) * 1000
        if wait and max(new.values()) > now - wait:
            return None
        gap = (conf.get("min_time_between_triggers_seconds") or 0) * 1000
        if job.trigger_fired_ms and now - job.trigger_fired_ms < gap:
            return None
        job.seen_files = files
        job.trigger_fired_ms = now
        run = self.start_run(job.job_id, trigger="FILE_ARRIVAL")
        run.file_arrival_location = url
        return run

    # == MLflow 3 deployment jobs ===========================================================
    def deployment_connection(self, job_id: str) -> str:
        """``deployment_job_state`` of a registered model linked to ``job_id``."""
        if not job_id:
            return "NOT_SET_UP"
        job = self.jobs.get(int(job_id)) if job_id.isdigit() else None
        if job is None:
            return "NOT_FOUND"
        names = {p["name"] for p in job.settings.get("parameters") or []}
        return "CONNECTED" if all(n in names for n in DEPLOYMENT_PARAMETERS) else "REQUIRED_PARAMETERS_CHANGED"

    def start_deployment_run(self, job_id: str, model_name: str, version: str) -> JobRun | None:
        """A new version of a linked model starts the deployment job with ``model_name`` and
        ``model_version`` (None when the job is gone or lacks those parameters)."""
        if self.deployment_connection(job_id) != "CONNECTED":
            return None
        return self.start_run(int(job_id), job_parameters={"model_name": model_name, "model_version": version})

    # == Python API for tests ===============================================================
    def mount(self, workspace_prefix: str, local_dir: str | os.PathLike[str]) -> None:
        """Serve the workspace paths under ``workspace_prefix`` from ``local_dir`` when a task
        runs them (what a bundle deploy's file sync does; :func:`mlemu.bundles.load` calls it)."""
        prefix = "/" + workspace_prefix.strip("/")
        self.mounts[prefix] = os.path.abspath(os.fspath(local_dir))

    def local_path(self, path: str) -> str | None:
        """The local file behind workspace ``path`` (a notebook's ``.py`` suffix optional), or None."""
        clean = "/" + path.strip("/")
        for variant in (clean, clean.removeprefix("/Workspace"), "/Workspace" + clean):
            for prefix, root in sorted(self.mounts.items(), key=lambda kv: -len(kv[0])):
                if variant == prefix or variant.startswith(prefix + "/"):
                    rel = variant[len(prefix):].lstrip("/")
                    candidate = os.path.normpath(os.path.join(root, rel))
                    if not (candidate == root or candidate.startswith(root + os.sep)):
                        return None
                    for name in (candidate, candidate + ".py", candidate + ".sql", candidate + ".ipynb"):
                        if os.path.isfile(name):
                            return name
        return None

    def job(self, job: Any) -> Job:
        """A job by id, by bundle resource key (``model_training_job``) or by its unique name."""
        if isinstance(job, Job):
            return job
        if isinstance(job, int) or (isinstance(job, str) and job.isdigit()):
            return self.get(job)
        if job in self.resource_keys:
            return self.get(self.resource_keys[job])
        named = self.list(name=str(job))
        if len(named) == 1:
            return named[0]
        if not named:
            keys = ", ".join(sorted(self.resource_keys)) or "none"
            raise KeyError(f"no job named {job!r} (bundle resource keys: {keys})")
        raise KeyError(f"{len(named)} jobs are named {job!r}; use a job id")

    def start(self, job: Any, parameters: dict[str, Any] | None = None, **options: Any) -> "RunView":
        """Start a run without executing it (it waits for :meth:`run_pending`)."""
        from mlemu.server.services.jobs.view import RunView
        with self.ws.lock:
            run = self._start(job, parameters, options)
            self._created.__dict__.pop("runs", None)
        return RunView(self, run.run_id)

    def run_now(self, job: Any, parameters: dict[str, Any] | None = None, **options: Any) -> "RunView":
        """Run a job now, in the calling thread, and return its view: ``parameters`` are job
        parameters (or a notebook job's ``notebook_params`` when the job defines none);
        ``options`` are run-now's other fields (``only``, ``python_params``...)."""
        view = self.start(job, parameters, **options)
        if self.auto_run:
            self.drain([view.run_id])
        return view

    def _start(self, job: Any, parameters: dict[str, Any] | None, options: dict[str, Any]) -> JobRun:
        target = self.job(job)
        if parameters and not target.settings.get("parameters"):
            options.setdefault("notebook_params", parameters)
            parameters = None
        return self.start_run(target.job_id, job_parameters=parameters, **options)

    def view(self, run_id: int) -> "RunView":
        from mlemu.server.services.jobs.view import RunView
        self.get_run(run_id)
        return RunView(self, run_id)

    def runs_of(self, job: Any) -> list["RunView"]:
        """Views of a job's runs, newest first."""
        from mlemu.server.services.jobs.view import RunView
        target = self.job(job)
        return [RunView(self, r.run_id) for r in self.list_runs(job_id=target.job_id)]


def _as_id(value: Any, name: str) -> int:
    if isinstance(value, bool) or not _is_int(value):
        raise invalid(f"Invalid value {value!r} for parameter '{name}': expected an integer id.")
    return int(value)


def _is_int(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and value.strip().lstrip("-").isdigit()


def _overriding(job_parameters: dict[str, Any] | None, legacy: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in legacy.items() if v}
    if job_parameters:
        out["job_parameters"] = {k: str(v) for k, v in job_parameters.items()}
    return out


def _without_deps_outside(task: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """A task of an ``only`` run: dependencies on tasks not run are dropped."""
    out = copy.deepcopy(task)
    deps = [d for d in out.get("depends_on") or [] if d.get("task_key") in keep]
    if deps:
        out["depends_on"] = deps
    else:
        out.pop("depends_on", None)
    return out


def _downstream(run: JobRun, roots: set[str]) -> list[str]:
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for key, task in run.tasks.items():
            if key in found or key in roots:
                continue
            if any(d["task_key"] in roots | found for d in task.spec.get("depends_on") or []):
                found.add(key)
                changed = True
    return [k for k in run.tasks if k in found]

