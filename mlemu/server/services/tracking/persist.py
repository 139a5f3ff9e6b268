"""The tracking service's state as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md): experiments, runs with their metric history, logged models.

Schema (``tracking`` in ``state.json``)::

    {"experiments": [Experiment...], "active_by_name": {path: experiment_id},
     "runs": [{"info": RunInfo, "params": {}, "tags": {}, "latest": [Metric...],
               "history": [{"key", "values": [float], "timestamps": [int], "steps": [int],
                            "links": [[index, model_id, dataset_name, dataset_digest]]}],
               "dataset_inputs": [DatasetInput...], "model_inputs": [id...],
               "model_outputs": [[model_id, step]...], "deleted_with_experiment", "deleted_time"}],
     "logged_models": [LoggedModel...]}

The per-key hashes of logged points (``RunData.seen``) are rebuilt, not saved.
"""
from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import StateDataError, dump_as, field, load_as
from mlemu.server.core.shared_dict import SharedDict
from mlemu.server.services.tracking.entities import (
    DatasetInput, Experiment, LoggedModel, Metric, MetricSeries, Run, RunData, RunInfo,
)
from mlemu.server.services.tracking.state import Tracking

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "tracking"


def dump(state: Tracking) -> dict[str, Any]:
    return {
        "experiments": dump_as(list[Experiment], list(state._experiments.values())),
        "active_by_name": dict(state._active_by_name),
        # dict.values: a snapshot-shared run is read without being copied
        "runs": [_dump_run(r) for r in dict.values(state._runs)],
        "logged_models": dump_as(list[LoggedModel], list(state._models.values())),
    }


def load(ws: "WorkspaceState", data: Any) -> Tracking:
    state = Tracking(ws)
    experiments = load_as(list[Experiment], field(data, "experiments", list, WHERE), f"{WHERE}.experiments")
    state._experiments = {e.experiment_id: e for e in experiments}
    state._active_by_name = load_as(dict[str, str], field(data, "active_by_name", dict, WHERE),
                                    f"{WHERE}.active_by_name")
    runs = SharedDict()
    for i, raw in enumerate(field(data, "runs", list, WHERE)):
        run = _load_run(raw, f"{WHERE}.runs[{i}]")
        runs[run.info.run_id] = run
    state._runs = runs
    models = load_as(list[LoggedModel], field(data, "logged_models", list, WHERE), f"{WHERE}.logged_models")
    state._models = {m.info.model_id: m for m in models}
    for exp in experiments:
        missing = [r for r in exp.run_ids if r not in runs]
        if missing:
            raise StateDataError(f"{WHERE}.experiments", f"experiment {exp.experiment_id} lists unknown "
                                 f"run {missing[0]}")
    return state


def _dump_run(run: Run) -> dict[str, Any]:
    d = run.data
    return {
        "info": dump_as(RunInfo, run.info),
        "params": dict(d.params),
        "tags": dict(d.tags),
        "latest": dump_as(list[Metric], list(d.metrics.values())),
        "history": [_dump_series(s) for s in d.history.values()],
        "dataset_inputs": dump_as(list[DatasetInput], run.dataset_inputs),
        "model_inputs": list(run.model_inputs),
        "model_outputs": [[m, s] for m, s in run.model_outputs],
        "deleted_with_experiment": run.deleted_with_experiment,
        "deleted_time": run.deleted_time,
    }


def _load_run(raw: Any, where: str) -> Run:
    run = Run(load_as(RunInfo, field(raw, "info", dict, where), f"{where}.info"))
    data = RunData(params=load_as(dict[str, str], field(raw, "params", dict, where), f"{where}.params"),
                   tags=load_as(dict[str, str], field(raw, "tags", dict, where), f"{where}.tags"))
    for m in load_as(list[Metric], field(raw, "latest", list, where), f"{where}.latest"):
        data.metrics[m.key] = m
    for j, s in enumerate(field(raw, "history", list, where)):
        series = _load_series(s, f"{where}.history[{j}]")
        data.history[series.key] = series
        data.seen[series.key] = {hash((p.value, p.timestamp, p.step)) for p in series}
    run.data = data
    run.dataset_inputs = load_as(list[DatasetInput], field(raw, "dataset_inputs", list, where),
                                 f"{where}.dataset_inputs")
    run.model_inputs = load_as(list[str], field(raw, "model_inputs", list, where), f"{where}.model_inputs")
    run.model_outputs = load_as(list[tuple[str, int]], field(raw, "model_outputs", list, where),
                                f"{where}.model_outputs")
    run.deleted_with_experiment = load_as(bool, raw.get("deleted_with_experiment", False),
                                          f"{where}.deleted_with_experiment")
    run.deleted_time = load_as(int | None, raw.get("deleted_time"), f"{where}.deleted_time")
    return run


def _dump_series(s: MetricSeries) -> dict[str, Any]:
    return {"key": s.key, "values": s._values.tolist(), "timestamps": s._timestamps.tolist(),
            "steps": s._steps.tolist(),
            "links": [[i, *link] for i, link in sorted(s._links.items())]}


def _load_series(raw: Any, where: str) -> MetricSeries:
    series = MetricSeries(load_as(str, field(raw, "key", str, where), f"{where}.key"))
    values = load_as(list[float], field(raw, "values", list, where), f"{where}.values")
    timestamps = load_as(list[int], field(raw, "timestamps", list, where), f"{where}.timestamps")
    steps = load_as(list[int], field(raw, "steps", list, where), f"{where}.steps")
    if not len(values) == len(timestamps) == len(steps):
        raise StateDataError(where, "values, timestamps and steps differ in length")
    try:
        series._values, series._timestamps, series._steps = (
            array("d", values), array("q", timestamps), array("q", steps))
    except OverflowError:
        raise StateDataError(where, "a timestamp or step outside int64") from None
    links = load_as(list[tuple[int, str | None, str | None, str | None]], raw.get("links", []), f"{where}.links")
    series._links = {i: (m, n, d) for i, m, n, d in links if 0 <= i < len(values)}
    return series
