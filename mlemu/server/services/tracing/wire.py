"""Request models and response shapes of the MLflow trace APIs.

Two generations share one :class:`~mlemu.server.services.tracing.state.Trace`:

* V3 (mlflow 3): ``TraceInfoV3`` in proto3 JSON, with maps for tags and metadata,
  ``request_time`` as an RFC 3339 timestamp and ``execution_duration`` as a Duration string
  (``"0.036s"``), and the trace's assessments embedded;
* v2 (mlflow 2.22): ``TraceInfo`` with ``request_id``, ``timestamp_ms``, ``execution_time_ms``,
  ``status`` and ``{key, value}`` lists.

Assessments are stored as the client's JSON; their timestamps are kept in milliseconds and
rendered as RFC 3339 here.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Optional, Union

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs
from mlemu.server.core.errors import invalid
from mlemu.server.services.tracing.state import Trace


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class KeyValue(_Args):
    key: str
    value: Optional[str] = None


# -- V3 requests ---------------------------------------------------------------------------
class StartTraceV3(_Args):
    trace: dict[str, Any]


class TraceIdArgs(_Args):
    trace_id: Optional[str] = None


class SearchTracesV3(_Args):
    locations: list[dict[str, Any]] = []
    filter: Optional[str] = None
    max_results: Optional[int] = None
    order_by: list[str] = []
    page_token: Optional[str] = None


class QueryTraceMetrics(_Args):
    """``traces/metrics``: the view, metric and aggregations are required (checked by the state)."""

    experiment_ids: list[str] = []
    view_type: Optional[Union[str, int]] = None
    metric_name: Optional[str] = None
    aggregations: list[dict[str, Any]] = []
    dimensions: list[str] = []
    filters: list[str] = []
    time_interval_seconds: Optional[int] = None
    start_time_ms: Optional[int] = None
    end_time_ms: Optional[int] = None
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class DeleteTraces(_Args):
    experiment_id: str
    max_timestamp_millis: Optional[int] = None
    max_traces: Optional[int] = None
    request_ids: list[str] = []


class LinkTracesToRun(_Args):
    trace_ids: list[str] = []
    run_id: str


class TagArgs(_Args):
    key: str
    value: Optional[str] = None


class DataCredentialsArgs(_Args):
    path: Optional[str] = None


class AssessmentBody(_Args):
    assessment: dict[str, Any]
    update_mask: Optional[Union[str, dict[str, Any]]] = None  # FieldMask: "a,b" or {"paths": [...]}


# -- v2 requests ---------------------------------------------------------------------------
class StartTraceV2(_Args):
    experiment_id: str
    timestamp_ms: int
    request_metadata: list[KeyValue] = []
    tags: list[KeyValue] = []


class EndTraceV2(_Args):
    request_id: Optional[str] = None
    timestamp_ms: int
    status: str = "TRACE_STATUS_UNSPECIFIED"
    request_metadata: list[KeyValue] = []
    tags: list[KeyValue] = []


class SearchTracesV2(_Args):
    experiment_ids: list[str] = []
    filter: Optional[str] = None
    max_results: Optional[int] = None
    order_by: list[str] = []
    page_token: Optional[str] = None


def pairs(items: list[KeyValue]) -> dict[str, str]:
    return {kv.key: kv.value or "" for kv in items}


# -- times ---------------------------------------------------------------------------------
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)")


def timestamp_ms(value: Any, name: str) -> int:
    """Milliseconds of a proto-JSON Timestamp (RFC 3339) or of a number of milliseconds."""
    if isinstance(value, (int, float)):
        return int(value)
    m = _TIMESTAMP.fullmatch(str(value or ""))
    if m is None:
        raise invalid(f"Invalid value {value!r} for parameter '{name}': expected an RFC 3339 timestamp.")
    zone = "+00:00" if m[3] == "Z" else m[3]
    base = datetime.fromisoformat(m[1] + zone)
    return int(base.timestamp()) * 1000 + int((m[2] or "0").ljust(9, "0")[:3])


def rfc3339(ms: int) -> str:
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def duration_ms(value: Any, name: str) -> int:
    """Milliseconds of a proto-JSON Duration (``"0.036s"``)."""
    m = re.fullmatch(r"(-?\d+)(?:\.(\d{1,9}))?s", str(value or ""))
    if m is None:
        raise invalid(f"Invalid value {value!r} for parameter '{name}': expected a duration like '1.5s'.")
    sign = -1 if m[1].startswith("-") else 1
    return int(m[1]) * 1000 + sign * int((m[2] or "0").ljust(9, "0")[:3])


def duration(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}s" if ms % 1000 else f"{ms // 1000}s"


# -- V3 shapes -----------------------------------------------------------------------------
def trace_from_v3(info: dict[str, Any]) -> Trace:
    """The domain trace of a ``TraceInfoV3`` sent by the client."""
    if not isinstance(info, dict):
        raise invalid("Missing value for required parameter 'trace.trace_info'.")
    location = info.get("trace_location") or {}
    if location.get("type", "MLFLOW_EXPERIMENT") != "MLFLOW_EXPERIMENT":
        raise invalid(f"Trace location type '{location.get('type')}' is not supported by this API; "
                      "only MLFLOW_EXPERIMENT is.")
    experiment_id = (location.get("mlflow_experiment") or {}).get("experiment_id")
    if not experiment_id:
        raise invalid("Missing value for required parameter "
                      "'trace.trace_info.trace_location.mlflow_experiment.experiment_id'.")
    if info.get("request_time") is None:
        raise invalid("Missing value for required parameter 'trace.trace_info.request_time'.")
    d = info.get("execution_duration")
    return Trace(
        trace_id=info.get("trace_id") or "", experiment_id=str(experiment_id),
        request_time_ms=timestamp_ms(info["request_time"], "trace_info.request_time"),
        execution_duration_ms=None if d is None else duration_ms(d, "trace_info.execution_duration"),
        state=info.get("state") or "STATE_UNSPECIFIED",
        metadata={str(k): str(v) for k, v in (info.get("trace_metadata") or {}).items()},
        tags={str(k): str(v) for k, v in (info.get("tags") or {}).items()},
        request_preview=info.get("request_preview"), response_preview=info.get("response_preview"),
        client_request_id=info.get("client_request_id"))


def trace_info_v3(t: Trace) -> dict[str, Any]:
    out: dict[str, Any] = {"trace_id": t.trace_id}
    if t.client_request_id:
        out["client_request_id"] = t.client_request_id
    out["trace_location"] = {"type": "MLFLOW_EXPERIMENT",
                             "mlflow_experiment": {"experiment_id": t.experiment_id}}
    if t.request_preview is not None:
        out["request_preview"] = t.request_preview
    if t.response_preview is not None:
        out["response_preview"] = t.response_preview
    out["request_time"] = rfc3339(t.request_time_ms)
    if t.execution_duration_ms is not None:
        out["execution_duration"] = duration(t.execution_duration_ms)
    out["state"] = t.state
    if t.metadata:
        out["trace_metadata"] = dict(t.metadata)
    if t.assessments:
        out["assessments"] = [assessment(a) for a in t.assessments.values()]
    if t.tags:
        out["tags"] = dict(t.tags)
    return out


def assessment_in(a: dict[str, Any]) -> dict[str, Any]:
    """A client's assessment with its timestamps in milliseconds."""
    if not isinstance(a, dict):
        raise invalid("Missing value for required parameter 'assessment'.")
    out = {k: v for k, v in a.items() if k not in ("assessment_id",)}
    for key in ("create_time", "last_update_time"):
        if out.get(key) is not None:
            out[key] = timestamp_ms(out[key], f"assessment.{key}")
    return out


