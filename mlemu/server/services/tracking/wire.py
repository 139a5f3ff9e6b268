"""Wire shapes of the tracking service: pydantic request models (proto field names, as mlflow
and the SDK send them) and the ONE renderer per entity that every response uses.

Responses follow protobuf JSON conventions: unset fields and empty lists are left out, int64
values are numbers, enums are their names.
"""
from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import ConfigDict, Field

from mlemu.server.core.errors import invalid
from mlemu.server.wire import jsonenc
from mlemu.server.services.tracking.entities import (
    DatasetInput, Experiment, LoggedModel, Metric, Run, RunInfo,
)
from mlemu.server.wire.fields import WireArgs

# -- enums (names, or the proto numbers some clients send) ----------------------------------------
_VIEW_TYPES = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}
_RUN_STATUSES = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
_MODEL_STATUSES = {0: "LOGGED_MODEL_STATUS_UNSPECIFIED", 1: "LOGGED_MODEL_PENDING", 2: "LOGGED_MODEL_READY",
                   3: "LOGGED_MODEL_UPLOAD_FAILED"}


def _enum(value: Any, numbers: dict[int, str]) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit()
                                  and len(value) <= 18):  # int() refuses over 4,300 digits
        return numbers.get(int(value), str(value))
    return str(value)


#: A proto int64: a JSON number or a decimal string, within 64 bits (2**64 is refused, not echoed).
Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
#: A proto double: a number, or "NaN"/"Infinity" strings as protobuf JSON writes them.
Double = float
#: A proto enum: its name or its number (booleans and objects are refused by ``WireArgs``).
ProtoEnum = Union[str, int]

#: An experiment id: a string on the wire (mlflow's server refuses a number too).
ExpId = str


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class KeyValue(_Args):
    key: str | None = None
    value: str | None = None


def pairs(items: list[KeyValue]) -> list[tuple[Any, Any]]:
    return [(kv.key, kv.value) for kv in items]


# -- experiments --------------------------------------------------------------------------------
class CreateExperimentArgs(_Args):
    name: str
    artifact_location: str | None = None
    tags: list[KeyValue] = []


class ExperimentIdArgs(_Args):
    experiment_id: ExpId


class DeleteRunsArgs(ExperimentIdArgs):
    max_timestamp_millis: int
    max_runs: int | None = None


class RestoreRunsArgs(ExperimentIdArgs):
    min_timestamp_millis: int
    max_runs: int | None = None


class ListExperimentsArgs(_Args):
    view_type: ProtoEnum | None = None
    max_results: int | None = None
    page_token: str | None = None

    @property
    def view(self) -> str | None:
        return _enum(self.view_type, _VIEW_TYPES)


class GetByNameArgs(_Args):
    experiment_name: str


class SearchExperimentsArgs(_Args):
    max_results: Int64 | None = None
    page_token: str | None = None
    filter: str | None = None
    order_by: list[str] = []
    view_type: ProtoEnum | None = None

    @property
    def view(self) -> str | None:
        return _enum(self.view_type, _VIEW_TYPES)


class UpdateExperimentArgs(_Args):
    experiment_id: ExpId
    new_name: str | None = None


class SetExperimentTagArgs(_Args):
    experiment_id: ExpId
    key: str
    value: str


class DeleteExperimentTagArgs(_Args):
    experiment_id: ExpId
    key: str


# -- runs ---------------------------------------------------------------------------------------
class RunRef(_Args):
    """``run_id`` or its deprecated twin ``run_uuid`` (mlflow sends both)."""

    run_id: str | None = None
    run_uuid: str | None = None

    @property
    def id(self) -> str:
        rid = self.run_id or self.run_uuid
        if not rid:
            raise invalid("Missing value for required parameter 'run_id'.")
        return rid


class CreateRunArgs(_Args):
    experiment_id: ExpId
    user_id: str | None = None
    run_name: str | None = None
    start_time: Int64 | None = None
    tags: list[KeyValue] = []


class UpdateRunArgs(RunRef):
    status: ProtoEnum | None = None
    end_time: Int64 | None = None
    run_name: str | None = None

    @property
    def status_name(self) -> str | None:
        return _enum(self.status, _RUN_STATUSES)


class LogMetricArgs(RunRef):
    key: str
    value: Double
    timestamp: Int64
    step: Int64 | None = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


class _KeyValueArgs(RunRef):
    """A key and a value that must be present (a JSON string, as proto3 JSON requires)."""

    key: str
    value: str


class LogParamArgs(_KeyValueArgs):
    pass


class SetTagArgs(_KeyValueArgs):
    pass


class DeleteTagArgs(_Args):
    run_id: str
    key: str


class MetricIn(_Args):
    key: str | None = None
    value: Double | None = None
    timestamp: Int64 | None = None
    step: Int64 | None = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None

    def to_metric(self) -> Metric:
        return Metric(self.key, self.value, self.timestamp, self.step or 0,  # type: ignore[arg-type]
                      self.model_id or None, self.dataset_name or None, self.dataset_digest or None)


