"""Routes of the MLflow tracking service (``/api/2.0/mlflow/experiments|runs|metrics|logged-models``).

Handlers only translate: request model in, a ``ws.tracking`` call, a renderer from ``wire.py`` out.
"""
from __future__ import annotations

from mlemu.server.core.errors import invalid
from mlemu.server.wire.service import Service
from mlemu.server.services.tracking import validation
from mlemu.server.services.tracking import wire as w
from mlemu.server.services.tracking.state import Tracking
from mlemu.server.wire.paging import page_body
from mlemu.server.wire import jsonenc
from mlemu.server.wire.request import Reply, Request
from mlemu.server.wire.routing import RouteTable

routes = RouteTable("tracking")

X = "/api/2.0/mlflow"


# ==================================================================== experiments =============
@routes.post(f"{X}/experiments/create", "experiments.create", body=w.CreateExperimentArgs,
             client_calls=("mlflow.create_experiment", "mlflow.set_experiment", "MlflowClient.create_experiment"))
def create_experiment(req: Request) -> dict:
    a = req.args
    exp = req.ws.tracking.create_experiment(a.name, a.artifact_location, w.pairs(a.tags))
    return {"experiment_id": exp.experiment_id}


@routes.get(f"{X}/experiments/get", "experiments.get", body=w.ExperimentIdArgs,
            client_calls=("mlflow.get_experiment", "mlflow.set_experiment", "MlflowClient.get_experiment"))
def get_experiment(req: Request) -> dict:
    return {"experiment": w.experiment_out(req.ws.tracking.get_experiment(req.args.experiment_id))}


@routes.get(f"{X}/experiments/get-by-name", "experiments.get-by-name", body=w.GetByNameArgs,
            client_calls=("mlflow.get_experiment_by_name", "mlflow.set_experiment",
                          "MlflowClient.get_experiment_by_name"))
def get_experiment_by_name(req: Request) -> dict:
    return {"experiment": w.experiment_out(req.ws.tracking.get_experiment_by_name(req.args.experiment_name))}


def _search_experiments(req: Request) -> dict:
    a = req.args
    found, token = req.ws.tracking.search_experiments(a.view, a.filter, a.order_by, a.max_results, a.page_token)
    return page_body("experiments", [w.experiment_out(e) for e in found], token)


routes.post(f"{X}/experiments/search", "experiments.search", body=w.SearchExperimentsArgs,
            client_calls=("mlflow.search_experiments", "MlflowClient.search_experiments"))(_search_experiments)
routes.get(f"{X}/experiments/search", "experiments.search", body=w.SearchExperimentsArgs,
           client_calls=("WorkspaceClient.experiments.search_experiments",))(_search_experiments)


@routes.get(f"{X}/experiments/list", "experiments.list", body=w.ListExperimentsArgs,
            client_calls=("WorkspaceClient.experiments.list_experiments",))
def list_experiments(req: Request) -> dict:
    """The deprecated listing: experiments/search without filter or order."""
    a = req.args
    found, token = req.ws.tracking.search_experiments(a.view, None, (), a.max_results, a.page_token)
    return page_body("experiments", [w.experiment_out(e) for e in found], token)


@routes.post(f"{X}/experiments/update", "experiments.update", body=w.UpdateExperimentArgs,
             client_calls=("MlflowClient.rename_experiment",))
def update_experiment(req: Request) -> dict:
    if req.args.new_name is not None:
        req.ws.tracking.rename_experiment(req.args.experiment_id, req.args.new_name)
    else:
        req.ws.tracking.get_experiment(req.args.experiment_id)
    return {}


@routes.post(f"{X}/experiments/delete", "experiments.delete", body=w.ExperimentIdArgs,
             client_calls=("mlflow.delete_experiment", "MlflowClient.delete_experiment"))
def delete_experiment(req: Request) -> dict:
    req.ws.tracking.delete_experiment(req.args.experiment_id)
    return {}


@routes.post(f"{X}/experiments/restore", "experiments.restore", body=w.ExperimentIdArgs,
             client_calls=("MlflowClient.restore_experiment",))
def restore_experiment(req: Request) -> dict:
    req.ws.tracking.restore_experiment(req.args.experiment_id)
    return {}


