"""Routes of the workspace model registry (registry URI ``databricks``): mlflow's
``ModelRegistryService`` under ``/api/2.0/mlflow/registered-models|model-versions``, the
Databricks additions (``databricks/*``, transition requests, comments) that the SDK's
``w.model_registry`` calls, and the two file endpoints of mlflow's
``DatabricksModelsArtifactRepository`` (``model-versions/list-artifacts``,
``get-signed-download-uri``), which serve each version's copy through pre-signed URLs.
"""
from __future__ import annotations

from mlemu.server.services.mlflow_artifacts.state import ArtifactRoot
from mlemu.server.services.mlflow_artifacts.wire import file_info
from mlemu.server.services.unity_catalog.paging import page_size, paginate
from mlemu.server.services.workspace_registry import search, wire
from mlemu.server.services.workspace_registry.state import WorkspaceRegistry, WsRegisteredModel
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.wire.service import Service

routes = RouteTable("workspace_registry")

RM = "/api/2.0/mlflow/registered-models"
MV = "/api/2.0/mlflow/model-versions"
TR = "/api/2.0/mlflow/transition-requests"
DB = "/api/2.0/mlflow/databricks"

#: Page sizes: mlflow asks for 100 models / 10,000 versions by default.
MODELS_PAGE_CAP = 1000
VERSIONS_PAGE_CAP = 10000


def _reg(req: Request) -> WorkspaceRegistry:
    return req.ws.workspace_registry


def _model(reg: WorkspaceRegistry, m: WsRegisteredModel) -> dict:
    return wire.registered_model(m, reg.latest_versions(m.name))


def _tags(tags: list[wire.Tag]) -> list[tuple[str, str]]:
    return [(t.key, t.value or "") for t in tags]


# == registered models ======================================================================

@routes.post(f"{RM}/create", "registered-models.create", body=wire.CreateModel,
             client_calls=("MlflowClient.create_registered_model", "mlflow.register_model",
                           "WorkspaceClient.model_registry.create_model"))
def create_model(req: Request) -> dict:
    a, reg = req.args, _reg(req)
    return {"registered_model": _model(reg, reg.create_model(a.name, description=a.description,
                                                             tags=_tags(a.tags)))}


@routes.get(f"{RM}/get", "registered-models.get", body=wire.NameArgs,
            client_calls=("MlflowClient.get_registered_model",))
def get_model(req: Request) -> dict:
    reg = _reg(req)
    return {"registered_model": _model(reg, reg.get_model(req.args.name))}


@routes.get(f"{DB}/registered-models/get", "databricks.registered-models.get", body=wire.NameArgs,
            client_calls=("WorkspaceClient.model_registry.get_model",))
def get_model_databricks(req: Request) -> dict:
    reg = _reg(req)
    m = reg.get_model(req.args.name)
    return {"registered_model_databricks": wire.model_databricks(m, reg.latest_versions(m.name))}


@routes.patch(f"{RM}/update", "registered-models.update", body=wire.UpdateModel,
              client_calls=("MlflowClient.update_registered_model",
                            "WorkspaceClient.model_registry.update_model"))
def update_model(req: Request) -> dict:
    reg = _reg(req)
    return {"registered_model": _model(reg, reg.update_model(req.args.name,
                                                             description=req.args.description))}


@routes.post(f"{RM}/rename", "registered-models.rename", body=wire.RenameModel,
             client_calls=("MlflowClient.rename_registered_model",
                           "WorkspaceClient.model_registry.rename_model"))
def rename_model(req: Request) -> dict:
    reg = _reg(req)
    return {"registered_model": _model(reg, reg.rename_model(req.args.name, req.args.new_name or ""))}


@routes.delete(f"{RM}/delete", "registered-models.delete", body=wire.NameArgs,
               client_calls=("MlflowClient.delete_registered_model",
                             "WorkspaceClient.model_registry.delete_model"))
def delete_model(req: Request) -> dict:
    _reg(req).delete_model(req.args.name)
    return {}


@routes.get(f"{RM}/search", "registered-models.search", body=wire.SearchModels,
            client_calls=("MlflowClient.search_registered_models", "mlflow.search_registered_models",
                          "WorkspaceClient.model_registry.search_models"))
def search_models(req: Request) -> dict:
    a, reg = req.args, _reg(req)
    models = reg.search_models(search.model_predicate(a.filter), search.model_order(a.order_by))
    size = page_size(a.max_results, unset=100, zero=100, cap=MODELS_PAGE_CAP)
    chunk, token = paginate(models, size, a.page_token)
    return page_body("registered_models", [_model(reg, m) for m in chunk], token)


@routes.get(f"{RM}/list", "registered-models.list", body=wire.ListModels,
            client_calls=("WorkspaceClient.model_registry.list_models",))
def list_models(req: Request) -> dict:
    a, reg = req.args, _reg(req)
    size = page_size(a.max_results, unset=100, zero=100, cap=MODELS_PAGE_CAP)
    chunk, token = paginate(reg.list_models(), size, a.page_token)
    return page_body("registered_models", [_model(reg, m) for m in chunk], token)