def assessment(a: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key in ("create_time", "last_update_time"):
        if out.get(key) is not None:
            out[key] = rfc3339(out[key])
    return out


def mask_paths(mask: Any) -> list[str]:
    """FieldMask paths: proto JSON sends one camelCase string (``"assessmentName,feedback"``);
    a ``{"paths": [...]}`` object is accepted too."""
    if isinstance(mask, dict):
        raw = mask.get("paths") or []
    elif isinstance(mask, str):
        raw = [p for p in mask.split(",") if p.strip()]
    elif mask is None:
        raw = []
    else:
        raise invalid("Invalid value for parameter 'update_mask'.")
    return [re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m[1].lower(), p.strip()) for p in raw]


# -- v2 shapes -----------------------------------------------------------------------------
def trace_info_v2(t: Trace) -> dict[str, Any]:
    out: dict[str, Any] = {"request_id": t.trace_id, "experiment_id": t.experiment_id,
                           "timestamp_ms": t.request_time_ms}
    if t.execution_duration_ms is not None:
        out["execution_time_ms"] = t.execution_duration_ms
    out["status"] = "TRACE_STATUS_UNSPECIFIED" if t.state == "STATE_UNSPECIFIED" else t.state
    if t.metadata:
        out["request_metadata"] = [{"key": k, "value": v} for k, v in t.metadata.items()]
    if t.tags:
        out["tags"] = [{"key": k, "value": v} for k, v in t.tags.items()]
    return out


def v2_state(status: str) -> str:
    return "STATE_UNSPECIFIED" if status == "TRACE_STATUS_UNSPECIFIED" else status
