"""MLflow artifact access through the Databricks artifacts service: pre-signed credentials
for a run's or logged model's artifact paths, and listings relative to their artifact root.

Runs and logged models are looked up through the tracking service's public contract
(``ws.tracking.get_run(id).info.artifact_uri``, ``ws.tracking.get_logged_model(id)...``);
their artifact URI is mapped to storage by :func:`.locations.artifact_storage`.
"""
from __future__ import annotations

import base64
import json
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlemu.server.core.errors import invalid
from mlemu.server.core.storage import FileInfo, Namespace
from mlemu.server.services.mlflow_artifacts.locations import artifact_storage
from mlemu.server.core.paging import Page

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

#: Entries per page of an artifact listing (the client follows ``next_page_token``).
LIST_PAGE_SIZE = 1000
#: Pre-signed artifact credentials are valid this long (AWS-style short-lived URLs).
CREDENTIAL_TTL_MS = 15 * 60 * 1000


@dataclass(frozen=True)
class ArtifactRoot:
    """The artifact root of a run or logged model, and where its bytes are stored."""

    uri: str
    namespace: Namespace
    path: str

    def storage_path(self, relative: str) -> str:
        return self.path if not relative else f"{self.path}/{relative}"


@dataclass(frozen=True)
class ArtifactEntry:
    path: str  # relative to the artifact root
    is_dir: bool
    file_size: int


def relative_path(path: str | None, name: str = "path") -> str:
    """A clean artifact path relative to the root ("" for the root); ``..`` is refused, in
    mlflow's server's words ("Invalid path")."""
    p = (path or "").replace("\\", "/")
    segments = [s for s in p.split("/") if s and s != "."]
    if any(s == ".." for s in segments) or "\x00" in p:
        raise invalid("Invalid path")
    return "/".join(segments)


class MlflowArtifacts:
    """Per-workspace rules of the MLflow artifacts service (it keeps no state of its own)."""

    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws

    # -- roots -----------------------------------------------------------------------------
    def run_root(self, run_id: str) -> ArtifactRoot:
        if not run_id:
            raise invalid("Missing value for required parameter 'run_id'.")
        uri = self._ws.tracking.get_run(run_id).info.artifact_uri
        return ArtifactRoot(uri, *artifact_storage(uri))

    def model_root(self, model_id: str) -> ArtifactRoot:
        uri = self._ws.tracking.get_logged_model(model_id).info.artifact_uri
        return ArtifactRoot(uri, *artifact_storage(uri))

    # -- credentials -----------------------------------------------------------------------
    def credentials(self, root: ArtifactRoot, paths: list[str], write: bool,
                    base_url: str) -> list[tuple[str, str]]:
        """``(path, signed_uri)`` for each artifact path: a PUT (write) or GET URL for that file only."""
        cleaned = [relative_path(p) for p in paths]
        for original, p in zip(paths, cleaned):
            if not p:
                raise invalid(f"Invalid value {original!r} for parameter 'path': a file path is required.")
        method = "PUT" if write else "GET"
        presigned = self._ws.files.presigned
        return [(orig, presigned.issue(base_url, root.namespace, root.storage_path(p), (method,),
                                       ttl_ms=CREDENTIAL_TTL_MS))
                for orig, p in zip(paths, cleaned)]

    # -- listing ---------------------------------------------------------------------------
    def list(self, root: ArtifactRoot, path: str | None,
             page_token: str | None = None) -> Page[ArtifactEntry]:
        """Direct children of ``path`` (relative to the root), or the single entry for a file."""
        rel = relative_path(path)
        storage = self._ws.storage
        target = root.storage_path(rel)
        st = storage.stat(root.namespace, target)
        if st is None:
            return Page([])
        if not st.is_dir:
            return Page([ArtifactEntry(rel, False, st.size)])
        entries = [self._entry(root, e) for e in storage.list(root.namespace, target) or []]
        start = 0
        if page_token:
            after = _decode_token(page_token, rel)
            start = next((i for i, e in enumerate(entries) if e.path > after), len(entries))
        page = entries[start:start + LIST_PAGE_SIZE]
        more = start + LIST_PAGE_SIZE < len(entries)
        return Page(page, _encode_token(rel, page[-1].path) if more and page else None)

    @staticmethod
    def _entry(root: ArtifactRoot, e: FileInfo) -> ArtifactEntry:
        return ArtifactEntry(posixpath.relpath(e.path, root.path), e.is_dir, e.size)


def _encode_token(directory: str, after: str) -> str:
    raw = json.dumps({"d": directory, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, directory: str) -> str:
    try:
        obj = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        d, after = obj["d"], obj["a"]
    except (ValueError, KeyError, TypeError):
        raise invalid(f"Invalid page_token: {token}") from None
    if d != directory or not isinstance(after, str):
        raise invalid("The page_token was issued for another listing.")
    return after
