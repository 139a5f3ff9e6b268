"""The Files API (``/api/2.0/fs``): files and directories of the ``files`` storage namespace,
i.e. UC volumes (``/Volumes``), UC model-version files (``/Models``) and the MLflow artifact
store (``/WorkspaceInternal``), plus the pre-signed URLs that point at them."""
from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from mlemu.server.core.errors import ApiError, invalid
from mlemu.server.core.storage import FileInfo, normalize
from mlemu.server.services.files.presigned import PresignedUrls
from mlemu.server.core.paging import Page

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

NS = "files"

#: Top-level folders the Files API serves. ``/Volumes`` is the public one; the others are
#: where Databricks keeps UC model versions and MLflow artifacts (clients write there).
ROOTS = ("/Volumes", "/Models", "/WorkspaceInternal")

#: Files API listing: "at most 1000 directory entries ... values above 1000 are coerced".
MAX_PAGE_SIZE = 1000

#: The Files API takes single-shot uploads of up to 5 GiB.
MAX_UPLOAD_BYTES = 5 * 1024 ** 3


def not_found_file(path: str) -> ApiError:
    return ApiError("NOT_FOUND", f"The file being accessed is not found. path={path}", 404)


def not_found_dir(path: str) -> ApiError:
    return ApiError("NOT_FOUND", f"The directory being accessed is not found. path={path}", 404)


def files_path(path: str | None) -> str:
    """A normalised Files API path under one of :data:`ROOTS` (400 otherwise)."""
    clean = normalize(path)
    if not any(clean == r or clean.startswith(r + "/") for r in ROOTS):
        raise invalid(f"Invalid path: {clean}. The Files API only accepts absolute paths starting with "
                      + ", ".join(ROOTS) + ".")
    return clean


class Files:
    """Per-workspace Files API state: rules over :attr:`Workspace.storage` and the grants."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self.presigned = PresignedUrls(ws)

    @property
    def _storage(self):  # type: ignore[no-untyped-def]
        return self._ws.storage

    def checked(self, path: str, write: bool) -> str:
        """The clean path, once the owner of ``/Models`` (the UC registry) allows the access:
        model-version files are written only while the version is pending registration."""
        p = files_path(path)
        if p.startswith("/Models/"):
            self._ws.registry.check_files_access(p, write)
        return p

    # -- files -----------------------------------------------------------------------------
    def upload(self, path: str, data: bytes, overwrite: bool = True) -> FileInfo:
        p = self.checked(path, write=True)
        if p.startswith("/Volumes/") and p.count("/") < 5:
            raise invalid(f"Invalid path: {p}. Files must be inside a volume: "
                          "/Volumes/<catalog>/<schema>/<volume>/<path>.")
        if p in ROOTS:
            raise invalid(f"Invalid path: {p}. A file cannot replace a root directory.")
        if len(data) > MAX_UPLOAD_BYTES:
            raise invalid(f"The file is larger than the single-upload limit of {MAX_UPLOAD_BYTES} bytes.")
        st = self._storage.stat(NS, p)
        if st is not None and st.is_dir:
            raise ApiError("ALREADY_EXISTS", f"A directory already exists at path={p}.")
        if st is not None and not overwrite:
            raise ApiError("ALREADY_EXISTS", f"The file being created already exists. path={p}")
        blocking = self._storage.first_file_ancestor(NS, p)
        if blocking is not None:
            raise ApiError("RESOURCE_CONFLICT", f"A file exists at {blocking}, where a directory is needed.")
        return self._storage.write(NS, p, data, overwrite=True)

    def file(self, path: str) -> FileInfo:
        """The file at ``path`` (404 NOT_FOUND for a missing file or a directory)."""
        p = self.checked(path, write=False)
        st = self._storage.stat(NS, p)
        if st is None or st.is_dir:
            raise not_found_file(p)
        return st

    def read(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        p = self.file(path).path
        return self._storage.read(NS, p, start, end)

    def delete_file(self, path: str) -> None:
        p = self.file(self.checked(path, write=True)).path
        self._storage.delete(NS, p)

    # -- directories -----------------------------------------------------------------------
    def directory(self, path: str) -> FileInfo:
        p = self.checked(path, write=False)
        st = self._storage.stat(NS, p)
        if st is None or not st.is_dir:
            raise not_found_dir(p)
        return st

    def list_directory(self, path: str, page_size: int | None = None,
                       page_token: str | None = None) -> Page[FileInfo]:
        """One page of the direct children, sorted by name, and the next page's token."""
        d = self.directory(path)
        if page_size is not None and page_size < 0:
            raise invalid(f"Invalid page_size {page_size}: it must not be negative.")
        size = MAX_PAGE_SIZE if not page_size else min(page_size, MAX_PAGE_SIZE)
        entries = self._storage.list(NS, d.path) or []
        start = 0
        if page_token:
            after = _decode_token(page_token, d.path)
            start = next((i for i, e in enumerate(entries) if e.name > after), len(entries))
        page = entries[start:start + size]
        more = start + size < len(entries)
        return Page(page, _encode_token(d.path, page[-1].name) if more and page else None)

    def create_directory(self, path: str) -> None:
        p = self.checked(path, write=True)
        st = self._storage.stat(NS, p)
        if st is not None and not st.is_dir:
            raise ApiError("ALREADY_EXISTS", f"A file already exists at path={p}.")
        blocking = self._storage.first_file_ancestor(NS, p)
        if blocking is not None:
            raise ApiError("RESOURCE_CONFLICT", f"A file exists at {blocking}, where a directory is needed.")
        self._storage.mkdirs(NS, p)

    def delete_directory(self, path: str) -> None:
        """Delete an empty directory (the Files API never deletes recursively)."""
        d = self.directory(self.checked(path, write=True))
        if d.path in ROOTS:
            raise ApiError("PERMISSION_DENIED", f"The root directory {d.path} cannot be deleted.")
        if self._storage.list(NS, d.path):
            raise ApiError("DIRECTORY_NOT_EMPTY",
                           f"The directory is not empty. Delete its contents first. path={d.path}")
        self._storage.delete(NS, d.path)

    # -- pre-signed URLs -------------------------------------------------------------------
    def download_url(self, base_url: str, path: str) -> str:
        """A URL that GETs an existing file without credentials."""
        p = self.file(path).path
        return self.presigned.issue(base_url, NS, p, ("GET",))

    def upload_url(self, base_url: str, path: str) -> str:
        """A URL that PUTs (creates or replaces) one file without credentials."""
        p = self.checked(path, write=True)
        if self._storage.is_dir(NS, p):
            raise ApiError("ALREADY_EXISTS", f"A directory already exists at path={p}.")
        return self.presigned.issue(base_url, NS, p, ("PUT",))


# -- page tokens: opaque to clients, bound to the directory they list -------------------------
def _encode_token(directory: str, after: str) -> str:
    import base64
    import json
    raw = json.dumps({"d": directory, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, directory: str) -> str:
    import base64
    import json
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        obj = json.loads(raw)
        d, after = obj["d"], obj["a"]
    except (ValueError, KeyError, TypeError):
        raise invalid(f"Invalid page_token: {token}") from None
    if posixpath.normpath(d) != directory or not isinstance(after, str):
        raise invalid("The page_token was issued for another directory listing.")
    return after
