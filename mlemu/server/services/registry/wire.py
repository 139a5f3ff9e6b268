"""Request models and response shapes of the registry, for both surfaces.

Each entity is rendered from the one domain object in :mod:`.state`, once per surface:

* mlflow's UC proto (``databricks_uc_registry_messages.proto``): :func:`registered_model`,
  :func:`model_version` - versions as strings, ``description``, ``user_id``...;
* the SDK's catalog API (``RegisteredModelInfo``, ``ModelVersionInfo``,
  ``RegisteredModelAlias``): :func:`registered_model_info`, :func:`model_version_info` -
  versions as integers, ``comment``, ``created_by``...

Search/list answers leave aliases and tags out, as Unity Catalog does (mlflow's
``*_search_from_uc_proto`` and the SDK's list docs both say so).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, Union

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs

if TYPE_CHECKING:
    from mlemu.server.services.registry.state import ModelVersion, RegisteredModel


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Tag(_Args):
    key: str = ""
    value: Optional[str] = None


# -- mlflow /api/2.0/mlflow/unity-catalog/* ------------------------------------------------

class NameArgs(_Args):
    name: str


class CreateRegisteredModel(NameArgs):
    description: Optional[str] = None
    tags: list[Tag] = []
    deployment_job_id: Optional[str] = None


class UpdateRegisteredModel(NameArgs):
    new_name: Optional[str] = None
    description: Optional[str] = None
    deployment_job_id: Optional[str] = None


class SearchArgs(_Args):
    filter: Optional[str] = None
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class SetTag(NameArgs):
    key: str
    value: Optional[str] = None


class DeleteTag(NameArgs):
    key: str


class Dependency(_Args):
    type: Optional[str] = None
    name: Optional[str] = None


class CreateModelVersion(NameArgs):
    source: str
    run_id: Optional[str] = None
    description: Optional[str] = None
    run_tracking_server_id: Optional[str] = None
    feature_deps: Optional[str] = None
    tags: list[Tag] = []
    model_version_dependencies: list[Dependency] = []
    model_id: Optional[str] = None


class VersionArgs(NameArgs):
    version: Union[str, int]


class UpdateModelVersion(VersionArgs):
    description: Optional[str] = None


class SetVersionTag(VersionArgs):
    key: str
    value: Optional[str] = None


class DeleteVersionTag(VersionArgs):
    key: str


class AliasArgs(NameArgs):
    alias: str


class SetAlias(AliasArgs):
    version: Union[str, int]


class TemporaryCredentials(VersionArgs):
    operation: Optional[str] = None


class EmitLineage(VersionArgs):
    model_version_lineage_info: Optional[dict[str, Any]] = None


# -- SDK /api/2.1/unity-catalog/models* ----------------------------------------------------

class CreateModelInfo(_Args):
    name: Optional[str] = None
    catalog_name: Optional[str] = None
    schema_name: Optional[str] = None
    full_name: Optional[str] = None
    comment: Optional[str] = None


class UpdateModelInfo(_Args):
    new_name: Optional[str] = None
    comment: Optional[str] = None
    owner: Optional[str] = None


class ListModels(_Args):
    catalog_name: Optional[str] = None
    schema_name: Optional[str] = None
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class ListVersions(_Args):
    max_results: Optional[int] = None
    page_token: Optional[str] = None


class IncludeAliases(_Args):
    include_aliases: bool = False


class SetAliasInfo(_Args):
    version_num: int


class UpdateVersionInfo(_Args):
    comment: Optional[str] = None


# -- mlflow shapes ---------------------------------------------------------------------------

def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def registered_model(m: "RegisteredModel", *, search: bool = False,
                     deployment_state: str | None = None) -> dict[str, Any]:
    """``RegisteredModel`` of the UC registry proto (``deployment_state``: its deployment
    job's connection, MLflow 3)."""
    out: dict[str, Any] = {
        "name": m.full_name,
        "creation_timestamp": m.audit.created_at,
        "last_updated_timestamp": m.audit.updated_at,
        "user_id": m.audit.created_by,
        "description": m.description,
    }
    if not search:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in m.sorted_aliases()]
        out["tags"] = _tags(m.tags)
    if m.deployment_job_id:
        out["deployment_job_id"] = m.deployment_job_id
    if deployment_state:
        out["deployment_job_state"] = deployment_state
    return out


