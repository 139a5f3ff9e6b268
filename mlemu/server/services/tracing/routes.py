"""Routes of MLflow tracing with traces stored in the experiment: the V3 API mlflow 3 uses
(``/api/3.0/mlflow/traces``), the v2 API of mlflow 2.22 (``/api/2.0/mlflow/traces``), the
routes both share (tags, delete-traces, span-data credentials), assessments (``/api/3.0`` for
mlflow 3, ``/api/2.0`` for 2.22) and link-to-run.

mlflow 3 first sends the V4 long-running search (:mod:`mlemu.server.services.tracing_uc`), which
refuses experiment locations ("... not yet supported") as the workspace does; the client then
falls back to SearchTracesV3 here.
"""
from __future__ import annotations

from mlemu.server.core.errors import invalid
from mlemu.server.services.mlflow_artifacts.wire import credential_info
from mlemu.server.services.tracing import metrics, wire
from mlemu.server.services.tracing.state import Trace, Tracing
from mlemu.server.services.unity_catalog.paging import page_size, paginate
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service

routes = RouteTable("tracing")

V2 = "/api/2.0/mlflow/traces"
V3 = "/api/3.0/mlflow/traces"
#: Pre-signed span-data URLs are short-lived, like the artifact credentials.
CREDENTIAL_TTL_MS = 15 * 60 * 1000


def _svc(req: Request) -> Tracing:
    return req.ws.tracing


def _v3(t: Trace) -> dict:
    return {"trace": {"trace_info": wire.trace_info_v3(t)}}


# == V3 (mlflow 3) ========================================================================

@routes.post(V3, "start-trace-v3", body=wire.StartTraceV3,
             client_calls=("@mlflow.trace / mlflow.start_span (3.x export at the end of the root span)",
                           "mlflow.genai.evaluate (3.x)"))
def start_trace_v3(req: Request) -> dict:
    trace = wire.trace_from_v3((req.args.trace or {}).get("trace_info"))
    return _v3(_svc(req).start_trace_v3(trace))


@routes.post(f"{V3}/metrics", "query-trace-metrics", body=wire.QueryTraceMetrics,
             client_calls=("MLflow UI: experiment Overview charts (3.x)",))
def query_trace_metrics(req: Request) -> dict:
    """Aggregations over the experiments' traces, spans or assessments (:mod:`.metrics`)."""
    a = req.args
    if not a.metric_name:
        raise invalid("Missing value for required parameter 'metric_name'.")
    if a.view_type is None:
        raise invalid("Missing value for required parameter 'view_type'.")
    view = metrics.enum_name(a.view_type, metrics.VIEW_NUMBERS, "view_type")
    points = metrics.query(_svc(req), a.experiment_ids, view, a.metric_name,
                           metrics.parse_aggregations(a.aggregations), a.dimensions, a.filters,
                           a.time_interval_seconds, a.start_time_ms, a.end_time_ms)
    size = page_size(a.max_results, unset=metrics.MAX_RESULTS, zero=metrics.MAX_RESULTS,
                     cap=metrics.MAX_RESULTS)
    chunk, token = paginate(points, size, a.page_token)
    return page_body("data_points", chunk, token)


@routes.get(f"{V3}/<trace_id>", "get-trace-info-v3", body=wire.TraceIdArgs,
            client_calls=("mlflow.get_trace (3.x)", "MlflowClient.get_trace (3.x)"))
def get_trace_info_v3(req: Request, trace_id: str) -> dict:
    return _v3(_svc(req).get(trace_id))


@routes.get(f"{V2}/<trace_id>", "get-trace-info-v3.v2-path", body=wire.TraceIdArgs,
            client_calls=("mlflow.get_trace (2.22, for assessments)",
                          "mlflow.search_traces (2.22, for assessments)"))
def get_trace_info_v3_on_v2_path(req: Request, trace_id: str) -> dict:
    return _v3(_svc(req).get(trace_id))


@routes.post(f"{V3}/search", "search-traces-v3", body=wire.SearchTracesV3,
             client_calls=("mlflow.search_traces (3.x)", "MlflowClient.search_traces (3.x)",
                           "mlflow.genai.evaluate (3.x, reads back the run's traces)"))