@routes.post(f"{X}/experiments/set-experiment-tag", "experiments.set-experiment-tag",
             body=w.SetExperimentTagArgs,
             client_calls=("mlflow.set_experiment_tag", "MlflowClient.set_experiment_tag"))
def set_experiment_tag(req: Request) -> dict:
    a = req.args
    req.ws.tracking.set_experiment_tag(a.experiment_id, a.key, a.value)
    return {}


@routes.post(f"{X}/experiments/delete-experiment-tag", "experiments.delete-experiment-tag",
             body=w.DeleteExperimentTagArgs,
             client_calls=("mlflow.delete_experiment_tag", "MlflowClient.delete_experiment_tag"))
def delete_experiment_tag(req: Request) -> dict:
    req.ws.tracking.delete_experiment_tag(req.args.experiment_id, req.args.key)
    return {}


# ==================================================================== runs ====================
@routes.post(f"{X}/runs/create", "runs.create", body=w.CreateRunArgs,
             client_calls=("mlflow.start_run", "MlflowClient.create_run"))
def create_run(req: Request) -> dict:
    a = req.args
    # user_id is the authenticated user on Databricks, whatever the client sends.
    run = req.ws.tracking.create_run(a.experiment_id, a.run_name, w.pairs(a.tags), a.start_time)
    return {"run": w.run_out(run)}


@routes.get(f"{X}/runs/get", "runs.get", body=w.RunRef,
            client_calls=("mlflow.get_run", "MlflowClient.get_run", "mlflow.log_artifact (artifact URI)"))
def get_run(req: Request) -> dict:
    return {"run": w.run_out(req.ws.tracking.get_run(req.args.id))}


@routes.post(f"{X}/runs/update", "runs.update", body=w.UpdateRunArgs,
             client_calls=("mlflow.end_run", "MlflowClient.set_terminated", "MlflowClient.update_run"))
def update_run(req: Request) -> dict:
    a = req.args
    run = req.ws.tracking.update_run(a.id, a.status_name, a.end_time, a.run_name)
    return {"run_info": w.run_info_out(run.info)}


@routes.post(f"{X}/runs/delete", "runs.delete", body=w.RunRef,
             client_calls=("mlflow.delete_run", "MlflowClient.delete_run"))
def delete_run(req: Request) -> dict:
    req.ws.tracking.delete_run(req.args.id)
    return {}


@routes.post(f"{X}/runs/restore", "runs.restore", body=w.RunRef,
             client_calls=("MlflowClient.restore_run",))
def restore_run(req: Request) -> dict:
    req.ws.tracking.restore_run(req.args.id)
    return {}


@routes.post(f"{X}/databricks/runs/delete-runs", "runs.delete-runs", body=w.DeleteRunsArgs,
             client_calls=("WorkspaceClient.experiments.delete_runs",))
def delete_runs(req: Request) -> dict:
    a = req.args
    return {"runs_deleted": req.ws.tracking.delete_runs(a.experiment_id, a.max_timestamp_millis,
                                                        a.max_runs)}


@routes.post(f"{X}/databricks/runs/restore-runs", "runs.restore-runs", body=w.RestoreRunsArgs,
             client_calls=("WorkspaceClient.experiments.restore_runs",))
def restore_runs(req: Request) -> dict:
    a = req.args
    return {"runs_restored": req.ws.tracking.restore_runs(a.experiment_id, a.min_timestamp_millis,
                                                          a.max_runs)}


@routes.post(f"{X}/runs/log-metric", "runs.log-metric", body=w.LogMetricArgs,
             client_calls=("mlflow.log_metric", "MlflowClient.log_metric"))
def log_metric(req: Request) -> dict:
    a = req.args
    req.ws.tracking.log_metric(a.id, a.key, a.value, a.timestamp, a.step or 0, a.model_id or None,
                               a.dataset_name or None, a.dataset_digest or None)
    return {}


@routes.post(f"{X}/runs/log-parameter", "runs.log-parameter", body=w.LogParamArgs,
             client_calls=("mlflow.log_param", "MlflowClient.log_param"))
