"""Routes of the Workspace API (``/api/2.0/workspace/*``)."""
from __future__ import annotations

import base64
import binascii
import io
from typing import Any

from pydantic import ValidationError

from mlemu.server.wire.fields import WireArgs
from mlemu.server.core.errors import invalid
from mlemu.server.wire.app import validation_error
from mlemu.server.wire.request import Reply

from mlemu.server.wire.service import Service
from mlemu.server.services.workspace_files.state import WorkspaceFiles
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable

routes = RouteTable("workspace")


class PathArgs(WireArgs):
    path: str


class DeleteArgs(WireArgs):
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


class ImportArgs(WireArgs):
    path: str
    format: str | None = None
    language: str | None = None
    content: str | None = None
    overwrite: bool = False


class ExportArgs(WireArgs):
    path: str
    format: str | None = None
    direct_download: bool = False


@routes.post("/api/2.0/workspace/import", "import",
             client_calls=("WorkspaceClient.workspace.import_", "WorkspaceClient.workspace.upload"))
def import_object(req: Request) -> dict:
    """A JSON body with base64 ``content`` (``import_``), or a multipart form with the bytes in
    its ``content`` part (the SDK's ``upload``)."""
    if req.headers.get("content-type", "").startswith("multipart/form-data"):
        fields, content = _multipart(req)
    else:
        fields = req.raw_params()
        content = None
    try:
        args = ImportArgs.model_validate(fields)
    except ValidationError as e:
        raise validation_error(e) from None
    if content is None:
        try:
            content = base64.b64decode(args.content or "", validate=True)
        except (binascii.Error, ValueError):
            raise invalid("Invalid value for parameter 'content': it must be base64-encoded.") from None
    req.ws.workspace_files.import_object(args.path, content, format=args.format,
                                         language=args.language, overwrite=args.overwrite)
    return {}


@routes.get("/api/2.0/workspace/export", "export", body=ExportArgs,
            client_calls=("WorkspaceClient.workspace.export", "WorkspaceClient.workspace.download"))
def export_object(req: Request) -> Any:
    content, file_type = req.ws.workspace_files.export_object(req.args.path, req.args.format)
    if req.args.direct_download:
        return Reply(200, content, {"content-type": "application/octet-stream"})
    out = {"content": base64.b64encode(content).decode()}
    if file_type:
        out["file_type"] = file_type
    return out


def _multipart(req: Request) -> tuple[dict[str, Any], bytes | None]:
    from werkzeug.formparser import parse_form_data

    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": req.headers.get("content-type", ""),
               "CONTENT_LENGTH": str(len(req.body)), "wsgi.input": io.BytesIO(req.body)}
    _, form, files = parse_form_data(environ)
    fields: dict[str, Any] = {k: v for k, v in form.items()}
    upload = files.get("content")
    content = upload.read() if upload is not None else None
    if content is None and "content" in fields:
        content = str(fields.pop("content")).encode()
    return fields, content


SERVICE = Service("workspace_files", routes, state=WorkspaceFiles,
                  description="Workspace folders (experiments are objects in them)")