def search_traces_v3(req: Request) -> dict:
    a = req.args
    experiment_ids = []
    for loc in a.locations:
        if loc.get("type", "MLFLOW_EXPERIMENT") != "MLFLOW_EXPERIMENT":
            raise invalid(f"Trace location type '{loc.get('type')}' is not supported by this API.")
        exp = (loc.get("mlflow_experiment") or {}).get("experiment_id")
        if not exp:
            raise invalid("Missing value for required parameter 'locations.mlflow_experiment.experiment_id'.")
        experiment_ids.append(str(exp))
    traces, token = _svc(req).search(experiment_ids, a.filter, a.max_results or 100, a.order_by,
                                     a.page_token)
    return page_body("traces", [wire.trace_info_v3(t) for t in traces], token)


# == v2 (mlflow 2.22) =====================================================================

@routes.post(V2, "start-trace", body=wire.StartTraceV2,
             client_calls=("@mlflow.trace / mlflow.start_span (2.22, at the start of the root span)",))
def start_trace_v2(req: Request) -> dict:
    a = req.args
    t = _svc(req).start_trace_v2(a.experiment_id, a.timestamp_ms, wire.pairs(a.request_metadata),
                                 wire.pairs(a.tags))
    return {"trace_info": wire.trace_info_v2(t)}


@routes.patch(f"{V2}/<request_id>", "end-trace", body=wire.EndTraceV2,
              client_calls=("@mlflow.trace / mlflow.start_span (2.22, at the end of the root span)",))
def end_trace_v2(req: Request, request_id: str) -> dict:
    a = req.args
    t = _svc(req).end_trace_v2(request_id, a.timestamp_ms, wire.v2_state(a.status),
                               wire.pairs(a.request_metadata), wire.pairs(a.tags))
    return {"trace_info": wire.trace_info_v2(t)}


@routes.get(f"{V2}/<request_id>/info", "get-trace-info", body=wire.TraceIdArgs,
            client_calls=("mlflow.get_trace (2.22)", "mlflow.search_traces (2.22)"))
def get_trace_info_v2(req: Request, request_id: str) -> dict:
    return {"trace_info": wire.trace_info_v2(_svc(req).get(request_id))}


@routes.get(V2, "search-traces", body=wire.SearchTracesV2,
            client_calls=("mlflow.search_traces (2.22)", "MlflowClient.search_traces (2.22)"))
def search_traces_v2(req: Request) -> dict:
    a = req.args
    traces, token = _svc(req).search(a.experiment_ids, a.filter, a.max_results or 100, a.order_by,
                                     a.page_token)
    return page_body("traces", [wire.trace_info_v2(t) for t in traces], token)


# == shared by both generations ===========================================================

@routes.patch(f"{V2}/<trace_id>/tags", "set-trace-tag", body=wire.TagArgs,
              client_calls=("mlflow.update_current_trace(tags=...) after export", "MlflowClient.set_trace_tag",
                            "mlflow.genai.evaluate (3.x, on existing traces)"))
def set_trace_tag(req: Request, trace_id: str) -> dict:
    _svc(req).set_tag(trace_id, req.args.key, req.args.value or "")
    return {}


@routes.delete(f"{V2}/<trace_id>/tags", "delete-trace-tag", body=wire.TagArgs,
               client_calls=("MlflowClient.delete_trace_tag",))
def delete_trace_tag(req: Request, trace_id: str) -> dict:
    _svc(req).delete_tag(trace_id, req.args.key)
    return {}


@routes.post(f"{V2}/delete-traces", "delete-traces", body=wire.DeleteTraces,
             client_calls=("MlflowClient.delete_traces", "mlflow.delete_trace... (by ids or by time)"))
def delete_traces(req: Request) -> dict:
    a = req.args
    n = _svc(req).delete_traces(a.experiment_id, a.request_ids, a.max_timestamp_millis, a.max_traces)
    return {"traces_deleted": n}


@routes.post(f"{V2}/link-to-run", "link-to-run", body=wire.LinkTracesToRun,
             client_calls=("mlflow.genai.evaluate (3.x)", "MlflowClient.link_traces_to_run"))
