"""Traces kept in Unity Catalog (``set_experiment(..., trace_location=UnityCatalog(...))``):
trace locations (``catalog.schema.prefix`` with their spans, logs and annotations tables),
V4 trace infos keyed by location and OTel trace id, spans ingested over OTLP (kept per trace
for reads, and appended as rows to the location's UC spans table), tags, run links,
assessments, and long-running searches (answered at once).

Trace infos, tags and assessments follow the same rules as traces kept in experiments
(:mod:`mlemu.server.services.tracing.state`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlemu.server.core.errors import invalid, not_found
from mlemu.server.services.tracing import state as tracing
from mlemu.server.services.tracing.state import Trace
from mlemu.server.services.tracking import search as srch

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

#: Experiment tags a linked experiment carries (later processes read them back).
DESTINATION_TAG = "mlflow.experiment.databricksTraceDestinationPath"
SPANS_TABLE_TAG = "mlflow.experiment.databricksTraceSpanStorageTable"
LOGS_TABLE_TAG = "mlflow.experiment.databricksTraceLogStorageTable"
ANNOTATIONS_TABLE_TAG = "mlflow.experiment.databricksTraceAnnotationsTable"
#: Columns of the spans table as mlemu keeps it (a flattened OTel span).
SPAN_COLUMNS = ("trace_id", "span_id", "parent_span_id", "name", "start_time_unix_nano",
                "end_time_unix_nano", "status_code", "status_message", "attributes", "events")


@dataclass(frozen=True)
class UcLocation:
    catalog: str
    schema: str
    prefix: str

    @property
    def id(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.prefix}"

    @property
    def spans_table(self) -> str:
        return f"{self.id}_otel_spans"

    @property
    def logs_table(self) -> str:
        return f"{self.id}_otel_logs"

    @property
    def annotations_table(self) -> str:
        return f"{self.id}_annotations"


@dataclass(frozen=True)
class IngestedSpan:
    """One OTLP span: its OTel trace id (hex), proto-JSON (as batchGet returns it) and table row."""

    trace_hex: str
    proto_json: dict[str, Any]
    row: dict[str, Any]


class UcTraceStorage:
    """Trace locations and the traces kept in them, for one workspace."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._locations: dict[str, UcLocation] = {}
        self._traces: dict[tuple[str, str], Trace] = {}
        self._spans: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._operations: dict[str, dict[str, Any]] = {}

    # -- locations ---------------------------------------------------------------------
    def create_location(self, catalog: str, schema: str, prefix: str) -> UcLocation:
        """Create (or get) a location; its tables are created in the schema, which must exist."""
        if not (catalog and schema and prefix):
            raise invalid("Missing value for required parameter 'uc_table_prefix' (catalog_name, "
                          "schema_name and table_prefix).")
        uc = self._ws.unity_catalog
        uc.require_writable_schema(catalog, schema, "trace tables")
        loc = UcLocation(catalog.lower(), schema.lower(), prefix)
        if loc.id not in self._locations:
            import pandas as pd

            for table in (loc.spans_table, loc.logs_table, loc.annotations_table):
                if not uc.table_exists(table):
                    columns = SPAN_COLUMNS if table == loc.spans_table else ("trace_id", "value")
                    uc.put_table(table, pd.DataFrame({c: pd.Series(dtype=object) for c in columns}))
            self._locations[loc.id] = loc
        return self._locations[loc.id]

    def location(self, location_id: str) -> UcLocation:
        loc = self._locations.get(location_id)
        if loc is None:
            raise not_found(f"Trace location '{location_id}' does not exist.")
        return loc

    def link_experiment(self, experiment_id: str, loc: UcLocation) -> None:
        self.location(loc.id)
        tracking = self._ws.tracking
        for key, value in ((DESTINATION_TAG, loc.id), (SPANS_TABLE_TAG, loc.spans_table),
                           (LOGS_TABLE_TAG, loc.logs_table), (ANNOTATIONS_TABLE_TAG, loc.annotations_table)):
            tracking.set_experiment_tag(experiment_id, key, value)

    # -- traces ------------------------------------------------------------------------
    def create_trace_info(self, location_id: str, trace: Trace) -> Trace:
        loc = self.location(location_id)
        hex_id = _otel_hex(trace.trace_id)
        trace.trace_id, trace.uc_location = hex_id, loc
        old = self._traces.get((loc.id, hex_id))
        if old is not None:
            trace.assessments, trace.linked_run_ids = old.assessments, old.linked_run_ids
        self._traces[(loc.id, hex_id)] = trace
        return trace

    def get(self, location_id: str, trace_hex: str) -> Trace:
        trace = self._traces.get((location_id, trace_hex))
        if trace is None:
            raise not_found(f"Trace '{trace_hex}' not found in location '{location_id}'.")
        return trace

    def traces(self, location_id: str | None = None) -> list[Trace]:
        return [t for (loc, _), t in self._traces.items() if location_id is None or loc == location_id]

    def with_spans(self, location_id: str | None = None) -> list[tuple[Trace, list[dict[str, Any]]]]:
        """Every trace (of one location, or all) with its ingested spans."""
        return [(t, self.spans(loc, h)) for (loc, h), t in self._traces.items()
                if location_id is None or loc == location_id]

    def spans(self, location_id: str, trace_hex: str) -> list[dict[str, Any]]:
        return list(self._spans.get((location_id, trace_hex), []))

    def batch_get(self, location_id: str, trace_hexes: list[str]) -> list[tuple[Trace, list[dict[str, Any]]]]:
        """Known traces with their spans, in the order asked; unknown ids are left out."""
        self.location(location_id)
        return [(self._traces[(location_id, h)], self.spans(location_id, h)) for h in trace_hexes
                if (location_id, h) in self._traces]

    def ingest(self, spans_table: str, spans: list[IngestedSpan]) -> None:
        """OTLP spans for the location whose spans table is ``spans_table``."""
        loc = next((l for l in self._locations.values() if l.spans_table == spans_table), None)
        if loc is None:
            raise not_found(f"Table '{spans_table}' is not the spans table of a trace location.")
        for s in spans:
            self._spans.setdefault((loc.id, s.trace_hex), []).append(s.proto_json)
        if spans:
            self._ws.unity_catalog.get_table(loc.spans_table).append_rows([s.row for s in spans])

    def set_tag(self, location_id: str, trace_hex: str, key: str, value: str) -> None:
        if not key:
            raise invalid("Missing value for required parameter 'key'.")
        self.get(location_id, trace_hex).tags[key] = value

    def delete_tag(self, location_id: str, trace_hex: str, key: str) -> None:
        trace = self.get(location_id, trace_hex)
        if key not in trace.tags:
            raise not_found(f"No trace tag with key '{key}' for trace '{trace_hex}'.")
        del trace.tags[key]

    def link_to_run(self, location_id: str, trace_hexes: list[str], run_id: str) -> None:
        self._ws.tracking.get_run(run_id)
        traces = [self.get(location_id, h) for h in trace_hexes]
        for t in traces:
            if run_id not in t.linked_run_ids:
                t.linked_run_ids.append(run_id)

    # -- search ------------------------------------------------------------------------
    def search(self, location_ids: list[str], filter: str | None, max_results: int | None,
               order_by: list[str] | None, page_token: str | None) -> dict[str, Any]:
        """Run a search and keep it as a finished long-running operation."""
        for loc in location_ids:
            self.location(loc)
        clauses = srch.parse_filter(filter, tracing.TRACES)
        keys = [srch.parse_order_by(o, tracing.TRACES) for o in order_by or []] + list(tracing.DEFAULT_ORDER)
        hits = [t for loc in location_ids for t in self.traces(loc)
                if all(tracing.matches(t, c) for c in clauses)]
        hits = srch.apply_order(hits, keys, tracing.order_value)
        page, token = srch.paginate(hits, page_token, min(max_results or 100, tracing.SEARCH_PAGE_CAP),
                                    srch.fingerprint(sorted(location_ids), filter, order_by))
        name = "op-" + self._ws.ids.hex(8)
        self._operations[name] = {"name": name, "traces": page, "next_page_token": token}
        return self._operations[name]

    def operation(self, name: str) -> dict[str, Any]:
        op = self._operations.get(name)
        if op is None:
            raise not_found(f"Operation '{name}' does not exist.")
        return op

    # -- assessments -------------------------------------------------------------------
    def create_assessment(self, location_id: str, trace_hex: str, a: dict[str, Any]) -> dict[str, Any]:
        return tracing.create_assessment(self._ws, self.get(location_id, trace_hex), a)

    def get_assessment(self, location_id: str, trace_hex: str, assessment_id: str) -> dict[str, Any]:
        return tracing.get_assessment(self.get(location_id, trace_hex), assessment_id)

    def update_assessment(self, location_id: str, trace_hex: str, assessment_id: str,
                          changes: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        return tracing.update_assessment(self._ws, self.get(location_id, trace_hex), assessment_id,
                                         changes, paths)

    def delete_assessment(self, location_id: str, trace_hex: str, assessment_id: str) -> None:
        tracing.delete_assessment(self.get(location_id, trace_hex), assessment_id)


def _otel_hex(trace_id: str) -> str:
    hex_id = (trace_id or "").rsplit("/", 1)[-1]
    if len(hex_id) != 32 or any(c not in "0123456789abcdef" for c in hex_id):
        raise invalid(f"Invalid trace ID '{trace_id}': expected the 32 hex digits of an OTel trace id.")
    return hex_id
