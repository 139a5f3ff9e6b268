"""Routes of the Workspace API (``/api/2.0/workspace/*``)."""
from __future__ import annotations

from pydantic import BaseModel

from mlemu.wire.service import Service
from mlemu.services.workspace_files.state import WorkspaceFiles
from mlemu.wire.request import Request
from mlemu.wire.routing import RouteTable

routes = RouteTable("workspace")


class PathArgs(BaseModel):
    path: str


class DeleteArgs(BaseModel):
    path: str
    recursive: bool = False


@routes.post("/api/2.0/workspace/mkdirs", "mkdirs", body=PathArgs,
             client_calls=("WorkspaceClient.workspace.mkdirs",))
def mkdirs(req: Request) -> dict:
    req.ws.workspace_files.mkdirs(req.args.path)
    return {}


@routes.get("/api/2.0/workspace/get-status", "get-status", body=PathArgs,
            client_calls=("WorkspaceClient.workspace.get_status",))
def get_status(req: Request) -> dict:
    return req.ws.workspace_files.get(req.args.path).to_wire()


@routes.get("/api/2.0/workspace/list", "list", body=PathArgs,
            client_calls=("WorkspaceClient.workspace.list",))
def list_objects(req: Request) -> dict:
    objects = req.ws.workspace_files.list(req.args.path)
    return {"objects": [o.to_wire() for o in objects]} if objects else {}


@routes.post("/api/2.0/workspace/delete", "delete", body=DeleteArgs,
             client_calls=("WorkspaceClient.workspace.delete",))
def delete(req: Request) -> dict:
    req.ws.workspace_files.delete(req.args.path, req.args.recursive)
    return {}


SERVICE = Service("workspace_files", routes, state=WorkspaceFiles,
                  description="Workspace folders (experiments are objects in them)")
