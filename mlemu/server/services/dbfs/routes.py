"""Routes of DBFS: the JSON API (``/api/2.0/dbfs/*``, used by ``WorkspaceClient.dbfs``) and
the legacy raw proxy (``POST``/``GET /dbfs/<path>``, used by mlflow for ``dbfs:/`` artifact
locations outside the MLflow-managed root)."""
from __future__ import annotations

import base64

from mlemu.server.wire.service import Service
from mlemu.server.services.dbfs.state import Dbfs, decode_b64
from mlemu.server.services.dbfs.wire import (
    AddBlockArgs, CloseArgs, CreateArgs, DeleteArgs, MoveArgs, PathArgs, PutArgs, ReadArgs, file_info)
from mlemu.server.wire.request import Reply, Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.services.dbfs import persist

routes = RouteTable("dbfs")

_API = "/api/2.0/dbfs"
_RAW = "/dbfs"


@routes.get(_API + "/get-status", "get-status", body=PathArgs,
            client_calls=("WorkspaceClient.dbfs.get_status", "WorkspaceClient.dbfs.exists",
                          "mlflow.artifacts.download_artifacts (dbfs:/ location)"))
def get_status(req: Request) -> dict:
    return file_info(req.ws.dbfs.get_status(req.args.path))


@routes.get(_API + "/list", "list", body=PathArgs,
            client_calls=("WorkspaceClient.dbfs.list", "mlflow.MlflowClient.list_artifacts (dbfs:/ location)"))
def list_files(req: Request) -> dict:
    files = req.ws.dbfs.list(req.args.path)
    # An empty directory has no "files" key at all (mlflow relies on tolerating that).
    return {"files": [file_info(f) for f in files]} if files else {}


@routes.post(_API + "/mkdirs", "mkdirs", body=PathArgs, client_calls=("WorkspaceClient.dbfs.mkdirs",))
def mkdirs(req: Request) -> dict:
    req.ws.dbfs.mkdirs(req.args.path)
    return {}


@routes.post(_API + "/delete", "delete", body=DeleteArgs, client_calls=("WorkspaceClient.dbfs.delete",))
def delete(req: Request) -> dict:
    req.ws.dbfs.delete(req.args.path, req.args.recursive)
    return {}


@routes.post(_API + "/put", "put", body=PutArgs, client_calls=("WorkspaceClient.dbfs.put",))
def put(req: Request) -> dict:
    data = decode_b64(req.args.contents, "contents")
    req.ws.dbfs.put(req.args.path, data, req.args.overwrite)
    return {}


@routes.post(_API + "/create", "create", body=CreateArgs,
             client_calls=("WorkspaceClient.dbfs.create", "WorkspaceClient.dbfs.upload"))
def create(req: Request) -> dict:
    return {"handle": req.ws.dbfs.create(req.args.path, req.args.overwrite)}


@routes.post(_API + "/add-block", "add-block", body=AddBlockArgs,
             client_calls=("WorkspaceClient.dbfs.add_block", "WorkspaceClient.dbfs.upload"))
def add_block(req: Request) -> dict:
    req.ws.dbfs.add_block(req.args.handle, decode_b64(req.args.data, "data"))
    return {}


@routes.post(_API + "/close", "close", body=CloseArgs,
             client_calls=("WorkspaceClient.dbfs.close", "WorkspaceClient.dbfs.upload"))
def close(req: Request) -> dict:
    req.ws.dbfs.close(req.args.handle)
    return {}


@routes.get(_API + "/read", "read", body=ReadArgs,
            client_calls=("WorkspaceClient.dbfs.read", "WorkspaceClient.dbfs.download"))
def read(req: Request) -> dict:
    data = req.ws.dbfs.read(req.args.path, req.args.offset, req.args.length)
    return {"bytes_read": len(data), "data": base64.b64encode(data).decode()}


@routes.post(_API + "/move", "move", body=MoveArgs, client_calls=("WorkspaceClient.dbfs.move",))
def move(req: Request) -> dict:
    req.ws.dbfs.move(req.args.source_path, req.args.destination_path)
    return {}


# -- legacy raw proxy ------------------------------------------------------------------------
@routes.post(_RAW + "/<path:path>", "raw.upload",
             client_calls=("mlflow.log_artifact (dbfs:/ location)", "mlflow.log_artifacts (dbfs:/ location)",
                           "mlflow.<flavor>.log_model (dbfs:/ location)"))
def raw_upload(req: Request, path: str) -> dict:
    req.ws.dbfs.upload(req.path[len(_RAW):], req.body)
    return {}


@routes.get(_RAW + "/<path:path>", "raw.download",
            client_calls=("mlflow.artifacts.download_artifacts (dbfs:/ location)",
                          "mlflow.pyfunc.load_model (dbfs:/ location)"))
def raw_download(req: Request, path: str) -> Reply:
    data = req.ws.dbfs.download(req.path[len(_RAW):])
    return Reply(200, data, {"content-type": "application/octet-stream"})


SERVICE = Service("dbfs", routes, state=Dbfs, persist=persist, description="DBFS: JSON API and the legacy /dbfs proxy")