@routes.post(f"{RM}/set-tag", "registered-models.set-tag", body=wire.SetTag,
             client_calls=("MlflowClient.set_registered_model_tag",
                           "WorkspaceClient.model_registry.set_model_tag"))
def set_model_tag(req: Request) -> dict:
    a = req.args
    _reg(req).set_model_tag(a.name, a.key, a.value)
    return {}


@routes.delete(f"{RM}/delete-tag", "registered-models.delete-tag", body=wire.DeleteTag,
               client_calls=("MlflowClient.delete_registered_model_tag",
                             "WorkspaceClient.model_registry.delete_model_tag"))
def delete_model_tag(req: Request) -> dict:
    _reg(req).delete_model_tag(req.args.name, req.args.key)
    return {}


def _latest(req: Request) -> dict:
    versions = _reg(req).latest_versions(req.args.name, req.args.stages)
    return page_body("model_versions", [wire.model_version(v) for v in versions], None)


routes.post(f"{RM}/get-latest-versions", "registered-models.get-latest-versions",
            body=wire.LatestVersions,
            client_calls=("MlflowClient.get_latest_versions",
                          "mlflow.pyfunc.load_model(models:/name/<stage>)",
                          "WorkspaceClient.model_registry.get_latest_versions"))(_latest)
routes.get(f"{RM}/get-latest-versions", "registered-models.get-latest-versions",
           body=wire.LatestVersions, client_calls=("MlflowClient.get_latest_versions",))(_latest)


# == model versions =========================================================================

@routes.post(f"{MV}/create", "model-versions.create", body=wire.CreateVersion,
             client_calls=("MlflowClient.create_model_version", "mlflow.register_model",
                           "MlflowClient.copy_model_version",
                           "WorkspaceClient.model_registry.create_model_version"))
def create_version(req: Request) -> dict:
    a = req.args
    mv = _reg(req).create_version(a.name, a.source, run_id=a.run_id, run_link=a.run_link,
                                  description=a.description, tags=_tags(a.tags), model_id=a.model_id)
    return {"model_version": wire.model_version(mv)}


@routes.get(f"{MV}/get", "model-versions.get", body=wire.VersionArgs,
            client_calls=("MlflowClient.get_model_version", "mlflow.register_model (await READY)",
                          "WorkspaceClient.model_registry.get_model_version"))
def get_version(req: Request) -> dict:
    a = req.args
    return {"model_version": wire.model_version(_reg(req).get_version(a.name, a.version))}


@routes.patch(f"{MV}/update", "model-versions.update", body=wire.UpdateModelVersion,
              client_calls=("MlflowClient.update_model_version",
                            "WorkspaceClient.model_registry.update_model_version"))
def update_version(req: Request) -> dict:
    a = req.args
    mv = _reg(req).update_version(a.name, a.version, description=a.description)
    return {"model_version": wire.model_version(mv)}


@routes.delete(f"{MV}/delete", "model-versions.delete", body=wire.VersionArgs,
               client_calls=("MlflowClient.delete_model_version",
                             "WorkspaceClient.model_registry.delete_model_version"))
def delete_version(req: Request) -> dict:
    _reg(req).delete_version(req.args.name, req.args.version)
    return {}


@routes.get(f"{MV}/search", "model-versions.search", body=wire.SearchVersions,
            client_calls=("MlflowClient.search_model_versions", "mlflow.search_model_versions",
                          "WorkspaceClient.model_registry.search_model_versions"))
def search_versions(req: Request) -> dict:
    a = req.args
    versions = _reg(req).search_versions(search.version_predicate(a.filter), search.version_order(a.order_by))
    size = page_size(a.max_results, unset=VERSIONS_PAGE_CAP, zero=VERSIONS_PAGE_CAP,
                     cap=VERSIONS_PAGE_CAP)
    chunk, token = paginate(versions, size, a.page_token)
    return page_body("model_versions", [wire.model_version(v) for v in chunk], token)


@routes.post(f"{MV}/set-tag", "model-versions.set-tag", body=wire.SetVersionTag,
             client_calls=("MlflowClient.set_model_version_tag",
                           "WorkspaceClient.model_registry.set_model_version_tag"))
def set_version_tag(req: Request) -> dict:
    a = req.args
    _reg(req).set_version_tag(a.name, a.version, a.key, a.value)
    return {}


@routes.delete(f"{MV}/delete-tag", "model-versions.delete-tag", body=wire.DeleteVersionTag,
               client_calls=("MlflowClient.delete_model_version_tag",
                             "WorkspaceClient.model_registry.delete_model_version_tag"))
def delete_version_tag(req: Request) -> dict:
    a = req.args
    _reg(req).delete_version_tag(a.name, a.version, a.key)
    return {}


@routes.post(f"{MV}/transition-stage", "model-versions.transition-stage", body=wire.TransitionStage,
             client_calls=("MlflowClient.transition_model_version_stage",))
def transition_stage(req: Request) -> dict:
    a = req.args
    mv, _ = _reg(req).transition(a.name, a.version, a.stage, a.archive_existing_versions)
    return {"model_version": wire.model_version(mv)}


