"""Request models of the UI-only paths."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class GraphQLArgs(_Args):
    query: str
    variables: Optional[dict[str, Any]] = None
    operationName: Optional[str] = None  # noqa: N815 - the wire name


class TraceArtifactArgs(_Args):
    request_id: Optional[str] = None
    path: Optional[str] = None


class RunArtifactArgs(_Args):
    run_id: Optional[str] = None
    run_uuid: Optional[str] = None
    path: Optional[str] = None


class VersionArtifactArgs(_Args):
    name: str
    version: str
    path: Optional[str] = None


class ModelArtifactArgs(_Args):
    artifact_file_path: Optional[str] = None


class HistoryBulkArgs(_Args):
    run_id: list[str] = []
    metric_key: Optional[str] = None
    max_results: Optional[int] = None


class SearchDatasetsArgs(_Args):
    experiment_ids: list[str] = []


class SearchExperimentsArgs(_Args):
    max_results: Optional[int] = None
    page_token: Optional[str] = None
    filter: Optional[str] = None
    order_by: list[str] = []
    view_type: Optional[str] = None


class SearchModelsArgs(_Args):
    filter: Optional[str] = None
    order_by: list[str] = []
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class NameArgs(_Args):
    name: str


class VersionArgs(_Args):
    name: str
    version: str
