"""Routes of the paths only the MLflow web UI calls (served by ``mlemu serve --ui``; the
``/ajax-api/`` aliases of every other REST route are made by :mod:`mlemu.server.ui.front`).

* ``POST /graphql``: the run page's queries (:mod:`.graphql`, :mod:`.resolvers`);
* ``GET /get-artifact``, ``/model-versions/get-artifact``, logged-model ``artifacts/files``,
  ``get-trace-artifact`` (a trace's spans): file downloads (:mod:`.downloads`);
* ``server-info``, ``ui-telemetry`` (disabled), ``gateway-proxy`` (no endpoints),
  ``experiments/search-datasets``; the 3.x assistant panel's ``assistant/config`` and
  ``assistant/providers`` (no provider) and ``datasets/search`` (no managed evaluation datasets);
* the registry paths the UI reads and edits (descriptions, tags, aliases), over both
  registries (:mod:`.registry_view`), and ``experiments/search`` with the UI's
  ``max_results=20000`` clamped to the page cap.

Every route checks the bearer token: the UI sends it from the ``mlflow-request-header-``
cookie that the ``?token=`` login sets.
"""
from __future__ import annotations

from typing import Any

from mlemu.server.core.errors import ApiError, invalid
from mlemu.server.services.mlflow_artifacts.state import relative_path
from mlemu.server.services.registry import wire as uc_wire
from mlemu.server.services.tracking import validation
from mlemu.server.services.tracking import wire as tw
from mlemu.server.services.ui import downloads, graphql, registry_view, resolvers
from mlemu.server.services.ui import wire as w
from mlemu.server.services.unity_catalog.paging import page_size, paginate
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.request import Reply, Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service

routes = RouteTable("ui")

A2 = "/ajax-api/2.0/mlflow"
A3 = "/ajax-api/3.0/mlflow"
UI = "MLflow UI"
#: Experiments one ``experiments/search-datasets`` request may name (mlflow's server's limit).
SEARCH_DATASETS_MAX_EXPERIMENTS = 20


# == GraphQL ================================================================================
@routes.post("/graphql", "graphql", body=w.GraphQLArgs,
             client_calls=(f"{UI}: run page (GetRun), experiment header (MlflowGetExperimentQuery)",))
def graphql_query(req: Request) -> dict:
    a = req.args
    try:
        return graphql.execute(a.query, a.variables, a.operationName, resolvers.resolvers(req.ws))
    except graphql.GraphQLUnavailable:
        raise ApiError("NOT_IMPLEMENTED", "GraphQL needs graphql-core, which comes with the full "
                       "`mlflow` wheel (pip install mlflow).", 501) from None


# == downloads ==============================================================================
@routes.get("/get-artifact", "get-artifact", body=w.RunArtifactArgs,
            client_calls=(f"{UI}: run artifacts (file preview)",))
def get_artifact(req: Request) -> Any:
    a = req.args
    relative_path(a.path)  # a bad path is refused before the run is looked up
    root = req.ws.mlflow_artifacts.run_root(a.run_id or a.run_uuid or "")
    return downloads.file_reply(req.ws, root.namespace, root.path, a.path)


@routes.get(f"{A3}/get-trace-artifact", "traces.get-artifact", body=w.TraceArtifactArgs,
            client_calls=(f"{UI}: trace view (spans of a trace)",))
def get_trace_artifact(req: Request) -> Any:
    """A trace's span data (``traces.json``) or one of its attachments (``path``), as mlflow's
    server sends them to the UI."""
    a = req.args
    if not a.request_id:
        raise ApiError("BAD_REQUEST", 'Request must include the "request_id" query parameter.')
    trace = req.ws.tracing.get(a.request_id)
    if a.path:
        ns, where = req.ws.tracing.data_location(trace)
        return downloads.file_reply(req.ws, ns, where.rsplit("/", 1)[0] + "/attachments", a.path)
    data = req.ws.tracing.span_data(a.request_id)
    if data is None:
        raise ApiError("RESOURCE_DOES_NOT_EXIST", f"The span data of trace '{a.request_id}' was "
                       "never uploaded (the client could not send it).")
    return Reply(200, data, {"content-type": "application/octet-stream",
                             "content-disposition": 'attachment; filename="traces.json"'},
                 journal_body={"file": "traces.json", "bytes": len(data)})


@routes.get("/model-versions/get-artifact", "model-versions.get-artifact", body=w.VersionArtifactArgs,
            client_calls=(f"{UI}: model version page (MLmodel, schema)",))
def get_version_artifact(req: Request) -> Any:
    a = req.args
    relative_path(a.path)
    namespace, root = registry_view.version_files(req.ws, a.name, a.version)
    return downloads.file_reply(req.ws, namespace, root, a.path)


@routes.get(f"{A2}/logged-models/<model_id>/artifacts/files", "logged-models.artifact-file",
            body=w.ModelArtifactArgs, client_calls=(f"{UI}: logged model artifacts (file preview)",))
def get_model_artifact(req: Request, model_id: str) -> Any:
    root = req.ws.mlflow_artifacts.model_root(model_id)
    return downloads.file_reply(req.ws, root.namespace, root.path, req.args.artifact_file_path,
                                "artifact_file_path")