@routes.post(f"{DB}/model-versions/transition-stage", "databricks.model-versions.transition-stage",
             body=wire.TransitionStage,
             client_calls=("WorkspaceClient.model_registry.transition_stage",))
def transition_stage_databricks(req: Request) -> dict:
    a = req.args
    mv, _ = _reg(req).transition(a.name, a.version, a.stage, a.archive_existing_versions, a.comment)
    return {"model_version_databricks": wire.model_version_databricks(mv)}


@routes.get(f"{MV}/get-download-uri", "model-versions.get-download-uri", body=wire.VersionArgs,
            client_calls=("MlflowClient.get_model_version_download_uri",
                          "WorkspaceClient.model_registry.get_model_version_download_uri"))
def get_download_uri(req: Request) -> dict:
    a = req.args
    return {"artifact_uri": _reg(req).get_version(a.name, a.version).download_uri}


def _version_root(req: Request) -> ArtifactRoot:
    mv = _reg(req).files_root(req.args.name, req.args.version)
    return ArtifactRoot(mv.download_uri, "dbfs", mv.files_path)


@routes.get(f"{MV}/list-artifacts", "model-versions.list-artifacts", body=wire.ArtifactArgs,
            client_calls=("mlflow.pyfunc.load_model(models:/name/<version|stage>)",
                          "mlflow.artifacts.download_artifacts(models:/...)"))
def list_artifacts(req: Request) -> dict:
    entries, token = req.ws.mlflow_artifacts.list(_version_root(req), req.args.path, req.args.page_token)
    return page_body("files", [file_info(e) for e in entries], token)


@routes.get(f"{MV}/get-signed-download-uri", "model-versions.get-signed-download-uri",
            body=wire.ArtifactArgs,
            client_calls=("mlflow.pyfunc.load_model(models:/name/<version|stage>)",))
def signed_download_uri(req: Request) -> dict:
    root = _version_root(req)
    [(_, uri)] = req.ws.mlflow_artifacts.credentials(root, [req.args.path or ""], False, req.base_url)
    return {"signed_uri": uri, "headers": []}


# == transition requests and comments (SDK w.model_registry) ================================

@routes.post(f"{TR}/create", "transition-requests.create", body=wire.TransitionRequest,
             client_calls=("WorkspaceClient.model_registry.create_transition_request",))
def create_request(req: Request) -> dict:
    a = req.args
    return {"request": wire.transition_request(
        _reg(req).request_transition(a.name, a.version, a.stage, a.comment))}


@routes.get(f"{TR}/list", "transition-requests.list", body=wire.VersionArgs,
            client_calls=("WorkspaceClient.model_registry.list_transition_requests",))
def list_requests(req: Request) -> dict:
    a = req.args
    return page_body("requests", [wire.activity(r) for r in _reg(req).open_requests(a.name, a.version)],
                     None)


@routes.post(f"{TR}/approve", "transition-requests.approve", body=wire.ApproveRequest,
             client_calls=("WorkspaceClient.model_registry.approve_transition_request",))
def approve_request(req: Request) -> dict:
    a = req.args
    return {"activity": wire.activity(_reg(req).approve_request(
        a.name, a.version, a.stage, a.archive_existing_versions, a.comment))}


@routes.post(f"{TR}/reject", "transition-requests.reject", body=wire.TransitionRequest,
             client_calls=("WorkspaceClient.model_registry.reject_transition_request",))
def reject_request(req: Request) -> dict:
    a = req.args
    return {"activity": wire.activity(_reg(req).reject_request(a.name, a.version, a.stage, a.comment))}


@routes.delete(f"{TR}/delete", "transition-requests.delete", body=wire.DeleteRequest,
               client_calls=("WorkspaceClient.model_registry.delete_transition_request",))
def delete_request(req: Request) -> dict:
    a = req.args
    return {"activity": wire.activity(
        _reg(req).cancel_request(a.name, a.version, a.stage, a.creator, a.comment))}


@routes.post("/api/2.0/mlflow/comments/create", "comments.create", body=wire.CreateComment,
             client_calls=("WorkspaceClient.model_registry.create_comment",))
def create_comment(req: Request) -> dict:
    a = req.args
    return {"comment": wire.comment(_reg(req).create_comment(a.name, a.version, a.comment))}


@routes.patch("/api/2.0/mlflow/comments/update", "comments.update", body=wire.UpdateComment,
              client_calls=("WorkspaceClient.model_registry.update_comment",))
def update_comment(req: Request) -> dict:
    return {"comment": wire.comment(_reg(req).update_comment(req.args.id, req.args.comment))}


@routes.delete("/api/2.0/mlflow/comments/delete", "comments.delete", body=wire.CommentId,
               client_calls=("WorkspaceClient.model_registry.delete_comment",))
def delete_comment(req: Request) -> dict:
    _reg(req).delete_comment(req.args.id)
    return {}


SERVICE = Service("workspace_registry", routes, state=WorkspaceRegistry,
                  description="Workspace model registry (mlflow registry URI databricks, "
                              "SDK w.model_registry): stages, transition requests, comments")
