"""Routes of the Secrets API (``/api/2.0/secrets/*``)."""
from __future__ import annotations

import base64

from pydantic import BaseModel

from mlemu.server.core.errors import invalid
from mlemu.server.wire.service import Service
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable
from mlemu_secrets.state import Secrets
from mlemu_secrets import persist

routes = RouteTable("secrets")


class ScopeArgs(BaseModel):
    scope: str


class KeyArgs(BaseModel):
    scope: str
    key: str


class PutArgs(BaseModel):
    scope: str
    key: str
    string_value: str | None = None
    bytes_value: str | None = None


@routes.post("/api/2.0/secrets/scopes/create", "scopes.create", body=ScopeArgs,
             client_calls=("WorkspaceClient.secrets.create_scope",))
def create_scope(req: Request) -> dict:
    req.ws.secrets.create_scope(req.args.scope)
    return {}


@routes.post("/api/2.0/secrets/scopes/delete", "scopes.delete", body=ScopeArgs,
             client_calls=("WorkspaceClient.secrets.delete_scope",))
def delete_scope(req: Request) -> dict:
    req.ws.secrets.delete_scope(req.args.scope)
    return {}


@routes.get("/api/2.0/secrets/scopes/list", "scopes.list",
            client_calls=("WorkspaceClient.secrets.list_scopes",))
def list_scopes(req: Request) -> dict:
    return {"scopes": [{"name": s, "backend_type": "DATABRICKS"} for s in req.ws.secrets.scopes()]}


@routes.post("/api/2.0/secrets/put", "put", body=PutArgs,
             client_calls=("WorkspaceClient.secrets.put_secret",))
def put(req: Request) -> dict:
    a = req.args
    if (a.string_value is None) == (a.bytes_value is None):
        raise invalid("Exactly one of string_value or bytes_value must be specified.")
    value = a.string_value.encode() if a.string_value is not None else base64.b64decode(a.bytes_value)
    req.ws.secrets.put(a.scope, a.key, value)
    return {}


@routes.get("/api/2.0/secrets/get", "get", body=KeyArgs,
            client_calls=("WorkspaceClient.secrets.get_secret",))
def get(req: Request) -> dict:
    value = req.ws.secrets.get(req.args.scope, req.args.key)
    return {"key": req.args.key, "value": base64.b64encode(value).decode()}


@routes.post("/api/2.0/secrets/delete", "delete", body=KeyArgs,
             client_calls=("WorkspaceClient.secrets.delete_secret",))
def delete(req: Request) -> dict:
    req.ws.secrets.delete(req.args.scope, req.args.key)
    return {}


@routes.get("/api/2.0/secrets/list", "list", body=ScopeArgs,
            client_calls=("WorkspaceClient.secrets.list_secrets",))
def list_secrets(req: Request) -> dict:
    keys = req.ws.secrets.keys(req.args.scope)
    return {"secrets": [{"key": k, "last_updated_timestamp": ts} for k, ts in keys]}


SERVICE = Service("secrets", routes, state=Secrets, persist=persist, description="Secrets API (example plugin)")
