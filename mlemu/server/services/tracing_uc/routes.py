"""Routes of Unity Catalog trace storage: ``/api/5.0/mlflow/tracing/locations`` and the
experiment link, the V4 trace API under ``/api/4.0/mlflow/traces/<catalog.schema.prefix>/...``
(trace info, batchGet, tags, assessments, run links), the long-running search and OTLP span
ingest at ``/api/2.0/otel/v1/traces``.

The long-running search answers experiment locations with ``INVALID_PARAMETER_VALUE``
"... locations not yet supported", as the workspace does: mlflow 3 then falls back to
SearchTracesV3 for traces kept in experiments.
"""
from __future__ import annotations

from mlemu.server.core.errors import invalid
from mlemu.server.services.tracing import wire as v3
from mlemu.server.services.tracing_uc import wire
from mlemu.server.services.tracing_uc.state import UcTraceStorage
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service
from mlemu.server.services.tracing_uc import persist

routes = RouteTable("tracing_uc")

V4 = "/api/4.0/mlflow/traces"
TRACE = V4 + "/<location_id>/<trace_hex>"


def _svc(req: Request) -> UcTraceStorage:
    return req.ws.tracing_uc


@routes.post("/api/5.0/mlflow/tracing/locations", "locations.create", body=wire.CreateLocation,
             client_calls=("mlflow.set_experiment(..., trace_location=UnityCatalog(...))",))
def create_location(req: Request) -> dict:
    loc = _svc(req).create_location(*wire.location_id_of(req.args.uc_table_prefix))
    return {"uc_table_prefix": wire.location(loc)}


@routes.post("/api/5.0/mlflow/experiments/<experiment_id>/trace-location:link", "experiments.link-location",
             body=wire.LinkLocation,
             client_calls=("mlflow.set_experiment(..., trace_location=UnityCatalog(...))",))
def link_location(req: Request, experiment_id: str) -> dict:
    svc = _svc(req)
    loc = svc.location(".".join(wire.location_id_of(req.args.uc_table_prefix)))
    svc.link_experiment(experiment_id, loc)
    return {}


@routes.post(f"{TRACE}/info", "create-trace-info",
             client_calls=("@mlflow.trace with a Unity Catalog trace location (at the end of the root span)",))
def create_trace_info(req: Request, location_id: str, trace_hex: str) -> dict:
    trace = wire.trace_from_v4(req.json())
    if trace.trace_id.rsplit("/", 1)[-1] != trace_hex:
        raise invalid(f"The body's trace_id '{trace.trace_id}' does not match the path's '{trace_hex}'.")
    return wire.trace_info_v4(_svc(req).create_trace_info(location_id, trace))


@routes.get(f"{TRACE}/info", "get-trace-info", body=wire.Empty,
            client_calls=("MlflowClient.get_trace_info (UC trace ids)",))
def get_trace_info(req: Request, location_id: str, trace_hex: str) -> dict:
    return {"trace": {"trace_info": wire.trace_info_v4(_svc(req).get(location_id, trace_hex))}}


@routes.get(V4 + "/<location_id>/batchGet", "batch-get", body=wire.BatchGet,
            client_calls=("mlflow.get_trace (UC trace ids)", "mlflow.search_traces (UC locations, spans)"))
def batch_get(req: Request, location_id: str) -> dict:
    found = _svc(req).batch_get(location_id, req.args.trace_ids)
    return page_body("traces", [{"trace_info": wire.trace_info_v4(t), "spans": spans} for t, spans in found],
                     None)


@routes.post(V4 + "/search-long-running", "search-long-running", body=wire.SearchLongRunning,
             client_calls=("mlflow.search_traces (3.x; experiments fall back to V3)",
                           "mlflow.search_traces(locations=['catalog.schema.prefix'])"))
def search_long_running(req: Request) -> dict:
    a = req.args
    return _operation(_svc(req).search(_uc_locations(a.locations), a.filter, a.max_results, a.order_by,
                                       a.page_token))


@routes.post(V4 + "/search", "search", body=wire.SearchLongRunning,
             client_calls=("mlflow.search_traces (3.x before search-long-running, e.g. 3.8; "
                           "experiments fall back to V3)",))
def search(req: Request) -> dict:
    """The synchronous V4 search older mlflow 3 clients call; same refusals as the long-running one."""
    a = req.args
    op = _svc(req).search(_uc_locations(a.locations), a.filter, a.max_results, a.order_by, a.page_token)
    return page_body("trace_infos", [wire.trace_info_v4(t) for t in op["traces"]], op["next_page_token"])