# == server info, telemetry, gateway ========================================================
@routes.get(f"{A3}/server-info", "server-info", client_calls=(f"{UI}: every page",))
def server_info(req: Request) -> dict:
    return {"store_type": "DatabricksStore", "workspaces_enabled": False,
            "trace_archival_enabled": False, "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False, "features_enabled": {"gateway": False}}


#: The UI's telemetry stays off: nothing leaves a test machine.
TELEMETRY_OFF = {"disable_ui_telemetry": True, "disable_ui_events": [], "ui_rollout_percentage": 0}


@routes.get(f"{A3}/ui-telemetry", "ui-telemetry.get", client_calls=(f"{UI}: telemetry worker",))
def ui_telemetry(req: Request) -> dict:
    return dict(TELEMETRY_OFF)


@routes.post(f"{A3}/ui-telemetry", "ui-telemetry.post", client_calls=(f"{UI}: telemetry worker",))
def ui_telemetry_records(req: Request) -> dict:
    return {"status": "disabled"}


@routes.get(f"{A2}/gateway-proxy", "gateway-proxy", client_calls=(f"{UI}: experiment pages",))
def gateway_proxy(req: Request) -> dict:
    return {"endpoints": []}


# == features a Databricks workspace does not offer through this UI =========================
@routes.get(f"{A3}/assistant/config", "assistant.config", client_calls=(f"{UI}: every page (3.x)",))
def assistant_config(req: Request) -> dict:
    """mlflow's local assistant: no provider is configured, so the panel offers nothing."""
    return {"providers": {}, "projects": {}, "remote_access_allowed": False}


@routes.get(f"{A3}/assistant/providers", "assistant.providers", client_calls=(f"{UI}: every page (3.x)",))
def assistant_providers(req: Request) -> dict:
    return {"providers": [], "resolved": None, "gateway_vendor_options": {}}


@routes.post(f"{A3}/datasets/search", "datasets.search", body=w.SearchDatasetsArgs,
             client_calls=(f"{UI}: traces page, evaluation datasets (3.x)",))
def search_evaluation_datasets(req: Request) -> dict:
    """Managed evaluation datasets (mlflow's SQL-store feature) are not kept: none match."""
    return {}


# == tracking views =========================================================================
@routes.get(f"{A2}/experiments/search", "experiments.search", body=w.SearchExperimentsArgs,
            client_calls=(f"{UI}: experiment list (max_results=20000 in 2.x)",))
def search_experiments(req: Request) -> dict:
    a = req.args
    size = None if a.max_results is None else min(a.max_results, validation.SEARCH_EXPERIMENTS_MAX)
    found, token = req.ws.tracking.search_experiments(a.view_type or "ACTIVE_ONLY", a.filter,
                                                      a.order_by, size, a.page_token)
    return page_body("experiments", [tw.experiment_out(e) for e in found], token)


@routes.get(f"{A2}/metrics/get-history-bulk", "metrics.get-history-bulk", body=w.HistoryBulkArgs,
            client_calls=(f"{UI}: metric page, run comparison charts",))
def get_metric_history_bulk(req: Request) -> dict:
    """One metric's full history for up to 100 runs (``run_id`` repeated), by run id then time."""
    a = req.args
    if not a.run_id:
        raise invalid("GetMetricHistoryBulk request must specify at least one run_id.")
    if len(a.run_id) > validation.BULK_INTERVAL_MAX_RUNS:
        raise invalid(f"GetMetricHistoryBulk request cannot specify more than {validation.BULK_INTERVAL_MAX_RUNS}"
                      f" run_ids. Received {len(a.run_id)} run_ids.")
    if a.metric_key is None:
        raise invalid("GetMetricHistoryBulk request must specify a metric_key.")
    size = min(a.max_results or validation.METRIC_HISTORY_PAGE_MAX, validation.METRIC_HISTORY_PAGE_MAX)
    metrics = []
    for run_id in sorted(a.run_id):
        found, _ = req.ws.tracking.get_metric_history(run_id, a.metric_key, size)
        metrics += [tw.metric_out(m, run_id) for m in found]
    return {"metrics": metrics}


@routes.post(f"{A2}/experiments/search-datasets", "experiments.search-datasets",
             body=w.SearchDatasetsArgs, client_calls=(f"{UI}: run table dataset filter",))
def search_datasets(req: Request) -> dict:
    """The distinct datasets the experiments' active runs used, with their context tag.
    One to 20 experiment ids, each a decimal integer, as mlflow's server checks them."""
    ids = req.args.experiment_ids
    if not ids:
        raise invalid("SearchDatasets request must specify at least one experiment_id.")
    if len(ids) > SEARCH_DATASETS_MAX_EXPERIMENTS:
        raise invalid(f"SearchDatasets request cannot specify more than {SEARCH_DATASETS_MAX_EXPERIMENTS}"
                      f" experiment_ids. Received {len(ids)} experiment_ids.")
    for experiment_id in ids:
        validation.check_experiment_id(experiment_id)
    return {"dataset_summaries": resolvers.dataset_summaries(req.ws, ids)}


# == registry views =========================================================================
@routes.get(f"{A2}/registered-models/search", "registered-models.search", body=w.SearchModelsArgs,
            client_calls=(f"{UI}: model list",))
def search_models(req: Request) -> dict:
    a = req.args
    models = registry_view.search_models(req.ws, a.filter, a.order_by)
    chunk, token = paginate(models, page_size(a.max_results, unset=100, zero=100, cap=1000), a.page_token)
    return page_body("registered_models", chunk, token)


@routes.get(f"{A2}/registered-models/get", "registered-models.get", body=w.NameArgs,
            client_calls=(f"{UI}: registered model page",))
def get_model(req: Request) -> dict:
    return {"registered_model": registry_view.get_model(req.ws, req.args.name)}


@routes.get(f"{A2}/model-versions/get", "model-versions.get", body=w.VersionArgs,
            client_calls=(f"{UI}: model version page",))
def get_version(req: Request) -> dict:
    return {"model_version": registry_view.get_version(req.ws, req.args.name, req.args.version)}


@routes.get(f"{A2}/model-versions/search", "model-versions.search", body=w.SearchModelsArgs,
            client_calls=(f"{UI}: registered model page, run pages",))
def search_versions(req: Request) -> dict:
    a = req.args
    versions = registry_view.search_versions(req.ws, a.filter)
    chunk, token = paginate(versions, page_size(a.max_results, unset=10000, zero=10000, cap=10000),
                            a.page_token)
    return page_body("model_versions", chunk, token)


# == registry edits from the UI ============================================================
# The UI edits through the workspace-registry paths; a UC model's edits go to the UC registry
# (and follow its rules), the rest to the workspace registry.

@routes.patch(f"{A2}/registered-models/update", "registered-models.update", body=uc_wire.UpdateRegisteredModel,
              client_calls=(f"{UI}: registered model description",))
def update_model(req: Request) -> dict:
    a = req.args
    registry_view.registry_of(req.ws, a.name).update_model(a.name, description=a.description)
    return {"registered_model": registry_view.get_model(req.ws, a.name)}


@routes.post(f"{A2}/registered-models/set-tag", "registered-models.set-tag", body=uc_wire.SetTag,
             client_calls=(f"{UI}: registered model tags",))
def set_model_tag(req: Request) -> dict:
    a = req.args
    registry_view.registry_of(req.ws, a.name).set_model_tag(a.name, a.key, a.value)
    return {}


@routes.delete(f"{A2}/registered-models/delete-tag", "registered-models.delete-tag", body=uc_wire.DeleteTag,
               client_calls=(f"{UI}: registered model tags",))
def delete_model_tag(req: Request) -> dict:
    a = req.args
    registry_view.registry_of(req.ws, a.name).delete_model_tag(a.name, a.key)
    return {}


@routes.patch(f"{A2}/model-versions/update", "model-versions.update", body=uc_wire.UpdateModelVersion,
              client_calls=(f"{UI}: model version description",))
def update_version(req: Request) -> dict:
    a = req.args
    registry_view.registry_of(req.ws, a.name).update_version(a.name, a.version, description=a.description)
    return {"model_version": registry_view.get_version(req.ws, a.name, a.version)}


@routes.post(f"{A2}/model-versions/set-tag", "model-versions.set-tag", body=uc_wire.SetVersionTag,
             client_calls=(f"{UI}: model version tags",))
def set_version_tag(req: Request) -> dict:
    a = req.args
    registry_view.registry_of(req.ws, a.name).set_version_tag(a.name, a.version, a.key, a.value)
    return {}


@routes.delete(f"{A2}/model-versions/delete-tag", "model-versions.delete-tag", body=uc_wire.DeleteVersionTag,
               client_calls=(f"{UI}: model version tags",))
def delete_version_tag(req: Request) -> dict:
    a = req.args
    registry_view.registry_of(req.ws, a.name).delete_version_tag(a.name, a.version, a.key)
    return {}


def _uc_only(req: Request, name: str) -> Any:
    if not registry_view.is_uc_model(req.ws, name):
        req.ws.workspace_registry.get_model(name)  # RESOURCE_DOES_NOT_EXIST for unknown names
        raise invalid(f"Registered model '{name}' is in the workspace model registry, which has no "
                      "aliases; aliases are a Unity Catalog feature.")
    return req.ws.registry


@routes.post(f"{A2}/registered-models/alias", "registered-models.alias.set", body=uc_wire.SetAlias,
             client_calls=(f"{UI}: model version aliases",))
def set_alias(req: Request) -> dict:
    a = req.args
    _uc_only(req, a.name).set_alias(a.name, a.alias, a.version)
    return {}


@routes.delete(f"{A2}/registered-models/alias", "registered-models.alias.delete", body=uc_wire.AliasArgs,
               client_calls=(f"{UI}: model version aliases",))
def delete_alias(req: Request) -> dict:
    a = req.args
    _uc_only(req, a.name).delete_alias(a.name, a.alias)
    return {}


SERVICE = Service("ui", routes, description="The paths only the MLflow web UI calls (mlemu serve --ui)")
