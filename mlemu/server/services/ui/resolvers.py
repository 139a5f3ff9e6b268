"""The root fields of the MLflow UI's GraphQL queries, answered from the workspace state in
the REST shapes (snake_case dicts; :mod:`.graphql` projects and camel-cases them).

A refused lookup is the field's ``apiError`` (``{code, message}``), as mlflow's server
answers it, never a GraphQL error: the UI shows it in the page.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from mlemu.server.core.errors import ApiError
from mlemu.server.services.tracking import wire as tw
from mlemu.server.services.ui import registry_view

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.tracking.entities import Run


def _api_error(e: ApiError) -> dict[str, Any]:
    return {"api_error": {"code": e.code, "message": e.message, "help_url": None}}


def _guarded(fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def run(args: dict[str, Any]) -> dict[str, Any]:
        try:
            return fn(args)
        except ApiError as e:
            return _api_error(e)
    return run


def _input(args: dict[str, Any]) -> dict[str, Any]:
    value = args.get("input")
    return value if isinstance(value, dict) else {}


def resolvers(ws: "WorkspaceState") -> dict[str, Callable[[dict[str, Any]], Any]]:
    """The root fields mlemu answers, bound to one workspace."""

    def run_out(run: "Run") -> dict[str, Any]:
        out = tw.run_out(run)
        _finite(out["data"].get("metrics", []))
        out["experiment"] = tw.experiment_out(ws.tracking.get_experiment(run.info.experiment_id))
        out["model_versions"] = registry_view.versions_of_run(ws, run.info.run_id)
        return out

    @_guarded
    def get_experiment(args: dict[str, Any]) -> dict[str, Any]:
        experiment_id = str(_input(args).get("experimentId") or "")
        return {"experiment": tw.experiment_out(ws.tracking.get_experiment(experiment_id))}

    @_guarded
    def get_run(args: dict[str, Any]) -> dict[str, Any]:
        run_id = str(_input(args).get("runId") or _input(args).get("runUuid") or "")
        return {"run": run_out(ws.tracking.get_run(run_id))}

    @_guarded
    def search_runs(args: dict[str, Any]) -> dict[str, Any]:
        a = _input(args)
        runs, token = ws.tracking.search_runs(
            [str(e) for e in a.get("experimentIds") or []], a.get("filter"),
            a.get("runViewType") or "ACTIVE_ONLY", a.get("maxResults"), a.get("orderBy") or (),
            a.get("pageToken"))
        return {"runs": [run_out(r) for r in runs], "next_page_token": token}

    @_guarded
    def list_artifacts(args: dict[str, Any]) -> dict[str, Any]:
        a = _input(args)
        svc = ws.mlflow_artifacts
        root = svc.run_root(str(a.get("runId") or a.get("runUuid") or ""))
        entries, token = svc.list(root, a.get("path"), a.get("pageToken"))
        return {"root_uri": root.uri, "next_page_token": token,
                "files": [{"path": e.path, "is_dir": e.is_dir, "file_size": 0 if e.is_dir else e.file_size}
                          for e in entries]}

    @_guarded
    def search_datasets(args: dict[str, Any]) -> dict[str, Any]:
        ids = [str(e) for e in _input(args).get("experimentIds") or []]
        # GraphQL reads the summary's proto fields: a dataset without a context tag has the
        # empty string there (the REST answer leaves the field out)
        return {"dataset_summaries": [{"context": "", **d} for d in dataset_summaries(ws, ids)]}

    @_guarded
    def metric_history_bulk_interval(args: dict[str, Any]) -> dict[str, Any]:
        a = _input(args)
        found = ws.tracking.get_metric_history_bulk_interval(
            [str(r) for r in a.get("runIds") or []], str(a.get("metricKey") or ""),
            a.get("startStep"), a.get("endStep"), a.get("maxResults"))
        return {"metrics": _finite([tw.metric_out(m) for m in found])}

    return {"mlflowGetExperiment": _typed("MlflowGetExperimentResponse", get_experiment),
            "mlflowGetRun": _typed("MlflowGetRunResponse", get_run),
            "mlflowSearchRuns": _typed("MlflowSearchRunsResponse", search_runs),
            "mlflowGetMetricHistoryBulkInterval": _typed("MlflowGetMetricHistoryBulkIntervalResponse",
                                                         metric_history_bulk_interval),
            "mlflowListArtifacts": _typed("MlflowListArtifactsResponse", list_artifacts),
            # mlflow's schema puts these two POST-backed reads under Mutation.
            "mutation:mlflowSearchRuns": _typed("MlflowSearchRunsResponse", search_runs),
            "mutation:mlflowSearchDatasets": _typed("MlflowSearchDatasetsResponse", search_datasets)}


def dataset_summaries(ws: "WorkspaceState", experiment_ids: list[str]) -> list[dict[str, Any]]:
    """The distinct datasets the experiments' active runs used, with their context tag."""
    from mlemu.server.services.tracking import validation

    seen: dict[tuple[str, str, str, str], None] = {}
    for experiment_id in experiment_ids:
        runs, _ = ws.tracking.search_runs([experiment_id], None, "ACTIVE_ONLY", validation.SEARCH_RUNS_MAX)
        for run in runs:
            for d in run.dataset_inputs:
                seen[(experiment_id, d.name, d.digest, d.tags.get("mlflow.data.context", ""))] = None
    return [{"experiment_id": e, "name": n, "digest": g, **({"context": c} if c else {})}
            for e, n, g, c in seen]


def _finite(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NaN and ±Infinity (strings in the REST shape) read ``null``: a GraphQL ``Float`` is a
    finite number, and the UI's client drops a response that says otherwise."""
    for m in metrics:
        if isinstance(m.get("value"), str):
            m["value"] = None
    return metrics


def _typed(type_name: str, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The answer carries its type's name (mlflow's schema names), for a selected ``__typename``."""
    return lambda args: {"__typename": type_name, **fn(args)}