def _uc_locations(locations: list[dict]) -> list[str]:
    """The UC table prefixes of a V4 search; experiment locations are refused, as the workspace does."""
    location_ids = []
    for loc in locations:
        kind = loc.get("type")
        if kind == "MLFLOW_EXPERIMENT":
            raise invalid("MLflow experiment locations not yet supported")
        prefix = loc.get("uc_table_prefix") or {}
        if kind != "UC_TABLE_PREFIX" or not prefix:
            raise invalid(f"Trace location type '{kind}' is not supported by this API.")
        location_ids.append(".".join(wire.location_id_of(wire.UcTablePrefix(**prefix))))
    if not location_ids:
        raise invalid("Missing value for required parameter 'locations'.")
    return location_ids


@routes.get(V4 + "/search/operations/<name>", "search-operations.get", body=wire.Empty,
            client_calls=("mlflow.search_traces (UC locations, polls the search)",))
def get_operation(req: Request, name: str) -> dict:
    return _operation(_svc(req).operation(name))


def _operation(op: dict) -> dict:
    response = page_body("trace_infos", [wire.trace_info_v4(t) for t in op["traces"]], op["next_page_token"])
    return {"name": op["name"], "done": True, "response": response}


@routes.patch(f"{TRACE}/tags", "set-trace-tag", body=wire.TagArgs,
              client_calls=("MlflowClient.set_trace_tag (UC trace ids)",))
def set_tag(req: Request, location_id: str, trace_hex: str) -> dict:
    _svc(req).set_tag(location_id, trace_hex, req.args.key, req.args.value or "")
    return {}


@routes.delete(f"{TRACE}/tags/<key>", "delete-trace-tag", body=wire.Empty,
               client_calls=("MlflowClient.delete_trace_tag (UC trace ids)",))
def delete_tag(req: Request, location_id: str, trace_hex: str, key: str) -> dict:
    _svc(req).delete_tag(location_id, trace_hex, key)
    return {}


@routes.post(V4 + "/<location_id>/link-to-run/batchCreate", "link-to-run", body=wire.LinkToRun,
             client_calls=("MlflowClient.link_traces_to_run (UC trace ids)", "mlflow.genai.evaluate (UC)"))
def link_to_run(req: Request, location_id: str) -> dict:
    hexes = [t.rsplit("/", 1)[-1] for t in req.args.trace_ids]
    _svc(req).link_to_run(location_id, hexes, req.args.run_id)
    return {}


@routes.post(f"{TRACE}/assessments", "create-assessment",
             client_calls=("mlflow.log_feedback / log_expectation (UC trace ids)",))
def create_assessment(req: Request, location_id: str, trace_hex: str) -> dict:
    svc = _svc(req)
    a = v3.assessment_in(req.json())
    a.pop("trace_location", None)
    created = svc.create_assessment(location_id, trace_hex, a)
    return wire.assessment_v4(created, svc.get(location_id, trace_hex))


@routes.get(f"{TRACE}/assessments/<assessment_id>", "get-assessment", body=wire.Empty,
            client_calls=("mlflow.get_assessment (UC trace ids)",))
def get_assessment(req: Request, location_id: str, trace_hex: str, assessment_id: str) -> dict:
    svc = _svc(req)
    return wire.assessment_v4(svc.get_assessment(location_id, trace_hex, assessment_id),
                              svc.get(location_id, trace_hex))


@routes.patch(f"{TRACE}/assessments/<assessment_id>", "update-assessment",
              client_calls=("mlflow.update_assessment (UC trace ids)",))
def update_assessment(req: Request, location_id: str, trace_hex: str, assessment_id: str) -> dict:
    svc = _svc(req)
    query_mask = (req.query.get("update_mask") or [None])[0]
    aid, paths = wire.split_assessment_id(assessment_id, query_mask)
    changes = v3.assessment_in(req.json())
    changes.pop("trace_location", None)
    updated = svc.update_assessment(location_id, trace_hex, aid, changes, paths)
    return wire.assessment_v4(updated, svc.get(location_id, trace_hex))


@routes.delete(f"{TRACE}/assessments/<assessment_id>", "delete-assessment", body=wire.Empty,
               client_calls=("mlflow.delete_assessment (UC trace ids)",))
def delete_assessment(req: Request, location_id: str, trace_hex: str, assessment_id: str) -> dict:
    _svc(req).delete_assessment(location_id, trace_hex, assessment_id.partition("&")[0])
    return {}


@routes.post("/api/2.0/otel/v1/traces", "otel.export-traces",
             client_calls=("@mlflow.trace with a Unity Catalog trace location (OTLP span export)",))
def otlp_export(req: Request) -> dict:
    table = req.headers.get("x-databricks-uc-table-name")
    if not table:
        raise invalid("Missing header 'X-Databricks-UC-Table-Name' naming the spans table.")
    _svc(req).ingest(table, wire.decode_otlp(req.body))
    return {}


SERVICE = Service("tracing_uc", routes, state=UcTraceStorage, persist=persist,
                  description="MLflow traces kept in Unity Catalog (V4 trace API, trace locations, OTLP ingest)")
