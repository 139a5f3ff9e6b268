"""The MLflow artifacts service keeps no state of its own (artifacts are storage; their
credentials are the Files API's grants): its saved form is ``{}``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import require
from mlemu.server.services.mlflow_artifacts.state import MlflowArtifacts

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState


def dump(state: MlflowArtifacts) -> dict[str, Any]:
    return {}


def load(ws: "WorkspaceState", data: Any) -> MlflowArtifacts:
    require(data, dict, "mlflow_artifacts")
    return MlflowArtifacts(ws)
