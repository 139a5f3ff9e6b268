"""Routes of the Files API (``/api/2.0/fs/files|directories``, ``create-download-url``,
``create-upload-url``) and of the pre-signed URLs mlemu serves itself (``/presigned/...``).

``create-download-url`` answers 200 with a pre-signed URL for an existing file, so the
SDK's preferred download path (IO_OFFLOAD) is exercised; for a missing file it answers 404,
the SDK walks on to ``GET /api/2.0/fs/files`` and raises that request's NotFound.
Multipart uploads (``POST ...?action=initiate-upload``) are refused with a 404: the SDK then
uploads in one PUT (up to 5 GiB).
"""
from __future__ import annotations

from typing import Callable

from mlemu.server.core.errors import ApiError
from mlemu.server.core.storage import FileInfo, etag_of
from mlemu.server.wire.service import Service
from mlemu.server.services.files.presigned import PresignedRefused
from mlemu.server.services.files.state import Files
from mlemu.server.services.files.wire import (
    OCTET_STREAM, CreateUrlArgs, ListDirectoryArgs, Unsatisfiable, check_expire_time,
    directory_entry, http_date, json_error, parse_bool, parse_http_date, parse_range, s3_error_xml)
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.app import NOT_EMULATED_HINT
from mlemu.server.wire.request import Reply, Request
from mlemu.server.wire.routing import RouteTable
from mlemu.server.services.files import persist

routes = RouteTable("files")

_FILES = "/api/2.0/fs/files"
_DIRS = "/api/2.0/fs/directories"


def _path(req: Request, prefix: str) -> str:
    """The Files API path after the route prefix (already URL-decoded by the app)."""
    return req.path[len(prefix):] or "/"


def _query(req: Request, name: str) -> str | None:
    values = req.query.get(name)
    return values[0] if values else None


def _file_reply(req: Request, data_of: Callable[[int | None, int | None], bytes], info: FileInfo) -> Reply:
    """A GET of file bytes with ``Range`` and ``If-Unmodified-Since`` honoured."""
    headers = {"content-type": OCTET_STREAM, "last-modified": http_date(info.mtime_ms),
               "accept-ranges": "bytes"}
    since = req.headers.get("if-unmodified-since")
    if since:
        t = parse_http_date(since)
        if t is not None and info.mtime_ms // 1000 > int(t):
            body, err = json_error("FAILED_PRECONDITION",
                                   f"The file was modified after {since}. path={info.path}")
            return Reply(412, body, {"content-type": "application/json"}, err)
    try:
        rng = parse_range(req.headers.get("range"), info.size)
    except Unsatisfiable:
        body, err = json_error("INVALID_PARAMETER_VALUE",
                               f"The requested range is not satisfiable for a file of {info.size} bytes.")
        return Reply(416, body, {"content-type": "application/json",
                                 "content-range": f"bytes */{info.size}"}, err)
    if rng is None:
        return Reply(200, data_of(None, None), headers)
    start, end = rng
    headers["content-range"] = f"bytes {start}-{end}/{info.size}"
    return Reply(206, data_of(start, end + 1), headers)


# -- files ---------------------------------------------------------------------------------
@routes.put(_FILES + "/<path:path>", "upload",
            client_calls=("WorkspaceClient.files.upload", "WorkspaceClient.files.upload_from",
                          "mlflow.log_artifact (3.x)", "mlflow.log_artifacts (3.x)",
                          "mlflow.<flavor>.log_model (3.x)", "mlflow.register_model (UC, SDK repo)"))
def upload(req: Request, path: str) -> Reply:
    overwrite = parse_bool(_query(req, "overwrite"), "overwrite", True)
    req.ws.files.upload(_path(req, _FILES), req.body, overwrite)
    return Reply(204)


@routes.get(_FILES + "/<path:path>", "download",
            client_calls=("WorkspaceClient.files.download", "WorkspaceClient.files.download_to",
                          "mlflow.artifacts.download_artifacts (3.x)", "mlflow.pyfunc.load_model (3.x)"))
def download(req: Request, path: str) -> Reply:
    files = req.ws.files
    info = files.file(_path(req, _FILES))
    return _file_reply(req, lambda s, e: files.read(info.path, s, e), info)


@routes.head(_FILES + "/<path:path>", "get-metadata",
             client_calls=("WorkspaceClient.files.get_metadata",))
def get_metadata(req: Request, path: str) -> Reply:
    info = req.ws.files.file(_path(req, _FILES))
    return Reply(200, b"", {"content-length": str(info.size), "content-type": OCTET_STREAM,
                            "last-modified": http_date(info.mtime_ms)})


@routes.delete(_FILES + "/<path:path>", "delete", client_calls=("WorkspaceClient.files.delete",))
def delete(req: Request, path: str) -> Reply:
    req.ws.files.delete_file(_path(req, _FILES))
    return Reply(204)


@routes.post(_FILES + "/<path:path>", "multipart",
             client_calls=("WorkspaceClient.files.upload (>= 50 MiB: initiate-upload)",))
def multipart(req: Request, path: str) -> Reply:
    action = _query(req, "action") or ""
    raise ApiError("ENDPOINT_NOT_FOUND",
                   f"Multipart uploads (action={action}) are not supported by mlemu; "
                   f"upload the file with a single PUT. {NOT_EMULATED_HINT}", 404)


