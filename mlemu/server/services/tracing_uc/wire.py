"""Request models and shapes of Unity Catalog trace storage: the ``/api/5.0`` location calls,
the V4 trace API (bare TraceInfo and Assessment messages with a ``UC_TABLE_PREFIX``
location) and OTLP ingest, decoded with ``opentelemetry-proto`` (a dependency of mlflow 3;
without it the OTLP route answers 501)."""
from __future__ import annotations

import json
from typing import Any, Optional

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs
from mlemu.server.core.errors import ApiError, bad_request, invalid
from mlemu.server.services.tracing import wire as v3
from mlemu.server.services.tracing.state import Trace
from mlemu.server.services.tracing.views import any_value
from mlemu.server.services.tracing_uc.state import IngestedSpan, UcLocation


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class UcTablePrefix(_Args):
    catalog_name: Optional[str] = None
    schema_name: Optional[str] = None
    table_prefix: Optional[str] = None


class CreateLocation(_Args):
    uc_table_prefix: UcTablePrefix = UcTablePrefix()
    sql_warehouse_id: Optional[str] = None


class LinkLocation(_Args):
    experiment_id: Optional[str] = None
    uc_table_prefix: UcTablePrefix = UcTablePrefix()


class BatchGet(_Args):
    location_id: Optional[str] = None
    trace_ids: list[str] = []
    sql_warehouse_id: Optional[str] = None


class SearchLongRunning(_Args):
    locations: list[dict[str, Any]] = []
    filter: Optional[str] = None
    max_results: Optional[int] = None
    order_by: list[str] = []
    page_token: Optional[str] = None
    sql_warehouse_id: Optional[str] = None


class TagArgs(_Args):
    key: str
    value: Optional[str] = None


class LinkToRun(_Args):
    location_id: Optional[str] = None
    trace_ids: list[str] = []
    run_id: str


class Empty(_Args):
    pass


def location_id_of(prefix: UcTablePrefix) -> tuple[str, str, str]:
    return prefix.catalog_name or "", prefix.schema_name or "", prefix.table_prefix or ""


def location(loc: UcLocation, tables: bool = True) -> dict[str, Any]:
    out = {"catalog_name": loc.catalog, "schema_name": loc.schema, "table_prefix": loc.prefix}
    if tables:
        out.update(spans_table_name=loc.spans_table, logs_table_name=loc.logs_table,
                   annotations_table_name=loc.annotations_table)
    return out


def trace_from_v4(info: dict[str, Any]) -> Trace:
    if not isinstance(info, dict):
        raise invalid("Missing trace info in the request body.")
    if info.get("request_time") is None:
        raise invalid("Missing value for required parameter 'request_time'.")
    d = info.get("execution_duration")
    return Trace(
        trace_id=str(info.get("trace_id") or ""), experiment_id="",
        request_time_ms=v3.timestamp_ms(info["request_time"], "request_time"),
        execution_duration_ms=None if d is None else v3.duration_ms(d, "execution_duration"),
        state=info.get("state") or "STATE_UNSPECIFIED",
        metadata={str(k): str(v) for k, v in (info.get("trace_metadata") or {}).items()},
        tags={str(k): str(v) for k, v in (info.get("tags") or {}).items()},
        request_preview=info.get("request_preview"), response_preview=info.get("response_preview"),
        client_request_id=info.get("client_request_id"))


def trace_info_v4(t: Trace) -> dict[str, Any]:
    out = v3.trace_info_v3(t)
    loc: UcLocation = t.uc_location
    out["trace_location"] = {"type": "UC_TABLE_PREFIX", "uc_table_prefix": {
        **location(loc, tables=False), "spans_table_name": loc.spans_table}}
    return out


def assessment_v4(a: dict[str, Any], t: Trace) -> dict[str, Any]:
    out = v3.assessment(a)
    loc: UcLocation = t.uc_location
    out["trace_location"] = {"type": "UC_TABLE_PREFIX", "uc_table_prefix": location(loc, tables=False)}
    return out


def split_assessment_id(raw: str, query_mask: str | None) -> tuple[str, list[str]]:
    """mlflow 3.17 appends ``&update_mask=a,b`` to the path without a ``?`` when no SQL
    warehouse id is set: accept it there or in the query string."""
    aid, _, rest = raw.partition("&")
    mask = query_mask
    for part in rest.split("&"):
        key, _, value = part.partition("=")
        if key == "update_mask":
            mask = value
    return aid, [p.strip() for p in (mask or "").split(",") if p.strip()]


# -- OTLP ----------------------------------------------------------------------------------
def decode_otlp(body: bytes) -> list[IngestedSpan]:
    """The spans of an OTLP/HTTP protobuf ``ExportTraceServiceRequest``."""
    try:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    except ImportError:  # pragma: no cover - mlflow 3 depends on opentelemetry-proto
        raise ApiError("NOT_IMPLEMENTED", "OTLP ingest needs the opentelemetry-proto package.") from None
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except Exception:  # protobuf's DecodeError
        raise bad_request("The request body is not an OTLP ExportTraceServiceRequest.") from None
    out: list[IngestedSpan] = []
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                as_json = MessageToDict(span, preserving_proto_field_name=True)
                attrs = {kv.key: any_value(MessageToDict(kv.value, preserving_proto_field_name=True))
                         for kv in span.attributes}
                row = {"trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                       "parent_span_id": span.parent_span_id.hex() or None, "name": span.name,
                       "start_time_unix_nano": int(span.start_time_unix_nano),
                       "end_time_unix_nano": int(span.end_time_unix_nano),
                       "status_code": as_json.get("status", {}).get("code", "STATUS_CODE_UNSET"),
                       "status_message": span.status.message,
                       "attributes": json.dumps(attrs, sort_keys=True, default=str),
                       "events": json.dumps(as_json.get("events", []), sort_keys=True)}
                out.append(IngestedSpan(span.trace_id.hex(), as_json, row))
    return out
