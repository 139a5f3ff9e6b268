"""Domain state of the MLflow tracking service of one workspace (``ws.tracking``):
experiments, runs, and (in ``logged_models.py``) logged models, with Databricks' rules.

Experiments live in the workspace tree: an experiment is an ``MLFLOW_EXPERIMENT`` object at
its name, so names are absolute paths whose parent folder must exist; renaming moves the
object, deleting removes it (the name becomes free again, as on Databricks) and restoring puts
it back. There is no default experiment "0": with the ``databricks`` tracking URI mlflow sends
no experiment id outside a notebook, and the workspace refuses the run.

Every public method here is also the fixture's API for tests that want to set up state
without HTTP, e.g. ``ws.tracking.create_experiment("/Shared/exp")``.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from mlemu.server.core.errors import ApiError, invalid, not_found
from mlemu.server.core.shared_dict import SharedDict
from mlemu.server.services.tracking import search as srch
from mlemu.server.services.tracking import validation as v
from mlemu.server.services.tracking.entities import (
    ACTIVE, DATASET_CONTEXT_TAG, DELETED, LOG_MODEL_HISTORY_TAG, RUN_NAME_TAG, RUN_STATUSES, VIEW_TYPES,
    DatasetInput, Experiment, Metric, MetricSeries, Run, RunInfo,
)
from mlemu.server.services.tracking.logged_models import LoggedModels
from mlemu.server.services.tracking.names import generate_name
from mlemu.server.core.paging import Page

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

DEFAULT_ARTIFACT_ROOT = "dbfs:/databricks/mlflow-tracking"
_MLFLOW_SAFE_CODES = frozenset({
    "INVALID_PARAMETER_VALUE", "BAD_REQUEST", "RESOURCE_ALREADY_EXISTS", "RESOURCE_DOES_NOT_EXIST",
    "NOT_FOUND", "PERMISSION_DENIED", "ALREADY_EXISTS", "RESOURCE_CONFLICT"})

Pairs = v.Pairs
_pairs = v.as_pairs


def _metric(m: Metric | tuple | Mapping[str, Any]) -> Metric:
    """A fresh :class:`Metric` from a Metric, a dict or a ``(key, value[, timestamp[, step]])`` tuple."""
    if isinstance(m, Metric):
        return Metric(m.key, m.value, m.timestamp, m.step, m.model_id, m.dataset_name, m.dataset_digest)
    if isinstance(m, Mapping):
        return Metric(m.get("key"), m.get("value"), m.get("timestamp"), m.get("step") or 0,  # type: ignore[arg-type]
                      m.get("model_id"), m.get("dataset_name"), m.get("dataset_digest"))
    key, value, *rest = m
    return Metric(key, value, rest[0] if rest else None, rest[1] if len(rest) > 1 else 0)  # type: ignore[arg-type]


class Tracking(LoggedModels):
    """Experiments, runs and logged models of one workspace."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._experiments: dict[str, Experiment] = {}
        self._active_by_name: dict[str, str] = {}
        # Runs are most of a workspace: a snapshot shares them and copies one only when it is
        # read again (mlemu/server/core/shared_dict.py).
        self._runs: dict[str, Run] = SharedDict()
        super().__init__()

    # ================================================================ experiments ===========
    def create_experiment(self, name: str, artifact_location: str | None = None,
                          tags: Pairs | None = None) -> Experiment:
        """Create an experiment at the absolute workspace path ``name`` (its folder must exist)."""
        path = self._experiment_path(v.check_experiment_name(name))
        tag_pairs = [v.check_tag(k, val, f"tags[{i}]") for i, (k, val) in enumerate(_pairs(tags))]
        if artifact_location is not None and not str(artifact_location).strip():
            artifact_location = None
        if artifact_location is not None:
            artifact_location = v.check_artifact_location(artifact_location)
        self._sync_tree(path)
        experiment_id = self._new_id(self._experiments, self._ws.ids.experiment_id)
        self._tree_add(path, experiment_id)
        now = self._ws.clock.now_ms()
        u = self._ws.user
        exp = Experiment(
            experiment_id=experiment_id, name=path,
            artifact_location=(str(artifact_location).rstrip("/") if artifact_location
                               else f"{DEFAULT_ARTIFACT_ROOT}/{experiment_id}"),
            creation_time=now, last_update_time=now,
            tags={"mlflow.experiment.sourceName": path, "mlflow.experimentType": "MLFLOW_EXPERIMENT",
                  "mlflow.ownerEmail": u.user_name, "mlflow.ownerId": u.id})
        exp.tags.update(tag_pairs)
        self._experiments[experiment_id] = exp
        self._active_by_name[path] = experiment_id
        return exp

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id, deleted or not (RESOURCE_DOES_NOT_EXIST otherwise)."""
        exp = self._experiments.get(str(experiment_id)) if experiment_id is not None else None
        if exp is None:
            v.check_experiment_id(experiment_id)
            raise not_found(f"Node ID {experiment_id} does not exist.")
        return exp

    def get_experiment_by_name(self, name: str) -> Experiment:
        """The active experiment named ``name``, else the last deleted one (Databricks' rule)."""
        if not name or not str(name).startswith("/"):
            raise not_found(v.invalid_experiment_name_message(name))
        path = self._experiment_path(name)
        self._sync_tree(path)
        exp_id = self._active_by_name.get(path)
        if exp_id is not None:
            return self._experiments[exp_id]
        deleted = [e for e in self._experiments.values() if e.name == path]
        if deleted:
            return max(deleted, key=lambda e: (e.deleted_time or 0, e.creation_time))
        raise not_found(f"Node named '{path}' does not exist.")

    def search_experiments(self, view_type: str = "ACTIVE_ONLY", filter: str | None = None,
                           order_by: Sequence[str] = (), max_results: int | None = None,
                           page_token: str | None = None) -> Page[Experiment]:
        """One page of experiments and the token of the next page (None on the last)."""
        stages = self._view(view_type)
        max_results = v.check_max_results(max_results, v.SEARCH_EXPERIMENTS_DEFAULT, v.SEARCH_EXPERIMENTS_MAX)
        clauses = srch.parse_filter(filter, srch.EXPERIMENTS)
        keys = [srch.parse_order_by(o, srch.EXPERIMENTS) for o in order_by or ()]
        if not keys:
            keys = [srch.OrderKey(srch.ATTRIBUTE, "creation_time", False),
                    srch.OrderKey(srch.ATTRIBUTE, "experiment_id", True)]
        if not any(k.kind == srch.ATTRIBUTE and k.key == "experiment_id" for k in keys):
            keys.append(srch.OrderKey(srch.ATTRIBUTE, "experiment_id", False))
        found = [e for e in self._experiments.values() if e.lifecycle_stage in stages
                 and srch.matches_all(clauses, lambda c, e=e: _experiment_value(e, c.kind, c.key))]
        found = srch.apply_order(found, keys, lambda e, k: _experiment_value(e, k.kind, k.key, sort=True))
        query = srch.fingerprint("experiments", view_type, filter, list(order_by or ()))
        return srch.paginate(found, page_token, max_results, query)

    def rename_experiment(self, experiment_id: str, new_name: str) -> Experiment:
        """Rename (move) an active experiment; the new path's folder must exist."""
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage != ACTIVE:
            raise invalid("Cannot rename a non-active experiment.")
        path = self._experiment_path(v.check_experiment_name(new_name))
        if path == exp.name:
            return exp
        self._tree_call(self._ws.workspace_files.move_object, exp.name, path)
        del self._active_by_name[exp.name]
        exp.name = path
        exp.tags["mlflow.experiment.sourceName"] = path
        exp.last_update_time = self._ws.clock.now_ms()
        self._active_by_name[path] = exp.experiment_id
        return exp

    def delete_experiment(self, experiment_id: str) -> None:
        """Mark an experiment and its runs deleted; it leaves the workspace tree."""
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage != ACTIVE:
            raise not_found(f"No active experiment with id={experiment_id} exists.")
        self._ws.workspace_files.remove_object(exp.name)
        self._mark_deleted(exp)

    def restore_experiment(self, experiment_id: str) -> None:
        """Put a deleted experiment (and the runs deleted with it) back at its path."""
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage != DELETED:
            raise not_found(f"No deleted experiment with id={experiment_id} exists.")
        self._tree_add(exp.name, exp.experiment_id)
        self._active_by_name[exp.name] = exp.experiment_id
        exp.lifecycle_stage, exp.deleted_time = ACTIVE, None
        exp.last_update_time = self._ws.clock.now_ms()
        for run_id in exp.run_ids:
            run = self._runs[run_id]
            if run.deleted_with_experiment:
                run.info.lifecycle_stage = ACTIVE
                run.deleted_with_experiment = False

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        exp = self._active_experiment(experiment_id)
        key, value = v.check_tag(key, value)
        exp.tags[key] = value

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        exp = self._active_experiment(experiment_id)
        if key not in exp.tags:
            raise not_found(f"No tag with name: {key} in experiment with id {experiment_id}")
        del exp.tags[key]

    # ================================================================ runs ==================
    def create_run(self, experiment_id: str, run_name: str | None = None, tags: Pairs | None = None,
                   start_time: int | None = None, user_id: str | None = None) -> Run:
        """Start a RUNNING run. ``user_id`` defaults to the workspace's user (Databricks ignores
        the one clients send); without ``run_name`` or an ``mlflow.runName`` tag a name is generated."""
        exp = self._active_experiment(experiment_id)
        tag_pairs = [v.check_tag(k, val, f"tags[{i}]") for i, (k, val) in enumerate(_pairs(tags))]
        v.check_run_name(run_name)
        tag_map = dict(tag_pairs)
        name_tag = tag_map.get(RUN_NAME_TAG)
        if run_name and name_tag and run_name != name_tag:
            raise invalid("Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                          f"different values (run_name='{run_name}', mlflow.runName='{name_tag}').")
        run_name = run_name or name_tag or generate_name(self._ws.ids)
        tag_map.setdefault(RUN_NAME_TAG, run_name)
        run_id = self._new_id(self._runs, self._ws.ids.run_id)
        info = RunInfo(run_id=run_id, experiment_id=exp.experiment_id,
                       user_id=user_id or self._ws.user.user_name, run_name=run_name, status="RUNNING",
                       start_time=int(start_time) if start_time is not None else self._ws.clock.now_ms(),
                       artifact_uri=f"{exp.artifact_location}/{run_id}/artifacts")
        run = Run(info)
        run.data.tags = tag_map
        self._runs[run_id] = run
        exp.run_ids.append(run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        """The run with this id, deleted or not (RESOURCE_DOES_NOT_EXIST otherwise)."""
        run = self._runs.get(run_id) if run_id else None
        if run is None:
            if not run_id:
                raise invalid("Missing value for required parameter 'run_id'.")
            raise not_found(f"Run '{run_id}' not found")
        return run

    def update_run(self, run_id: str, status: str | None = None, end_time: int | None = None,
                   run_name: str | None = None) -> Run:
        run = self._active_run(run_id)
        v.check_run_name(run_name)
        if status is not None and status not in RUN_STATUSES:
            raise invalid(v.invalid_value("status", status))
        if status is not None:
            run.info.status = status
        if end_time is not None:
            run.info.end_time = int(end_time)
        if run_name:
            run.info.run_name = run_name
            run.data.tags[RUN_NAME_TAG] = run_name
        return run

    def delete_run(self, run_id: str) -> None:
        run = self.get_run(run_id)
        run.info.lifecycle_stage = DELETED
        run.deleted_with_experiment = False
        run.deleted_time = self._ws.clock.now_ms()

    def restore_run(self, run_id: str) -> None:
        run = self.get_run(run_id)
        run.info.lifecycle_stage = ACTIVE
        run.deleted_with_experiment = False
        run.deleted_time = None

    def delete_runs(self, experiment_id: str, max_timestamp_millis: int, max_runs: int | None) -> int:
        """Bulk delete (Databricks ``delete-runs``): active runs of the experiment started at or
        before ``max_timestamp_millis``, oldest first, at most ``max_runs`` (<= 10,000)."""
        exp = self.get_experiment(experiment_id)
        limit = _bulk_limit(max_runs)
        runs = sorted((self._runs[r] for r in exp.run_ids
                       if self._runs[r].info.lifecycle_stage == ACTIVE
                       and self._runs[r].info.start_time <= max_timestamp_millis),
                      key=lambda r: (r.info.start_time, r.info.run_id))[:limit]
        for run in runs:
            self.delete_run(run.info.run_id)
        return len(runs)

    def restore_runs(self, experiment_id: str, min_timestamp_millis: int, max_runs: int | None) -> int:
        """Bulk restore (Databricks ``restore-runs``): runs of the experiment deleted at or after
        ``min_timestamp_millis``, earliest deletion first, at most ``max_runs`` (<= 10,000)."""
        exp = self.get_experiment(experiment_id)
        limit = _bulk_limit(max_runs)
        runs = sorted((self._runs[r] for r in exp.run_ids
                       if self._runs[r].info.lifecycle_stage == DELETED
                       and (self._runs[r].deleted_time or 0) >= min_timestamp_millis),
                      key=lambda r: (r.deleted_time or 0, r.info.run_id))[:limit]
        for run in runs:
            self.restore_run(run.info.run_id)
        return len(runs)

    def log_metric(self, run_id: str, key: str, value: float, timestamp: int | None = None, step: int = 0,
                   model_id: str | None = None, dataset_name: str | None = None,
                   dataset_digest: str | None = None) -> None:
        run = self._active_run(run_id)
        if timestamp is None:
            timestamp = self._ws.clock.now_ms()
        v.check_metric(key, value, timestamp, step)
        self._append_metrics(run, [Metric(key, float(value), int(timestamp), int(step or 0), model_id,
                                          dataset_name, dataset_digest)])

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        run = self._active_run(run_id)
        key, value = v.check_param(key, value)
        old = run.data.params.get(key)
        if old is not None and old != value:
            raise invalid(f"Changing param values is not allowed. Param with key='{key}' was already "
                          f"logged with value='{old}' for run ID='{run_id}'. Attempted logging new "
                          f"value '{value}'.")
        run.data.params[key] = value

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        run = self._active_run(run_id)
        key, value = v.check_tag(key, value)
        run.data.tags[key] = value
        if key == RUN_NAME_TAG:
            run.info.run_name = value

    def delete_tag(self, run_id: str, key: str) -> None:
        run = self._active_run(run_id)
        if key not in run.data.tags:
            raise not_found(f"No tag with name: {key} in run with id {run_id}")
        del run.data.tags[key]

    def log_batch(self, run_id: str, metrics: Sequence[Metric | tuple | Mapping[str, Any]] = (),
                  params: Pairs | None = None, tags: Pairs | None = None) -> None:
        """Log metrics, params and tags at once: everything is validated before anything is written.

        A metric is a :class:`Metric`, a ``(key, value[, timestamp[, step]])`` tuple or a dict
        with those keys; params and tags are dicts or ``(key, value)`` pairs."""
        self._log_batch(run_id, [_metric(m) for m in metrics], params, tags)

    def _log_batch(self, run_id: str, metrics: list[Metric], params: Pairs | None,
                   tags: Pairs | None, stamp_missing_timestamps: bool = True) -> None:
        """:meth:`log_batch` on metrics the caller hands over (the route's fresh objects).
        The Python API stamps a metric without a timestamp with the clock; the wire refuses it."""
        param_pairs, tag_pairs = _pairs(params), _pairs(tags)
        v.check_batch_limits(len(metrics), len(param_pairs), len(tag_pairs))
        run = self._active_run(run_id)
        now = self._ws.clock.now_ms()
        for i, m in enumerate(metrics):
            if m.timestamp is None and stamp_missing_timestamps:
                m.timestamp = now
            v.check_metric(m.key, m.value, m.timestamp, m.step, f"metrics[{i}]")
        param_pairs = [v.check_param(k, val, f"params[{i}]") for i, (k, val) in enumerate(param_pairs)]
        tag_pairs = [v.check_tag(k, val, f"tags[{i}]") for i, (k, val) in enumerate(tag_pairs)]
        keys = [k for k, _ in param_pairs]
        dupes = [k for i, k in enumerate(keys) if k in keys[:i]]
        if dupes:
            raise invalid(f"Duplicate parameter keys have been submitted: {dupes}. Please ensure the "
                          "request contains only one param value per param key.")
        v.check_params_unchanged(run.data.params, param_pairs, f"run ID='{run_id}'")
        # -- nothing can fail past this line --
        run.data.params.update(param_pairs)
        for m in metrics:
            m.value, m.step = float(m.value), int(m.step or 0)
        self._append_metrics(run, metrics)
        for k, val in tag_pairs:
            run.data.tags[k] = val
            if k == RUN_NAME_TAG:
                run.info.run_name = val

    def get_metric_history(self, run_id: str, key: str, max_results: int | None = None,
                           page_token: str | None = None) -> Page[Metric]:
        """All values of one metric, oldest first, in pages of at most 25,000."""
        run = self.get_run(run_id)
        if max_results is not None:
            max_results = v.check_max_results(max_results, v.METRIC_HISTORY_PAGE_MAX, v.METRIC_HISTORY_PAGE_MAX)
        history = sorted(run.data.history.get(key, ()),
                         key=lambda m: (m.timestamp, m.step, v.comparable(m.value)))
        query = srch.fingerprint("metric-history", run_id, key)
        return srch.paginate(history, page_token, max_results or v.METRIC_HISTORY_PAGE_MAX, query)

    def get_metric_history_bulk_interval(self, run_ids: Sequence[str], key: str, start_step: int | None = None,
                                         end_step: int | None = None,
                                         max_results: int | None = None) -> list[Metric]:
        """Up to ``max_results`` sampled steps per run (first and last always kept), for charts."""
        if not run_ids:
            raise invalid("Missing value for required parameter 'run_ids'.")
        if len(run_ids) > v.BULK_INTERVAL_MAX_RUNS:
            raise invalid(f"GetMetricHistoryBulkInterval request must specify at most "
                          f"{v.BULK_INTERVAL_MAX_RUNS} run_ids. Received {len(run_ids)} run_ids.")
        if not key:  # every parameter is checked before any run is looked up
            raise invalid("Missing value for required parameter 'metric_key'.")
        max_results = max_results if max_results is not None else v.BULK_INTERVAL_MAX_RESULTS
        if not 1 <= max_results <= v.BULK_INTERVAL_MAX_RESULTS:
            raise invalid(f"max_results must be between 1 and {v.BULK_INTERVAL_MAX_RESULTS}.")
        if (start_step is None) != (end_step is None):
            raise invalid("If either start step or end step are specified, both must be specified.")
        if start_step is not None and end_step is not None and start_step > end_step:
            raise invalid("end_step must be greater than start_step. "
                          f"Found start_step={start_step} and end_step={end_step}.")
        histories = {rid: self.get_run(rid).data.history.get(key, []) for rid in run_ids}
        all_steps = sorted({m.step for h in histories.values() for m in h})
        lo = start_step if start_step is not None else 0
        hi = end_step if end_step is not None else (all_steps[-1] if all_steps else 0)
        in_range = [s for s in all_steps if lo <= s <= hi]
        if len(in_range) <= max_results:
            keep = set(in_range)
        else:
            interval = len(in_range) / max_results
            keep = {in_range[int(i * interval)] for i in range(max_results)} | {in_range[-1]}
        for h in histories.values():
            steps = [m.step for m in h if lo <= m.step <= hi]
            if steps:
                keep |= {min(steps), max(steps)}
        out: list[Metric] = []
        for rid, h in histories.items():
            for m in sorted((m for m in h if m.step in keep), key=lambda m: (m.step, m.timestamp)):
                out.append(Metric(m.key, m.value, m.timestamp, m.step, run_id=rid))
        return out

    def search_runs(self, experiment_ids: Sequence[str], filter: str | None = None,
                    run_view_type: str = "ACTIVE_ONLY", max_results: int | None = None,
                    order_by: Sequence[str] = (), page_token: str | None = None) -> Page[Run]:
        """One page of runs matching ``filter`` and the next page's token (None on the last).

        Base order: start_time DESC then run_id; ``order_by`` keys are applied on top."""
        stages = self._view(run_view_type)
        max_results = v.check_max_results(max_results, v.SEARCH_RUNS_DEFAULT, v.SEARCH_RUNS_MAX)
        clauses = srch.parse_filter(filter, srch.RUNS)
        keys = [srch.parse_order_by(o, srch.RUNS) for o in order_by or ()]
        exp_ids = list(dict.fromkeys(str(e) for e in experiment_ids or ()))
        candidates = [self._runs[rid] for e in exp_ids if (exp := self._experiments.get(e))
                      for rid in exp.run_ids]
        found = [r for r in candidates if r.info.lifecycle_stage in stages and _run_matches(r, clauses)]
        found.sort(key=lambda r: (-r.info.start_time, r.info.run_id))
        if keys:
            found = srch.apply_order(found, keys, _run_sort_value)
        query = srch.fingerprint("runs", sorted(exp_ids), filter, run_view_type, list(order_by or ()))
        return srch.paginate(found, page_token, max_results, query)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] = (), models: Sequence[str] = ()) -> None:
        """Attach dataset inputs (deduplicated by name and digest) and model inputs to a run."""
        run = self._active_run(run_id)
        for d in datasets:
            v.check_dataset(d.name, d.digest, d.source_type, d.source, d.schema, d.profile)
            for k, val in d.tags.items():
                v.check_input_tag(k, val)
        known = {(d.name, d.digest) for d in run.dataset_inputs}
        for d in datasets:
            if (d.name, d.digest) not in known:
                run.dataset_inputs.append(d)
                known.add((d.name, d.digest))
        for model_id in models:
            if model_id not in run.model_inputs:
                run.model_inputs.append(model_id)

    def log_outputs(self, run_id: str, models: Sequence[tuple[str, int]]) -> None:
        """Record logged models as outputs of a run (mlflow 3 ``log_model``)."""
        run = self._active_run(run_id)
        for model_id, step in models:
            if not model_id:
                raise invalid("Missing value for required parameter 'models.model_id'.")
            if (model_id, int(step or 0)) not in run.model_outputs:
                run.model_outputs.append((model_id, int(step or 0)))

    def record_logged_model(self, run_id: str, model_json: str) -> None:
        """mlflow 2 ``log_model``: append the MLmodel to the run's ``mlflow.log-model.history`` tag."""
        run = self._active_run(run_id)
        try:
            model = json.loads(model_json)
        except (TypeError, ValueError):
            raise invalid(f"Malformed model info. \n {model_json} \n is not a valid JSON.") from None
        if not isinstance(model, dict):
            raise invalid(f"Malformed model info. \n {model_json} \n is not a valid JSON.")
        missing = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(model)
        if missing:
            raise invalid(f"Model json is missing mandatory fields: {sorted(missing)}")
        history = json.loads(run.data.tags.get(LOG_MODEL_HISTORY_TAG, "[]"))
        history.append(model)
        run.data.tags[LOG_MODEL_HISTORY_TAG] = json.dumps(history)

    # ================================================================ helpers ===============
    def _append_metrics(self, run: Run, metrics: Iterable[Metric]) -> None:
        """Add to the history (an exact duplicate is ignored) and keep the latest value per key."""
        data = run.data
        for m in metrics:
            ident = (m.value, m.timestamp, m.step)
            h = hash(ident)
            seen = data.seen.get(m.key)
            if seen is None:
                seen = data.seen[m.key] = set()
                data.history[m.key] = MetricSeries(m.key)
            elif h in seen and data.history[m.key].has_point(*ident):
                continue  # an exact duplicate (a hash match alone may be a collision)
            seen.add(h)
            data.history[m.key].append(m)
            latest = data.metrics.get(m.key)
            if latest is None or (m.step, m.timestamp, v.comparable(m.value)) > (
                    latest.step, latest.timestamp, v.comparable(latest.value)):
                data.metrics[m.key] = m
            if m.model_id:
                self._attach_model_metric(run.info.run_id, m)

    def _mark_deleted(self, exp: Experiment) -> None:
        self._active_by_name.pop(exp.name, None)
        now = self._ws.clock.now_ms()
        exp.lifecycle_stage, exp.deleted_time, exp.last_update_time = DELETED, now, now
        for run_id in exp.run_ids:
            run = self._runs[run_id]
            if run.info.lifecycle_stage == ACTIVE:
                run.info.lifecycle_stage = DELETED
                run.deleted_with_experiment = True
                run.deleted_time = now

    def _sync_tree(self, path: str) -> None:
        """An experiment whose workspace object went away (its folder was deleted through the
        Workspace API) is deleted, as on Databricks."""
        exp_id = self._active_by_name.get(path)
        if exp_id is not None and not self._ws.workspace_files.exists(path):
            self._mark_deleted(self._experiments[exp_id])

    def _active_run(self, run_id: str) -> Run:
        run = self.get_run(run_id)
        if run.info.lifecycle_stage != ACTIVE:
            raise invalid(f"The run {run.info.run_id} must be in the 'active' state. "
                          f"Current state is {run.info.lifecycle_stage}.")
        return run

    def _active_experiment(self, experiment_id: str) -> Experiment:
        if experiment_id is None or experiment_id == "":
            raise invalid("Missing value for required parameter 'experiment_id'.")
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage != ACTIVE:
            raise invalid(f"The experiment {exp.experiment_id} must be in the 'active' state. "
                          f"Current state is {exp.lifecycle_stage}.")
        return exp

    @staticmethod
    def _view(view_type: str | None) -> tuple[str, ...]:
        stages = VIEW_TYPES.get(view_type or "ACTIVE_ONLY")
        if stages is None:
            raise invalid(v.invalid_value("view_type", view_type))
        return stages

    @staticmethod
    def _new_id(existing: Mapping[str, Any], make: Any) -> str:
        new = make()
        while new in existing:
            new = make()
        return new

    @staticmethod
    def _experiment_path(name: str) -> str:
        from mlemu.server.services.workspace_files.state import clean_path
        return clean_path(name)

    def _tree_add(self, path: str, experiment_id: str) -> None:
        from mlemu.server.services.workspace_files.state import MLFLOW_EXPERIMENT
        self._tree_call(self._ws.workspace_files.add_object, path, MLFLOW_EXPERIMENT, int(experiment_id))

    @staticmethod
    def _tree_call(fn: Any, *args: Any) -> Any:
        """Call the workspace tree, turning codes mlflow would retry as a 500 into PERMISSION_DENIED."""
        try:
            return fn(*args)
        except ApiError as e:
            if e.code in _MLFLOW_SAFE_CODES:
                raise
            raise ApiError("PERMISSION_DENIED", e.message) from None


# -- search accessors (module level: called once per candidate, keep them flat) ----------------
def _experiment_value(exp: Experiment, kind: str, key: str, sort: bool = False) -> Any:
    if kind == srch.TAG:
        return exp.tags.get(key)
    value = getattr(exp, key)
    if sort and key == "experiment_id" and value.isascii() and value.isdigit():
        return int(value)
    return value


def _run_value(run: Run, kind: str, key: str) -> Any:
    if kind == srch.METRIC:
        m = run.data.metrics.get(key)
        return None if m is None else m.value
    if kind == srch.PARAM:
        return run.data.params.get(key)
    if kind == srch.TAG:
        return run.data.tags.get(key)
    return getattr(run.info, key)


def _run_matches(run: Run, clauses: list[srch.Clause]) -> bool:
    for c in clauses:
        if c.kind == srch.DATASET:
            if c.key == "context":
                values = [d.tags.get(DATASET_CONTEXT_TAG) for d in run.dataset_inputs]
            else:
                values = [getattr(d, c.key) for d in run.dataset_inputs]
            if not any(c.test(x) for x in values):
                return False
        elif not c.test(_run_value(run, c.kind, c.key)):
            return False
    return True


def _run_sort_value(run: Run, key: srch.OrderKey) -> Any:
    return _run_value(run, key.kind, key.key)


#: Databricks' ceiling (and default) for ``max_runs`` of delete-runs / restore-runs.
MAX_BULK_RUNS = 10000


def _bulk_limit(max_runs: int | None) -> int:
    if max_runs is None or max_runs == 0:
        return MAX_BULK_RUNS
    if max_runs < 0 or max_runs > MAX_BULK_RUNS:
        raise invalid(f"max_runs must be between 1 and {MAX_BULK_RUNS}, got {max_runs}.")
    return max_runs