class LogBatchArgs(_Args):
    run_id: str
    metrics: list[MetricIn] = []
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class GetHistoryArgs(RunRef):
    metric_key: str
    page_token: str | None = None
    max_results: Int64 | None = None


class BulkIntervalArgs(_Args):
    run_ids: list[str] = []
    metric_key: str
    start_step: Int64 | None = None
    end_step: Int64 | None = None
    max_results: Int64 | None = None


class SearchRunsArgs(_Args):
    experiment_ids: list[ExpId] = []
    filter: str | None = None
    run_view_type: ProtoEnum | None = None
    max_results: Int64 | None = None
    order_by: list[str] = []
    page_token: str | None = None

    @property
    def view(self) -> str | None:
        return _enum(self.run_view_type, _VIEW_TYPES)


class LogModelArgs(_Args):
    run_id: str
    model_json: str


class DatasetIn(_Args):
    name: str | None = None
    digest: str | None = None
    source_type: str | None = None
    source: str | None = None
    schema_: str | None = Field(None, alias="schema")
    profile: str | None = None

    model_config = ConfigDict(extra="ignore", defer_build=True, populate_by_name=True)


class DatasetInputIn(_Args):
    tags: list[KeyValue] = []
    dataset: DatasetIn | None = None

    def to_input(self) -> DatasetInput:
        d = self.dataset or DatasetIn()
        return DatasetInput(d.name or "", d.digest or "", d.source_type or "", d.source or "",
                            d.schema_, d.profile, {kv.key or "": "" if kv.value is None else str(kv.value)
                                                   for kv in self.tags})


class ModelIdIn(_Args):
    model_id: str | None = None
    step: Int64 | None = 0


class LogInputsArgs(_Args):
    run_id: str
    datasets: list[DatasetInputIn] = []
    models: list[ModelIdIn] = []


class LogOutputsArgs(_Args):
    run_id: str
    models: list[ModelIdIn] = []


# -- logged models ------------------------------------------------------------------------------
class CreateLoggedModelArgs(_Args):
    experiment_id: ExpId
    name: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    params: list[KeyValue] = []
    tags: list[KeyValue] = []


class GetLoggedModelArgs(_Args):
    allow_deleted: bool = False


class FinalizeLoggedModelArgs(_Args):
    status: ProtoEnum | None = None

    @property
    def status_name(self) -> str:
        name = _enum(self.status, _MODEL_STATUSES)
        if name is None:
            raise invalid("Missing value for required parameter 'status'.")
        return name


class LoggedModelTagsArgs(_Args):
    tags: list[KeyValue] = []


class LoggedModelParamsArgs(_Args):
    params: list[KeyValue] = []


class DatasetFilterIn(_Args):
    dataset_name: str | None = None
    dataset_digest: str | None = None


class OrderByIn(_Args):
    field_name: str | None = None
    ascending: bool | None = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


class SearchLoggedModelsArgs(_Args):
    experiment_ids: list[ExpId] = []
    filter: str | None = None
    datasets: list[DatasetFilterIn] = []
    max_results: Int64 | None = None
    order_by: list[OrderByIn] = []
    page_token: str | None = None


