"""Request models and response shapes of the MLflow artifacts service.

Run credentials are flat (``credential_infos[]``), logged-model credentials nested
(``credentials[].credential_info``). ``type`` must always be present: mlflow parses a
missing type as its first enum value, AZURE_SAS_URI, and uploads Azure-style.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs
from mlemu.server.services.mlflow_artifacts.state import ArtifactEntry

CREDENTIAL_TYPE = "AWS_PRESIGNED_URL"


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class RunCredentialsArgs(_Args):
    run_id: Optional[str] = None
    run_uuid: Optional[str] = None
    path: list[str] = []
    page_token: Optional[str] = None


class ModelCredentialsArgs(_Args):
    paths: list[str] = []
    page_token: Optional[str] = None


class ListArtifactsArgs(_Args):
    run_id: Optional[str] = None
    run_uuid: Optional[str] = None
    path: Optional[str] = None
    page_token: Optional[str] = None


class ListModelArtifactsArgs(_Args):
    artifact_directory_path: Optional[str] = None
    page_token: Optional[str] = None


def credential_info(path: str, signed_uri: str, **owner: str) -> dict[str, Any]:
    return {**owner, "path": path, "signed_uri": signed_uri, "type": CREDENTIAL_TYPE, "headers": []}


def file_info(e: ArtifactEntry) -> dict[str, Any]:
    """A listing entry; directories carry no ``file_size``."""
    if e.is_dir:
        return {"path": e.path, "is_dir": True}
    return {"path": e.path, "is_dir": False, "file_size": e.file_size}