# -- directories ---------------------------------------------------------------------------
@routes.head(_DIRS + "/<path:path>", "directories.get-metadata",
             client_calls=("WorkspaceClient.files.get_directory_metadata",
                           "mlflow.MlflowClient.list_artifacts (3.x)"))
def get_directory_metadata(req: Request, path: str) -> Reply:
    req.ws.files.directory(_path(req, _DIRS))
    return Reply(200)


@routes.get(_DIRS + "/<path:path>", "directories.list", body=ListDirectoryArgs,
            client_calls=("WorkspaceClient.files.list_directory_contents",
                          "mlflow.MlflowClient.list_artifacts (3.x)"))
def list_directory_contents(req: Request, path: str) -> dict:
    entries, token = req.ws.files.list_directory(_path(req, _DIRS), req.args.page_size, req.args.page_token)
    return page_body("contents", [directory_entry(e) for e in entries], token)


@routes.put(_DIRS + "/<path:path>", "directories.create",
            client_calls=("WorkspaceClient.files.create_directory",))
def create_directory(req: Request, path: str) -> Reply:
    req.ws.files.create_directory(_path(req, _DIRS))
    return Reply(204)


@routes.delete(_DIRS + "/<path:path>", "directories.delete",
               client_calls=("WorkspaceClient.files.delete_directory",))
def delete_directory(req: Request, path: str) -> Reply:
    req.ws.files.delete_directory(_path(req, _DIRS))
    return Reply(204)


# -- pre-signed URL minting ----------------------------------------------------------------
@routes.post("/api/2.0/fs/create-download-url", "create-download-url", body=CreateUrlArgs,
             client_calls=("WorkspaceClient.files.download",
                           "mlflow.pyfunc.load_model (UC, pre-signed repo)"))
def create_download_url(req: Request) -> dict:
    check_expire_time(req.args.expire_time)
    return {"url": req.ws.files.download_url(req.base_url, req.args.path), "headers": []}


@routes.post("/api/2.0/fs/create-upload-url", "create-upload-url", body=CreateUrlArgs,
             client_calls=("mlflow.register_model (UC, pre-signed repo)",))
def create_upload_url(req: Request) -> dict:
    check_expire_time(req.args.expire_time)
    return {"url": req.ws.files.upload_url(req.base_url, req.args.path), "headers": []}


# -- the pre-signed URLs themselves (no workspace credentials: the token is the grant) -----
def _refused(e: PresignedRefused) -> Reply:
    return Reply(e.status, s3_error_xml(e.code, e.message), {"content-type": "application/xml"},
                 {"error_code": e.code, "message": e.message})


@routes.get("/presigned/<token>/<path:path>", "presigned.get", auth=False,
            client_calls=("WorkspaceClient.files.download (IO_OFFLOAD)",
                          "mlflow artifact download via credentials-for-read"))
def presigned_get(req: Request, token: str, path: str) -> Reply:
    storage = req.ws.storage
    try:
        grant = req.ws.files.presigned.resolve(token, "/" + path, "GET")
    except PresignedRefused as e:
        return _refused(e)
    info = storage.stat(grant.namespace, grant.path)
    if info is None or info.is_dir:
        return _refused(PresignedRefused(404, "NoSuchKey", "The specified key does not exist."))
    data = storage.read(grant.namespace, grant.path)  # once: the ETag is of the whole object
    reply = _file_reply(req, lambda s, e: data[s:e], info)
    if reply.status in (200, 206):
        reply.headers["etag"] = etag_of(data)
    return reply


@routes.head("/presigned/<token>/<path:path>", "presigned.head", auth=False)
def presigned_head(req: Request, token: str, path: str) -> Reply:
    """Only GET and PUT URLs are issued: like S3, a URL signed for GET does not allow HEAD."""
    try:
        req.ws.files.presigned.resolve(token, "/" + path, "HEAD")
    except PresignedRefused as e:
        return _refused(e)
    return _refused(PresignedRefused(403, "SignatureDoesNotMatch", "HEAD is not allowed by this URL."))


@routes.put("/presigned/<token>/<path:path>", "presigned.put", auth=False,
            client_calls=("mlflow artifact upload via credentials-for-write",
                          "mlflow.register_model (UC, pre-signed repo)"))
def presigned_put(req: Request, token: str, path: str) -> Reply:
    try:
        grant = req.ws.files.presigned.resolve(token, "/" + path, "PUT")
    except PresignedRefused as e:
        return _refused(e)
    if grant.namespace == "files":
        try:  # a URL minted while a model version was pending cannot change it once final
            req.ws.files.checked(grant.path, write=True)
        except ApiError as e:
            return _refused(PresignedRefused(403, "AccessDenied", e.message))
    storage = req.ws.storage
    st = storage.stat(grant.namespace, grant.path)
    if st is not None and st.is_dir:
        return _refused(PresignedRefused(409, "InvalidRequest", "A directory exists at this key."))
    if storage.first_file_ancestor(grant.namespace, grant.path) is not None:
        return _refused(PresignedRefused(409, "InvalidRequest", "A file exists where a directory is needed."))
    storage.write(grant.namespace, grant.path, req.body)
    return Reply(200, b"", {"etag": etag_of(req.body)})


SERVICE = Service("files", routes, state=Files, persist=persist,
                  description="Files API (volumes, UC model files, MLflow artifacts) and pre-signed URLs")