def link_to_run(req: Request) -> dict:
    _svc(req).link_to_run(req.args.trace_ids, req.args.run_id)
    return {}


def _data_credentials(req: Request, trace_id: str, method: str) -> dict:
    svc = _svc(req)
    path = req.args.path or ""
    ns, storage_path = svc.data_location(svc.get(trace_id), path)
    uri = req.ws.files.presigned.issue(req.base_url, ns, storage_path, (method,), ttl_ms=CREDENTIAL_TTL_MS)
    return {"credential_info": credential_info(path, uri, request_id=trace_id)}


@routes.get(f"{V2}/<trace_id>/credentials-for-data-upload", "credentials-for-data-upload",
            body=wire.DataCredentialsArgs,
            client_calls=("@mlflow.trace (span data upload, both generations)",))
def credentials_for_data_upload(req: Request, trace_id: str) -> dict:
    return _data_credentials(req, trace_id, "PUT")


@routes.get(f"{V2}/<trace_id>/credentials-for-data-download", "credentials-for-data-download",
            body=wire.DataCredentialsArgs,
            client_calls=("mlflow.get_trace (span data)", "mlflow.search_traces (span data)"))
def credentials_for_data_download(req: Request, trace_id: str) -> dict:
    return _data_credentials(req, trace_id, "GET")


# == assessments ==========================================================================

def _assessment_routes(prefix: str, generation: str) -> None:
    suffix = "" if generation == "3.x" else ".v2"

    @routes.post(f"{prefix}/<trace_id>/assessments", f"create-assessment{suffix}", body=wire.AssessmentBody,
                 client_calls=(f"mlflow.log_feedback ({generation})", f"mlflow.log_expectation ({generation})",
                               f"mlflow.override_feedback ({generation})", "mlflow.genai.evaluate (scorer results)"))
    def create_assessment(req: Request, trace_id: str) -> dict:
        a = wire.assessment_in(req.args.assessment)
        if a.get("trace_id") not in (None, "", trace_id):
            raise invalid(f"The assessment's trace_id '{a['trace_id']}' does not match the path's '{trace_id}'.")
        return {"assessment": wire.assessment(_svc(req).create_assessment(trace_id, a))}

    @routes.get(f"{prefix}/<trace_id>/assessments/<assessment_id>", f"get-assessment{suffix}",
                client_calls=(f"mlflow.get_assessment ({generation})",))
    def get_assessment(req: Request, trace_id: str, assessment_id: str) -> dict:
        return {"assessment": wire.assessment(_svc(req).get_assessment(trace_id, assessment_id))}

    @routes.patch(f"{prefix}/<trace_id>/assessments/<assessment_id>", f"update-assessment{suffix}",
                  body=wire.AssessmentBody,
                  client_calls=(f"mlflow.update_assessment ({generation})",))
    def update_assessment(req: Request, trace_id: str, assessment_id: str) -> dict:
        changes = wire.assessment_in(req.args.assessment)
        updated = _svc(req).update_assessment(trace_id, assessment_id, changes,
                                              wire.mask_paths(req.args.update_mask))
        return {"assessment": wire.assessment(updated)}

    @routes.delete(f"{prefix}/<trace_id>/assessments/<assessment_id>", f"delete-assessment{suffix}",
                   client_calls=(f"mlflow.delete_assessment ({generation})",))
    def delete_assessment(req: Request, trace_id: str, assessment_id: str) -> dict:
        _svc(req).delete_assessment(trace_id, assessment_id)
        return {}


_assessment_routes(V3, "3.x")
_assessment_routes(V2, "2.22")


# == agents usage events ==================================================================

@routes.post("/api/2.0/agents/evaluation-client-usage-events", "agents.evaluation-client-usage-events",
             client_calls=("mlflow.genai.evaluate (3.x, usage telemetry)",))
def evaluation_usage_events(req: Request) -> dict:
    req.json()  # a malformed body is still a 400
    return {}


SERVICE = Service("tracing", routes, state=Tracing,
                  description="MLflow traces stored in experiments (V3 and v2 APIs), assessments")