# -- renderers: one per entity ------------------------------------------------------------------
def _kv(d: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": val} for k, val in d.items()]


def experiment_out(e: Experiment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "experiment_id": e.experiment_id, "name": e.name, "artifact_location": e.artifact_location,
        "lifecycle_stage": e.lifecycle_stage, "last_update_time": e.last_update_time,
        "creation_time": e.creation_time}
    if e.tags:
        out["tags"] = _kv(e.tags)
    return out


def _double(x: float) -> float | str:
    """Protobuf JSON spells non-finite doubles as strings; mlflow's parser insists on it."""
    if x - x == 0:  # finite (and fast)
        return x
    return "NaN" if x != x else ("Infinity" if x > 0 else "-Infinity")


def metric_out(m: Metric, run_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"key": m.key, "value": _double(m.value), "timestamp": m.timestamp,
                           "step": m.step}
    if m.dataset_name:
        out["dataset_name"] = m.dataset_name
    if m.dataset_digest:
        out["dataset_digest"] = m.dataset_digest
    if m.model_id:
        out["model_id"] = m.model_id
    rid = run_id or m.run_id
    if rid:
        out["run_id"] = rid
    return out


def run_info_out(i: RunInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": i.run_id, "run_uuid": i.run_id, "run_name": i.run_name, "experiment_id": i.experiment_id,
        "user_id": i.user_id, "status": i.status, "start_time": i.start_time,
        "artifact_uri": i.artifact_uri, "lifecycle_stage": i.lifecycle_stage}
    if i.end_time is not None:
        out["end_time"] = i.end_time
    return out


def _dataset_input_out(d: DatasetInput) -> dict[str, Any]:
    ds: dict[str, Any] = {"name": d.name, "digest": d.digest, "source_type": d.source_type,
                          "source": d.source}
    if d.schema:
        ds["schema"] = d.schema
    if d.profile:
        ds["profile"] = d.profile
    out: dict[str, Any] = {"dataset": ds}
    if d.tags:
        out["tags"] = _kv(d.tags)
    return out


def run_out(r: Run) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if r.data.metrics:
        data["metrics"] = [metric_out(m) for _, m in sorted(r.data.metrics.items())]
    if r.data.params:
        data["params"] = _kv(r.data.params)
    if r.data.tags:
        data["tags"] = _kv(r.data.tags)
    out = {"info": run_info_out(r.info), "data": data, "inputs": _run_inputs_out(r)}
    if r.model_outputs:  # the server sets ``outputs`` only when the run has logged models
        out["outputs"] = _run_outputs_out(r)
    return out


def _run_inputs_out(r: Run) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if r.dataset_inputs:
        inputs["dataset_inputs"] = [_dataset_input_out(d) for d in r.dataset_inputs]
    if r.model_inputs:
        inputs["model_inputs"] = [{"model_id": m} for m in r.model_inputs]
    return inputs


def _run_outputs_out(r: Run) -> dict[str, Any]:
    return {"model_outputs": [{"model_id": m, "step": s} for m, s in r.model_outputs]}


def run_json(r: Run) -> str:
    """``jsonenc.encode(run_out(r))``, written without building the tree: search pages of
    thousands of runs are mostly these. ``tests/server/wire/test_jsonenc.py`` holds the two
    equal over random runs; a field added to :func:`run_out` must be added here too."""
    i, d = r.info, r.data
    info = (i.run_id, i.run_name, i.experiment_id, i.user_id, i.status, i.artifact_uri, i.lifecycle_stage)
    if all(type(x) is str for x in info) and type(i.start_time) is int:
        S = jsonenc.string
        rid = S(i.run_id)
        head = _INFO % (rid, rid, S(i.run_name), S(i.experiment_id), S(i.user_id), S(i.status),
                        i.start_time, S(i.artifact_uri), S(i.lifecycle_stage))
    else:  # unusual types: the general encoder writes them
        head = jsonenc.encode(run_info_out(i))[:-1]
    if i.end_time is not None:
        head += ',"end_time":' + jsonenc.value(i.end_time)
    sections = []
    if d.metrics:
        sections.append('"metrics":[' + ",".join([_metric_json(m) for _, m in sorted(d.metrics.items())]) + "]")
    if d.params:
        sections.append('"params":[' + _kv_json(d.params) + "]")
    if d.tags:
        sections.append('"tags":[' + _kv_json(d.tags) + "]")
    tail = jsonenc.encode(_run_inputs_out(r)) if r.dataset_inputs or r.model_inputs else "{}"
    if r.model_outputs:
        tail += ',"outputs":' + jsonenc.encode(_run_outputs_out(r))
    return head + '},"data":{' + ",".join(sections) + '},"inputs":' + tail + "}"


_INFO = ('{"info":{"run_id":%s,"run_uuid":%s,"run_name":%s,"experiment_id":%s,"user_id":%s,'
         '"status":%s,"start_time":%d,"artifact_uri":%s,"lifecycle_stage":%s')
_METRIC = '{"key":%s,"value":%s,"timestamp":%d,"step":%d}'
_KV = '{"key":%s,"value":%s}'


def _metric_json(m: Metric) -> str:
    v = m.value
    if (m.dataset_name or m.dataset_digest or m.model_id or m.run_id or type(m.key) is not str
            or type(v) is not float or v - v != 0 or type(m.timestamp) is not int or type(m.step) is not int):
        return jsonenc.encode(metric_out(m))  # rare: links, non-finite values, unusual types
    return _METRIC % (jsonenc.string(m.key), float.__repr__(v), m.timestamp, m.step)


def _kv_json(d: dict[str, str]) -> str:
    S = jsonenc.string
    if all(type(k) is str and type(v) is str for k, v in d.items()):
        return ",".join([_KV % (S(k), S(v)) for k, v in d.items()])
    return ",".join([jsonenc.encode({"key": k, "value": v}) for k, v in d.items()])


def logged_model_out(m: LoggedModel) -> dict[str, Any]:
    i = m.info
    info: dict[str, Any] = {
        "model_id": i.model_id, "experiment_id": i.experiment_id, "name": i.name,
        "creation_timestamp_ms": i.creation_timestamp_ms,
        "last_updated_timestamp_ms": i.last_updated_timestamp_ms, "artifact_uri": i.artifact_uri,
        "status": i.status}
    for field in ("model_type", "source_run_id", "status_message"):
        value = getattr(i, field)
        if value:
            info[field] = value
    if i.tags:
        info["tags"] = _kv(i.tags)
    data: dict[str, Any] = {}
    if m.data.params:
        data["params"] = _kv(m.data.params)
    if m.data.metrics:
        data["metrics"] = [metric_out(x) for x in m.data.metrics]
    return {"info": info, "data": data}
