"""Request models and response shapes of the workspace model registry.

The request messages that are the same proto messages as the UC registry's (name, version,
tags, search paging) come from :mod:`mlemu.server.services.registry.wire`. Shapes follow
``model_registry.proto`` (``RegisteredModel``, ``ModelVersion``) and the SDK's Databricks
variants (``ModelDatabricks``, ``ModelVersionDatabricks``, ``Activity``, ``CommentObject``);
empty fields are left out as proto3 JSON does.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from mlemu.server.services.registry.wire import (  # noqa: F401  (re-exported request models)
    DeleteTag, DeleteVersionTag, NameArgs, SearchArgs, SetTag, SetVersionTag, Tag,
    UpdateModelVersion, VersionArgs, _Args,
)
from mlemu.server.services.workspace_registry.state import (
    COMMENT_ACTIONS, OWNER_PERMISSION, REQUEST_ACTIONS,
)

if TYPE_CHECKING:
    from mlemu.server.services.workspace_registry.state import (
        Activity, Comment, WsModelVersion, WsRegisteredModel,
    )


class CreateModel(NameArgs):
    description: Optional[str] = None
    tags: list[Tag] = []


class UpdateModel(NameArgs):
    description: Optional[str] = None


class RenameModel(NameArgs):
    new_name: Optional[str] = None


class SearchModels(SearchArgs):
    order_by: list[str] = []


#: ``model-versions/search`` takes the same parameters (``order_by`` over version columns).
SearchVersions = SearchModels


class ListModels(_Args):
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class LatestVersions(NameArgs):
    stages: list[str] = []


class CreateVersion(NameArgs):
    source: str
    run_id: Optional[str] = None
    run_link: Optional[str] = None
    description: Optional[str] = None
    tags: list[Tag] = []
    model_id: Optional[str] = None


class TransitionStage(VersionArgs):
    stage: str
    archive_existing_versions: bool = False
    comment: Optional[str] = None


class TransitionRequest(VersionArgs):
    stage: str
    comment: Optional[str] = None


class ApproveRequest(TransitionRequest):
    archive_existing_versions: bool = False


class DeleteRequest(TransitionRequest):
    creator: str


class ArtifactArgs(VersionArgs):
    path: Optional[str] = None
    page_token: Optional[str] = None


class CreateComment(VersionArgs):
    comment: str


class UpdateComment(_Args):
    id: str
    comment: str


class CommentId(_Args):
    id: str


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def _drop_empty(out: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in out.items() if v not in ("", None, [])}


def model_version(mv: "WsModelVersion") -> dict[str, Any]:
    """``ModelVersion`` of ``model_registry.proto``."""
    return _drop_empty({
        "name": mv.name, "version": str(mv.version),
        "creation_timestamp": mv.creation_timestamp,
        "last_updated_timestamp": mv.last_updated_timestamp,
        "user_id": mv.user_id, "current_stage": mv.current_stage, "description": mv.description,
        "source": mv.source, "run_id": mv.run_id, "run_link": mv.run_link, "status": mv.status,
        "status_message": mv.status_message, "tags": _tags(mv.tags), "model_id": mv.model_id,
    })


def registered_model(m: "WsRegisteredModel", latest: list["WsModelVersion"]) -> dict[str, Any]:
    """``RegisteredModel`` of ``model_registry.proto``; ``latest``: one version per stage."""
    return _drop_empty({
        "name": m.name, "creation_timestamp": m.creation_timestamp,
        "last_updated_timestamp": m.last_updated_timestamp, "user_id": m.user_id,
        "description": m.description, "latest_versions": [model_version(v) for v in latest],
        "tags": _tags(m.tags),
    })


def model_databricks(m: "WsRegisteredModel", latest: list["WsModelVersion"]) -> dict[str, Any]:
    """``ModelDatabricks`` (``databricks/registered-models/get``): adds id and permission level."""
    return {**registered_model(m, latest), "id": m.id, "permission_level": OWNER_PERMISSION}


def activity(a: "Activity") -> dict[str, Any]:
    return _drop_empty({
        "id": a.id, "activity_type": a.activity_type, "user_id": a.user_id,
        "creation_timestamp": a.creation_timestamp, "last_updated_timestamp": a.last_updated_timestamp,
        "from_stage": a.from_stage, "to_stage": a.to_stage, "comment": a.comment,
        "system_comment": a.system_comment,
    })


def transition_request(a: "Activity") -> dict[str, Any]:
    """``TransitionRequest`` (the answer of ``transition-requests/create``)."""
    return _drop_empty({
        "to_stage": a.to_stage, "user_id": a.user_id, "creation_timestamp": a.creation_timestamp,
        "comment": a.comment, "available_actions": list(REQUEST_ACTIONS),
    })


def model_version_databricks(mv: "WsModelVersion") -> dict[str, Any]:
    """``ModelVersionDatabricks`` (``databricks/model-versions/transition-stage``)."""
    return _drop_empty({
        **model_version(mv), "permission_level": OWNER_PERMISSION,
        "open_requests": [activity(a) for a in mv.open_requests],
    })


def comment(c: "Comment") -> dict[str, Any]:
    return _drop_empty({
        "id": c.id, "comment": c.comment, "user_id": c.user_id,
        "creation_timestamp": c.creation_timestamp,
        "last_updated_timestamp": c.last_updated_timestamp,
        "available_actions": list(COMMENT_ACTIONS),
    })