def model_version(mv: "ModelVersion", *, search: bool = False,
                  deployment_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """``ModelVersion`` of the UC registry proto (``deployment_state``: the version's
    deployment job run, MLflow 3)."""
    out: dict[str, Any] = {
        "name": mv.full_name,
        "version": str(mv.version),
        "creation_timestamp": mv.audit.created_at,
        "last_updated_timestamp": mv.audit.updated_at,
        "user_id": mv.audit.created_by,
        "description": mv.description,
        "source": mv.source,
        "status": mv.status,
        "storage_location": mv.storage_location,
    }
    for key in ("run_id", "run_experiment_id", "run_tracking_server_id", "status_message", "model_id"):
        value = getattr(mv, key)
        if value:
            out[key] = value
    if not search:
        out["aliases"] = [{"alias": a, "version": str(mv.version)} for a in mv.aliases]
        out["tags"] = _tags(mv.tags)
    if deployment_state:
        out["deployment_job_state"] = deployment_state
    return out


# -- SDK shapes ------------------------------------------------------------------------------

def _audit(a: Any) -> dict[str, Any]:
    return {"created_at": a.created_at, "created_by": a.created_by,
            "updated_at": a.updated_at, "updated_by": a.updated_by}


def alias_info(m: "RegisteredModel", alias: str, version: int) -> dict[str, Any]:
    """``RegisteredModelAlias`` of the SDK."""
    return {"alias_name": alias, "version_num": version, "catalog_name": m.catalog,
            "schema_name": m.schema, "model_name": m.name}


def registered_model_info(m: "RegisteredModel", metastore_id: str, *,
                          include_aliases: bool = True) -> dict[str, Any]:
    """``RegisteredModelInfo`` of the SDK."""
    out: dict[str, Any] = {
        "name": m.name, "catalog_name": m.catalog, "schema_name": m.schema,
        "full_name": m.full_name, "owner": m.owner, "metastore_id": metastore_id,
        "storage_location": m.storage_location, "browse_only": False, **_audit(m.audit),
    }
    if m.description:
        out["comment"] = m.description
    if include_aliases:
        out["aliases"] = [alias_info(m, a, v) for a, v in m.sorted_aliases()]
    return out


_DEPENDENCY_KIND = {"DATABRICKS_TABLE": ("table", "table_full_name"),
                    "DATABRICKS_UC_FUNCTION": ("function", "function_full_name"),
                    "DATABRICKS_UC_CONNECTION": ("connection", "connection_name")}


def model_version_info(mv: "ModelVersion", metastore_id: str, *,
                       include_aliases: bool = False) -> dict[str, Any]:
    """``ModelVersionInfo`` of the SDK."""
    m = mv.model
    out: dict[str, Any] = {
        "model_name": m.name, "catalog_name": m.catalog, "schema_name": m.schema,
        "version": mv.version, "id": mv.id, "source": mv.source, "status": mv.status,
        "storage_location": mv.storage_location, "metastore_id": metastore_id, **_audit(mv.audit),
    }
    if mv.description:
        out["comment"] = mv.description
    if mv.run_id:
        out["run_id"] = mv.run_id
    if (mv.run_tracking_server_id.isascii() and mv.run_tracking_server_id.isdigit()
            and len(mv.run_tracking_server_id) <= 18):
        out["run_workspace_id"] = int(mv.run_tracking_server_id)
    deps = [{kind: {field: d.get("name")}} for d in mv.dependencies
            for kind, field in [_DEPENDENCY_KIND.get(str(d.get("type")), (None, None))] if kind]
    if deps:
        out["model_version_dependencies"] = {"dependencies": deps}
    if include_aliases:
        out["aliases"] = [alias_info(m, a, mv.version) for a in mv.aliases]
    return out