def log_param(req: Request) -> dict:
    req.ws.tracking.log_param(req.args.id, req.args.key, req.args.value)
    return {}


@routes.post(f"{X}/runs/set-tag", "runs.set-tag", body=w.SetTagArgs,
             client_calls=("mlflow.set_tag", "MlflowClient.set_tag"))
def set_tag(req: Request) -> dict:
    req.ws.tracking.set_tag(req.args.id, req.args.key, req.args.value)
    return {}


@routes.post(f"{X}/runs/delete-tag", "runs.delete-tag", body=w.DeleteTagArgs,
             client_calls=("mlflow.delete_tag", "MlflowClient.delete_tag"))
def delete_tag(req: Request) -> dict:
    req.ws.tracking.delete_tag(req.args.run_id, req.args.key)
    return {}


@routes.post(f"{X}/runs/log-batch", "runs.log-batch", body=w.LogBatchArgs,
             client_calls=("mlflow.log_params", "mlflow.log_metrics", "mlflow.set_tags",
                           "MlflowClient.log_batch", "mlflow.autolog"))
def log_batch(req: Request) -> dict:
    if len(req.body) > validation.MAX_BATCH_LOG_REQUEST_SIZE:
        raise invalid(f"Batched logging API requests must be at most {validation.MAX_BATCH_LOG_REQUEST_SIZE} "
                      f"bytes, got a request of size {len(req.body)}.")
    a = req.args
    # On the wire a metric's timestamp is required (as for log-metric), and a param without a
    # value is the proto default, the empty string.
    params = [(kv.key, "" if kv.value is None else kv.value) for kv in a.params]
    req.ws.tracking._log_batch(a.run_id, [m.to_metric() for m in a.metrics], params, w.pairs(a.tags),
                               stamp_missing_timestamps=False)
    return {}


@routes.post(f"{X}/runs/log-model", "runs.log-model", body=w.LogModelArgs,
             client_calls=("mlflow.<flavor>.log_model (mlflow 2.x)",))
def log_model(req: Request) -> dict:
    req.ws.tracking.record_logged_model(req.args.run_id, req.args.model_json)
    return {}


@routes.post(f"{X}/runs/log-inputs", "runs.log-inputs", body=w.LogInputsArgs,
             client_calls=("mlflow.log_input", "mlflow.log_inputs", "MlflowClient.log_inputs", "mlflow.autolog"))
def log_inputs(req: Request) -> dict:
    a = req.args
    req.ws.tracking.log_inputs(a.run_id, [d.to_input() for d in a.datasets],
                               [m.model_id for m in a.models if m.model_id])
    return {}


@routes.post(f"{X}/runs/outputs", "runs.outputs", body=w.LogOutputsArgs,
             client_calls=("mlflow.<flavor>.log_model (mlflow 3)", "MlflowClient.log_outputs"))
def log_outputs(req: Request) -> dict:
    req.ws.tracking.log_outputs(req.args.run_id, [(m.model_id, m.step or 0) for m in req.args.models])
    return {}


@routes.post(f"{X}/runs/search", "runs.search", body=w.SearchRunsArgs,
             client_calls=("mlflow.search_runs", "MlflowClient.search_runs", "mlflow.last_active_run"))
def search_runs(req: Request) -> dict:
    a = req.args
    found, token = req.ws.tracking.search_runs(a.experiment_ids, a.filter, a.view, a.max_results,
                                               a.order_by, a.page_token)
    return Reply.json(jsonenc.join_page("runs", map(w.run_json, found), token))


@routes.get(f"{X}/metrics/get-history", "metrics.get-history", body=w.GetHistoryArgs,
            client_calls=("MlflowClient.get_metric_history", "mlflow.<flavor>.log_model (mlflow 3)"))
def get_metric_history(req: Request) -> dict:
    a = req.args
    found, token = req.ws.tracking.get_metric_history(a.id, a.metric_key, a.max_results, a.page_token)
    return page_body("metrics", [w.metric_out(m) for m in found], token)


@routes.get(f"{X}/metrics/get-history-bulk-interval", "metrics.get-history-bulk-interval",
            body=w.BulkIntervalArgs, client_calls=("MlflowClient.get_metric_history_bulk_interval",))
