"""The tracking service's domain objects: experiments, runs (with their metric history) and
logged models. Plain dataclasses; how they look on the wire is decided in ``wire.py``.

Other services read these through the public contract of :class:`~.state.Tracking`:
``get_run(id).info.artifact_uri``, ``get_logged_model(id).info.artifact_uri`` and
``get_experiment(id).artifact_location``.
"""
from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Iterator

ACTIVE = "active"
DELETED = "deleted"

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")
VIEW_TYPES = {"ACTIVE_ONLY": (ACTIVE,), "DELETED_ONLY": (DELETED,), "ALL": (ACTIVE, DELETED)}

MODEL_PENDING = "LOGGED_MODEL_PENDING"
MODEL_READY = "LOGGED_MODEL_READY"
MODEL_FAILED = "LOGGED_MODEL_UPLOAD_FAILED"
MODEL_STATUSES = (MODEL_PENDING, MODEL_READY, MODEL_FAILED)

RUN_NAME_TAG = "mlflow.runName"
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
DATASET_CONTEXT_TAG = "mlflow.data.context"


@dataclass(slots=True)
class Metric:
    """One logged metric value (a point of a run's history)."""

    key: str
    value: float
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None
    run_id: str | None = None


class MetricSeries:
    """The history of one metric key, stored as columns: 24 bytes a point (value, timestamp,
    step in typed arrays) instead of a ~400-byte object; the rare model/dataset links are kept
    sparsely. Reads give :class:`Metric` objects made on the fly."""

    __slots__ = ("key", "_values", "_timestamps", "_steps", "_links")

    def __init__(self, key: str) -> None:
        self.key = key
        self._values = array("d")
        self._timestamps = array("q")
        self._steps = array("q")
        self._links: dict[int, tuple[str | None, str | None, str | None]] = {}

    def append(self, m: Metric) -> None:
        self._values.append(m.value)
        self._timestamps.append(m.timestamp)
        self._steps.append(m.step)
        if m.model_id or m.dataset_name or m.dataset_digest:
            self._links[len(self._values) - 1] = (m.model_id, m.dataset_name, m.dataset_digest)

    def has_point(self, value: float, timestamp: int, step: int) -> bool:
        values, timestamps = self._values, self._timestamps
        return any(s == step and timestamps[i] == timestamp and values[i] == value
                   for i, s in enumerate(self._steps))

    def steps(self) -> array:
        return self._steps

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, i: int) -> Metric:
        if i < 0:
            i += len(self._values)
        model_id, dataset_name, dataset_digest = self._links.get(i, (None, None, None))
        return Metric(self.key, self._values[i], self._timestamps[i], self._steps[i],
                      model_id, dataset_name, dataset_digest)

    def __iter__(self) -> Iterator[Metric]:
        key, links = self.key, self._links
        for i, (value, timestamp, step) in enumerate(zip(self._values, self._timestamps, self._steps)):
            if links and i in links:
                yield Metric(key, value, timestamp, step, *links[i])
            else:
                yield Metric(key, value, timestamp, step)


@dataclass(eq=False)
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    creation_time: int
    last_update_time: int
    lifecycle_stage: str = ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    run_ids: list[str] = field(default_factory=list)
    deleted_time: int | None = None


@dataclass(eq=False, slots=True)
class RunInfo:
    run_id: str
    experiment_id: str
    user_id: str
    run_name: str
    status: str
    start_time: int
    artifact_uri: str
    end_time: int | None = None
    lifecycle_stage: str = ACTIVE

    @property
    def run_uuid(self) -> str:
        return self.run_id


@dataclass(eq=False)
class RunData:
    """Params and tags (insertion-ordered), the latest value per metric key, and the history.

    ``metrics`` is maintained on every write (the latest-metric rule: highest step, then
    timestamp, then value), so reading or searching a run never scans its history."""

    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Metric] = field(default_factory=dict)
    history: dict[str, MetricSeries] = field(default_factory=dict)
    #: per key, hashes of the (value, timestamp, step) points logged: ints, which the garbage
    #: collector does not track (a set of tuples would be walked on every collection)
    seen: dict[str, set[int]] = field(default_factory=dict)


@dataclass(eq=False)
class DatasetInput:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(eq=False)
class Run:
    info: RunInfo
    data: RunData = field(default_factory=RunData)
    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[str] = field(default_factory=list)
    model_outputs: list[tuple[str, int]] = field(default_factory=list)
    deleted_with_experiment: bool = False
    deleted_time: int | None = None  # when it was last deleted (bulk restore-runs selects on it)


@dataclass(eq=False)
class LoggedModelInfo:
    model_id: str
    experiment_id: str
    name: str
    artifact_uri: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    creator_id: int
    status: str = MODEL_PENDING
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    lifecycle_stage: str = ACTIVE


@dataclass(eq=False)
class LoggedModelData:
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)


@dataclass(eq=False)
class LoggedModel:
    info: LoggedModelInfo
    data: LoggedModelData = field(default_factory=LoggedModelData)

    def latest_metric(self, key: str, datasets: list[tuple[str, str | None]] | None = None) -> float | None:
        """The most recent value of ``key`` (on one of ``datasets`` when given)."""
        best: Metric | None = None
        for m in self.data.metrics:
            if m.key != key:
                continue
            if datasets and not any(m.dataset_name == n and (d is None or m.dataset_digest == d)
                                    for n, d in datasets):
                continue
            if best is None or (m.timestamp, m.step) >= (best.timestamp, best.step):
                best = m
        return None if best is None else best.value
