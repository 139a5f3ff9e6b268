"""Where the bytes behind an MLflow artifact URI are stored: the ONE mapping from artifact
URIs to workspace storage, shared by every route that reads or writes MLflow artifacts.

Databricks keeps MLflow-managed artifacts under ``dbfs:/databricks/mlflow-tracking/...`` in
name only: the bytes live in the Files namespace, where mlflow 3 writes them directly
(``/WorkspaceInternal/Mlflow/Artifacts/...``, the same paths mlflow computes client-side);
mlflow 2 reaches the same files through pre-signed credentials. Any other ``dbfs:/`` location
is plain DBFS (``/Volumes/...`` being UC volume files).
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from mlemu.server.core.errors import invalid
from mlemu.server.core.storage import Namespace, dbfs_location

# The same patterns mlflow uses to pick its Files-API repositories (databricks_*_artifact_repo.py).
_TRACKING = r"^/databricks/mlflow-tracking/(?P<exp>[^/]+)/"
_LOGGED_MODEL = re.compile(_TRACKING + r"logged_models/(?P<id>[^/]+)(?P<rest>/.*)?$")
_TRACE = re.compile(_TRACKING + r"(?P<id>tr-[^/]+)(?P<rest>/.*)?$")
_RUN = re.compile(_TRACKING + r"(?P<id>(?!tr-|logged_models)[^/]+)(?P<rest>/.*)?$")

_FILES_ROOT = "/WorkspaceInternal/Mlflow/Artifacts"


def artifact_storage(artifact_uri: str) -> tuple[Namespace, str]:
    """The storage ``(namespace, absolute path)`` behind an artifact URI.

    ``dbfs:/databricks/mlflow-tracking/<exp>/<run>/artifacts[/p]``
        -> files ``/WorkspaceInternal/Mlflow/Artifacts/<exp>/Runs/<run>/artifacts[/p]``
    ``dbfs:/databricks/mlflow-tracking/<exp>/logged_models/<id>/artifacts[/p]``
        -> files ``/WorkspaceInternal/Mlflow/Artifacts/<exp>/LoggedModels/<id>/artifacts[/p]``
    ``dbfs:/databricks/mlflow-tracking/<exp>/tr-<id>[/p]``
        -> files ``/WorkspaceInternal/Mlflow/Artifacts/<exp>/Traces/tr-<id>[/p]``
    ``dbfs:/Volumes/...`` -> files ``/Volumes/...``;  any other ``dbfs:/p`` -> dbfs ``/p``.
    """
    parts = urlsplit(artifact_uri or "")
    if parts.scheme != "dbfs":
        raise invalid(f"The artifact location {artifact_uri!r} is not stored in this workspace "
                      "(only dbfs:/ locations are).")
    # dbfs://<profile>@databricks/<path> names a workspace; the path is what counts.
    ns, path = dbfs_location(parts.path if parts.netloc else artifact_uri[len("dbfs:"):])
    if ns != "dbfs":
        return ns, path
    for pattern, kind in ((_LOGGED_MODEL, "LoggedModels"), (_TRACE, "Traces"), (_RUN, "Runs")):
        m = pattern.match(path)
        if m:
            return "files", f"{_FILES_ROOT}/{m['exp']}/{kind}/{m['id']}{m['rest'] or ''}"
    return ns, path