def get_metric_history_bulk_interval(req: Request) -> dict:
    a = req.args
    found = req.ws.tracking.get_metric_history_bulk_interval(a.run_ids, a.metric_key, a.start_step,
                                                             a.end_step, a.max_results)
    return page_body("metrics", [w.metric_out(m) for m in found], None)


# ==================================================================== logged models ===========
L = f"{X}/logged-models"


@routes.post(L, "logged-models.create", body=w.CreateLoggedModelArgs,
             client_calls=("mlflow.initialize_logged_model", "MlflowClient.create_logged_model",
                           "mlflow.<flavor>.log_model (mlflow 3)"))
def create_logged_model(req: Request) -> dict:
    a = req.args
    model = req.ws.tracking.create_logged_model(a.experiment_id, a.name, a.source_run_id, a.model_type,
                                                w.pairs(a.params), w.pairs(a.tags))
    return {"model": w.logged_model_out(model)}


@routes.post(f"{L}/search", "logged-models.search", body=w.SearchLoggedModelsArgs,
             client_calls=("mlflow.search_logged_models", "MlflowClient.search_logged_models",
                           "mlflow.artifacts (runs:/<run>/<name> resolution)"))
def search_logged_models(req: Request) -> dict:
    a = req.args
    found, token = req.ws.tracking.search_logged_models(
        a.experiment_ids, a.filter, [o.model_dump() for o in a.order_by], a.max_results, a.page_token,
        [d.model_dump() for d in a.datasets])
    return page_body("models", [w.logged_model_out(m) for m in found], token)


@routes.get(f"{L}/<model_id>", "logged-models.get", body=w.GetLoggedModelArgs,
            client_calls=("mlflow.get_logged_model", "MlflowClient.get_logged_model",
                          "mlflow.pyfunc.load_model (models:/m-...)"))
def get_logged_model(req: Request, model_id: str) -> dict:
    return {"model": w.logged_model_out(req.ws.tracking.get_logged_model(model_id, req.args.allow_deleted))}


@routes.patch(f"{L}/<model_id>", "logged-models.finalize", body=w.FinalizeLoggedModelArgs,
              client_calls=("mlflow.finalize_logged_model", "MlflowClient.finalize_logged_model"))
def finalize_logged_model(req: Request, model_id: str) -> dict:
    model = req.ws.tracking.finalize_logged_model(model_id, req.args.status_name)
    return {"model": w.logged_model_out(model)}


@routes.delete(f"{L}/<model_id>", "logged-models.delete",
               client_calls=("mlflow.delete_logged_model", "MlflowClient.delete_logged_model"))
def delete_logged_model(req: Request, model_id: str) -> dict:
    req.ws.tracking.delete_logged_model(model_id)
    return {}


@routes.patch(f"{L}/<model_id>/tags", "logged-models.set-tags", body=w.LoggedModelTagsArgs,
              client_calls=("mlflow.set_logged_model_tags", "MlflowClient.set_logged_model_tags",
                            "mlflow.register_model (mlflow.modelVersions tag)"))
def set_logged_model_tags(req: Request, model_id: str) -> dict:
    req.ws.tracking.set_logged_model_tags(model_id, w.pairs(req.args.tags))
    return {}  # the server answers an empty SetLoggedModelTags.Response


@routes.delete(f"{L}/<model_id>/tags/<path:tag_key>", "logged-models.delete-tag",
               client_calls=("mlflow.delete_logged_model_tag", "MlflowClient.delete_logged_model_tag"))
def delete_logged_model_tag(req: Request, model_id: str, tag_key: str) -> dict:
    req.ws.tracking.delete_logged_model_tag(model_id, tag_key)
    return {}


@routes.post(f"{L}/<model_id>/params", "logged-models.log-params", body=w.LoggedModelParamsArgs,
             client_calls=("mlflow.log_model_params", "MlflowClient.log_model_params"))
def log_logged_model_params(req: Request, model_id: str) -> dict:
    req.ws.tracking.log_logged_model_params(model_id, w.pairs(req.args.params))
    return {}


SERVICE = Service("tracking", routes, state=Tracking,
                  description="MLflow tracking: experiments, runs, metrics, logged models")
