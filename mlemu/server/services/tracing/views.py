"""Read-only views of a workspace's traces for test assertions: each trace with its spans
(decoded from the ``traces.json`` the client uploaded, mlflow 3 or 2.22 layout, or from the
OTLP spans of a Unity Catalog trace location) and its assessments.

    def test_agent(mlemu):
        answer("hi")
        (trace,) = mlemu.traces()
        assert [s.name for s in trace.spans] == ["answer", "llm"]
        assert trace.spans[1].outputs == "hello"
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlemu.server.services.tracing.state import Trace, Tracing


@dataclass(frozen=True)
class SpanView:
    name: str
    span_id: str
    parent_id: str | None
    span_type: str | None
    status: str  # OK | ERROR | UNSET
    start_time_ns: int
    end_time_ns: int | None
    inputs: Any
    outputs: Any
    attributes: dict[str, Any]
    events: list[dict[str, Any]]


@dataclass(frozen=True)
class TraceView:
    trace_id: str
    experiment_id: str
    name: str | None
    state: str
    request_time_ms: int
    execution_duration_ms: int | None
    tags: dict[str, str]
    metadata: dict[str, str]
    run_ids: list[str]
    assessments: list[dict[str, Any]]
    spans: list[SpanView] = field(default_factory=list)
    #: ``catalog.schema.prefix`` for traces kept in Unity Catalog (then ``experiment_id`` is "").
    location: str | None = None

    def span(self, name: str) -> SpanView:
        """The first span called ``name`` (KeyError when there is none)."""
        for s in self.spans:
            if s.name == name:
                return s
        raise KeyError(f"no span named {name!r} in trace {self.trace_id}; spans: {[s.name for s in self.spans]}")


def trace_views(tracing: "Tracing", experiment_id: str | None = None,
                uc_traces: list[tuple["Trace", list[dict[str, Any]]]] = ()) -> list[TraceView]:
    """The traces (of one experiment, or all), oldest first, with spans and assessments;
    ``uc_traces`` are Unity Catalog traces with their OTLP spans (proto JSON)."""
    traces = tracing.traces(None if experiment_id is None else [experiment_id])
    views = [_view(t, tracing.span_data(t.trace_id)) for t in traces]
    views += [_view(t, None, [_otlp_span(s) for s in spans], t.uc_location.id) for t, spans in uc_traces]
    return sorted(views, key=lambda v: (v.request_time_ms, v.trace_id))


def _view(t: "Trace", data: bytes | None, spans: list[SpanView] | None = None,
          location: str | None = None) -> TraceView:
    spans = list(spans or [])
    if data:
        try:
            spans = [_span(s) for s in json.loads(data).get("spans", [])]
        except (ValueError, AttributeError, TypeError):
            spans = []
    return TraceView(t.trace_id, t.experiment_id, t.tags.get("mlflow.traceName"), t.state, t.request_time_ms,
                     t.execution_duration_ms, dict(t.tags), dict(t.metadata), t.run_ids,
                     [dict(a) for a in t.assessments.values()], spans, location)


def decoded(value: Any) -> Any:
    """A span attribute's value: mlflow writes each one JSON-encoded."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _hex_id(value: Any) -> str:
    """mlflow 3 writes span ids base64-encoded, 2.22 as hex."""
    if not value:
        return ""
    try:
        return base64.b64decode(value, validate=True).hex()
    except (ValueError, TypeError):
        return str(value)


def _span(s: dict[str, Any]) -> SpanView:
    attrs = {k: decoded(v) for k, v in (s.get("attributes") or {}).items()}
    if "context" in s:  # mlflow 2.22 layout
        span_id, parent = s["context"].get("span_id", ""), s.get("parent_id")
        status = s.get("status_code", "UNSET")
        start, end = s.get("start_time"), s.get("end_time")
    else:
        span_id, parent = _hex_id(s.get("span_id")), _hex_id(s.get("parent_span_id")) or None
        status = str((s.get("status") or {}).get("code", "UNSET")).replace("STATUS_CODE_", "")
        start, end = s.get("start_time_unix_nano"), s.get("end_time_unix_nano")
    return SpanView(str(s.get("name")), span_id, parent, attrs.get("mlflow.spanType"), status, int(start or 0),
                    None if end is None else int(end), attrs.get("mlflow.spanInputs"),
                    attrs.get("mlflow.spanOutputs"), attrs, list(s.get("events") or []))


def _otlp_span(s: dict[str, Any]) -> SpanView:
    """A span in OTLP proto JSON (typed attribute values; JSON strings are decoded too)."""
    attrs = {kv["key"]: decoded(any_value(kv.get("value", {}))) for kv in s.get("attributes", [])}
    status = str((s.get("status") or {}).get("code", "STATUS_CODE_UNSET")).replace("STATUS_CODE_", "")
    end = s.get("end_time_unix_nano")
    return SpanView(str(s.get("name")), _hex_id(s.get("span_id")), _hex_id(s.get("parent_span_id")) or None,
                    attrs.get("mlflow.spanType"), status, int(s.get("start_time_unix_nano") or 0),
                    None if end is None else int(end), attrs.get("mlflow.spanInputs"),
                    attrs.get("mlflow.spanOutputs"), attrs, list(s.get("events") or []))


def any_value(v: dict[str, Any]) -> Any:
    """A Python value of an OTLP ``AnyValue`` in proto JSON."""
    if "string_value" in v:
        return v["string_value"]
    if "int_value" in v:
        return int(v["int_value"])
    if "double_value" in v:
        return float(v["double_value"])
    if "bool_value" in v:
        return bool(v["bool_value"])
    if "array_value" in v:
        return [any_value(x) for x in v["array_value"].get("values", [])]
    if "kvlist_value" in v:
        return {kv["key"]: any_value(kv.get("value", {})) for kv in v["kvlist_value"].get("values", [])}
    if "bytes_value" in v:
        return v["bytes_value"]
    return None
