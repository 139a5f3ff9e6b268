"""Routes of the MLflow artifacts service (``DatabricksMlflowArtifactsService``) and the two
artifact listings of ``MlflowService`` (``artifacts/list``, logged-model
``artifacts/directories``). mlflow 2 uses them for every run artifact; mlflow 3 for logged
models and runs when the Files API is unavailable or disabled
(``MLFLOW_DISABLE_DATABRICKS_SDK_FOR_RUN_ARTIFACTS=true``)."""
from __future__ import annotations

from mlemu.server.wire.service import Service
from mlemu.server.services.mlflow_artifacts.state import MlflowArtifacts, relative_path
from mlemu.server.services.mlflow_artifacts.wire import (
    ListArtifactsArgs, ListModelArtifactsArgs, ModelCredentialsArgs, RunCredentialsArgs, credential_info,
    file_info)
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable

routes = RouteTable("mlflow_artifacts")

_X = "/api/2.0/mlflow"


def _run_credentials(req: Request, write: bool) -> dict:
    a = req.args
    run_id = a.run_id or a.run_uuid
    svc = req.ws.mlflow_artifacts
    root = svc.run_root(run_id)
    creds = svc.credentials(root, a.path, write, req.base_url)
    return {"credential_infos": [credential_info(p, uri, run_id=run_id) for p, uri in creds]} if creds else {}


@routes.post(_X + "/artifacts/credentials-for-write", "credentials-for-write", body=RunCredentialsArgs,
             client_calls=("mlflow.log_artifact (2.x; 3.x fallback)", "mlflow.log_artifacts (2.x)",
                           "mlflow.<flavor>.log_model (2.x)"))
def credentials_for_write(req: Request) -> dict:
    return _run_credentials(req, write=True)


@routes.post(_X + "/artifacts/credentials-for-read", "credentials-for-read", body=RunCredentialsArgs,
             client_calls=("mlflow.artifacts.download_artifacts (2.x; 3.x fallback)",
                           "mlflow.pyfunc.load_model (runs:/ in 2.x)"))
def credentials_for_read(req: Request) -> dict:
    return _run_credentials(req, write=False)


@routes.get(_X + "/artifacts/list", "list", body=ListArtifactsArgs,
            client_calls=("mlflow.MlflowClient.list_artifacts (2.x; 3.x fallback)",
                          "mlflow.artifacts.download_artifacts (2.x)"))
def list_artifacts(req: Request) -> dict:
    a = req.args
    svc = req.ws.mlflow_artifacts
    relative_path(a.path)  # a bad path is refused before the run is looked up
    root = svc.run_root(a.run_id or a.run_uuid)
    entries, token = svc.list(root, a.path, a.page_token)
    return page_body("files", [file_info(e) for e in entries], token, root_uri=root.uri)


def _model_credentials(req: Request, model_id: str, write: bool) -> dict:
    svc = req.ws.mlflow_artifacts
    creds = svc.credentials(svc.model_root(model_id), req.args.paths, write, req.base_url)
    return {"credentials": [{"model_id": model_id, "credential_info": credential_info(p, uri)}
                            for p, uri in creds]} if creds else {}


@routes.post(_X + "/logged-models/<model_id>/artifacts/credentials-for-upload",
             "logged-models.credentials-for-upload", body=ModelCredentialsArgs,
             client_calls=("mlflow.<flavor>.log_model (3.x fallback)",))
def model_credentials_for_upload(req: Request, model_id: str) -> dict:
    return _model_credentials(req, model_id, write=True)


@routes.post(_X + "/logged-models/<model_id>/artifacts/credentials-for-download",
             "logged-models.credentials-for-download", body=ModelCredentialsArgs,
             client_calls=("mlflow.pyfunc.load_model (models:/m-..., 3.x fallback)",))
def model_credentials_for_download(req: Request, model_id: str) -> dict:
    return _model_credentials(req, model_id, write=False)


@routes.get(_X + "/logged-models/<model_id>/artifacts/directories", "logged-models.list",
            body=ListModelArtifactsArgs,
            client_calls=("mlflow.pyfunc.load_model (models:/m-..., 3.x fallback)",))
def list_model_artifacts(req: Request, model_id: str) -> dict:
    svc = req.ws.mlflow_artifacts
    entries, token = svc.list(svc.model_root(model_id), req.args.artifact_directory_path, req.args.page_token)
    return page_body("files", [file_info(e) for e in entries], token)


SERVICE = Service("mlflow_artifacts", routes, state=MlflowArtifacts,
                  description="MLflow artifact credentials (pre-signed URLs) and artifact listings")
