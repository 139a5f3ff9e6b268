"""Routes of the Unity Catalog model registry.

* ``/api/2.0/mlflow/unity-catalog/*``: what mlflow 2.x/3.x call with
  ``registry_uri="databricks-uc"`` (UcModelRegistryService);
* ``/api/2.1/unity-catalog/models*``: the SDK's ``w.registered_models`` / ``w.model_versions``.

Both read and write the same :class:`~mlemu.server.services.registry.state.Registry`.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mlemu.server.core.errors import invalid
from mlemu.server.wire.service import Service
from mlemu.server.services.registry import wire
from mlemu.server.services.registry.state import Registry
from mlemu.server.services.unity_catalog.paging import page_size, paginate
from mlemu.server.wire.paging import page_body
from mlemu.server.wire.request import Request
from mlemu.server.wire.routing import RouteTable

routes = RouteTable("registry")

UC = "/api/2.0/mlflow/unity-catalog"
MODELS = "/api/2.1/unity-catalog/models"
LINEAGE_HEADER = "x-databricks-lineage-identifier"


def _reg(req: Request) -> Registry:
    return req.ws.registry


def _metastore(req: Request) -> str:
    return req.ws.unity_catalog.metastore_id


def _model(req: Request, m: Any) -> dict:
    """A registered model as mlflow reads it, with its deployment job's connection."""
    return wire.registered_model(m, deployment_state=_reg(req).deployment_connection(m))


def _version(req: Request, mv: Any) -> dict:
    """A model version as mlflow reads it, with its deployment job run's state."""
    return wire.model_version(mv, deployment_state=_reg(req).deployment_state(mv))


def _paged(items: list, size: int | None, token: str | None, key: str, render) -> dict:  # type: ignore[no-untyped-def]
    chunk, next_token = paginate(items, size, token)
    return page_body(key, [render(x) for x in chunk], next_token, keep_empty=True)


# == mlflow: registered models ==============================================================

@routes.post(f"{UC}/registered-models/create", "registered-models.create",
             body=wire.CreateRegisteredModel,
             client_calls=("MlflowClient.create_registered_model", "mlflow.register_model",
                           "mlflow.<flavor>.log_model(registered_model_name=)"))
def create_registered_model(req: Request) -> dict:
    a = req.args
    m = _reg(req).create_model(a.name, description=a.description,
                               tags=[(t.key, t.value) for t in a.tags],
                               deployment_job_id=a.deployment_job_id)
    return {"registered_model": _model(req, m)}


@routes.get(f"{UC}/registered-models/get", "registered-models.get", body=wire.NameArgs,
            client_calls=("MlflowClient.get_registered_model",
                          "MlflowClient.set_registered_model_alias",
                          "MlflowClient.delete_registered_model_alias"))
def get_registered_model(req: Request) -> dict:
    return {"registered_model": _model(req, _reg(req).get_model(req.args.name))}


@routes.patch(f"{UC}/registered-models/update", "registered-models.update",
              body=wire.UpdateRegisteredModel,
              client_calls=("MlflowClient.update_registered_model",
                            "MlflowClient.rename_registered_model"))
def update_registered_model(req: Request) -> dict:
    a = req.args
    m = _reg(req).update_model(a.name, description=a.description, new_name=a.new_name or None,
                               deployment_job_id=a.deployment_job_id)
    return {"registered_model": _model(req, m)}


@routes.delete(f"{UC}/registered-models/delete", "registered-models.delete", body=wire.NameArgs,
               client_calls=("MlflowClient.delete_registered_model",))
def delete_registered_model(req: Request) -> dict:
    _reg(req).delete_model(req.args.name)
    return {}


@routes.get(f"{UC}/registered-models/search", "registered-models.search", body=wire.SearchArgs,
            client_calls=("MlflowClient.search_registered_models", "mlflow.search_registered_models"))
def search_registered_models(req: Request) -> dict:
    a = req.args
    size = page_size(a.max_results, unset=None, zero=None, cap=None)
    return _paged(_reg(req).list_models(), size, a.page_token, "registered_models",
                  lambda m: wire.registered_model(m, search=True))


@routes.post(f"{UC}/registered-models/set-tag", "registered-models.set-tag", body=wire.SetTag,
             client_calls=("MlflowClient.set_registered_model_tag",))
def set_registered_model_tag(req: Request) -> dict:
    a = req.args
    _reg(req).set_model_tag(a.name, a.key, a.value)
    return {}


@routes.delete(f"{UC}/registered-models/delete-tag", "registered-models.delete-tag",
               body=wire.DeleteTag, client_calls=("MlflowClient.delete_registered_model_tag",))
def delete_registered_model_tag(req: Request) -> dict:
    a = req.args
    _reg(req).delete_model_tag(a.name, a.key)
    return {}


@routes.get(f"{UC}/registered-models:is-databricks-sdk-models-artifact-repository-enabled",
            "registered-models.is-sdk-artifact-repo-enabled",
            client_calls=("mlflow.register_model", "mlflow.pyfunc.load_model(models:/c.s.m/N)"))
def is_sdk_repo_enabled(req: Request) -> dict:
    return {"is_databricks_sdk_models_artifact_repository_enabled":
            bool(_reg(req).sdk_models_artifact_repository_enabled)}


# == mlflow: aliases ========================================================================

@routes.post(f"{UC}/registered-models/alias", "registered-models.alias.set", body=wire.SetAlias,
             client_calls=("MlflowClient.set_registered_model_alias",))
def set_alias(req: Request) -> dict:
    a = req.args
    _reg(req).set_alias(a.name, a.alias, a.version)
    return {}


@routes.delete(f"{UC}/registered-models/alias", "registered-models.alias.delete",
               body=wire.AliasArgs, client_calls=("MlflowClient.delete_registered_model_alias",))
def delete_alias(req: Request) -> dict:
    a = req.args
    _reg(req).delete_alias(a.name, a.alias)
    return {}


@routes.get(f"{UC}/registered-models/alias", "registered-models.alias.get", body=wire.AliasArgs,
            client_calls=("MlflowClient.get_model_version_by_alias",
                          "mlflow.pyfunc.load_model(models:/c.s.m@alias)"))
def get_by_alias(req: Request) -> dict:
    a = req.args
    return {"model_version": _version(req, _reg(req).get_version_by_alias(a.name, a.alias))}


# == mlflow: model versions =================================================================

@routes.post(f"{UC}/model-versions/create", "model-versions.create", body=wire.CreateModelVersion,
             client_calls=("MlflowClient.create_model_version", "mlflow.register_model",
                           "mlflow.<flavor>.log_model(registered_model_name=)"))
def create_model_version(req: Request) -> dict:
    a = req.args
    mv = _reg(req).create_version(
        a.name, a.source, run_id=a.run_id, run_tracking_server_id=a.run_tracking_server_id,
        description=a.description, tags=[(t.key, t.value) for t in a.tags], model_id=a.model_id,
        feature_deps=a.feature_deps,
        dependencies=[d.model_dump() for d in a.model_version_dependencies],
        lineage=_lineage(req.headers.get(LINEAGE_HEADER)))
    return {"model_version": _version(req, mv)}


@routes.post(f"{UC}/model-versions/finalize", "model-versions.finalize", body=wire.VersionArgs,
             client_calls=("MlflowClient.create_model_version", "mlflow.register_model"))
def finalize_model_version(req: Request) -> dict:
    a = req.args
    return {"model_version": _version(req, _reg(req).finalize_version(a.name, a.version))}


@routes.get(f"{UC}/model-versions/get", "model-versions.get", body=wire.VersionArgs,
            client_calls=("MlflowClient.get_model_version",))
def get_model_version(req: Request) -> dict:
    a = req.args
    return {"model_version": _version(req, _reg(req).get_version(a.name, a.version))}


@routes.patch(f"{UC}/model-versions/update", "model-versions.update", body=wire.UpdateModelVersion,
              client_calls=("MlflowClient.update_model_version",))
def update_model_version(req: Request) -> dict:
    a = req.args
    mv = _reg(req).update_version(a.name, a.version, description=a.description)
    return {"model_version": _version(req, mv)}


@routes.delete(f"{UC}/model-versions/delete", "model-versions.delete", body=wire.VersionArgs,
               client_calls=("MlflowClient.delete_model_version",))
def delete_model_version(req: Request) -> dict:
    a = req.args
    _reg(req).delete_version(a.name, a.version)
    return {}


@routes.get(f"{UC}/model-versions/search", "model-versions.search", body=wire.SearchArgs,
            client_calls=("MlflowClient.search_model_versions", "mlflow.search_model_versions"))
def search_model_versions(req: Request) -> dict:
    a = req.args
    size = page_size(a.max_results, unset=None, zero=None, cap=None)
    return _paged(_reg(req).search_versions(a.filter), size, a.page_token, "model_versions",
                  lambda mv: wire.model_version(mv, search=True))


@routes.post(f"{UC}/model-versions/set-tag", "model-versions.set-tag", body=wire.SetVersionTag,
             client_calls=("MlflowClient.set_model_version_tag",))
def set_model_version_tag(req: Request) -> dict:
    a = req.args
    _reg(req).set_version_tag(a.name, a.version, a.key, a.value)
    return {}


@routes.delete(f"{UC}/model-versions/delete-tag", "model-versions.delete-tag",
               body=wire.DeleteVersionTag, client_calls=("MlflowClient.delete_model_version_tag",))
def delete_model_version_tag(req: Request) -> dict:
    a = req.args
    _reg(req).delete_version_tag(a.name, a.version, a.key)
    return {}


@routes.get(f"{UC}/model-versions/get-download-uri", "model-versions.get-download-uri",
            body=wire.VersionArgs, client_calls=("MlflowClient.get_model_version_download_uri",))
def get_download_uri(req: Request) -> dict:
    a = req.args
    return {"artifact_uri": _reg(req).download_uri(a.name, a.version)}


@routes.post(f"{UC}/model-versions/generate-temporary-credentials",
             "model-versions.generate-temporary-credentials", body=wire.TemporaryCredentials,
             client_calls=("mlflow.register_model (SDK artifact repo disabled)",
                           "mlflow.pyfunc.load_model (SDK artifact repo disabled)"))
def generate_temporary_credentials(req: Request) -> dict:
    a = req.args
    return {"credentials": _reg(req).temporary_credentials(a.name, a.version, a.operation or "")}


@routes.post(f"{UC}/model-versions/emit-lineage", "model-versions.emit-lineage",
             body=wire.EmitLineage, client_calls=("mlflow.pyfunc.load_model(models:/c.s.m/N)",))
def emit_lineage(req: Request) -> dict:
    a = req.args
    _reg(req).emit_lineage(a.name, a.version)
    return {}


def _lineage(header: str | None) -> Any:
    """The decoded ``x-databricks-lineage-identifier`` (base64 JSON of notebook/job entities)."""
    if not header:
        return None
    try:
        return json.loads(base64.b64decode(header))
    except (ValueError, binascii.Error):
        return {"raw": header}


# == SDK: /api/2.1/unity-catalog/models ======================================================

@routes.post(MODELS, "models.create", body=wire.CreateModelInfo,
             client_calls=("WorkspaceClient.registered_models.create",))
def sdk_create_model(req: Request) -> dict:
    a = req.args
    if a.catalog_name and a.schema_name and a.name:
        full = f"{a.catalog_name}.{a.schema_name}.{a.name}"
    elif a.full_name:
        full = a.full_name
    else:
        missing = next(k for k in ("name", "catalog_name", "schema_name") if not getattr(a, k))
        raise invalid(f"Missing value for required parameter '{missing}'.")
    m = _reg(req).create_model(full, description=a.comment)
    return wire.registered_model_info(m, _metastore(req))


@routes.get(MODELS, "models.list", body=wire.ListModels,
            client_calls=("WorkspaceClient.registered_models.list",))
def sdk_list_models(req: Request) -> dict:
    a = req.args
    if a.catalog_name or a.schema_name:
        size = page_size(a.max_results, unset=10000, zero=10000, cap=10000)
    else:
        size = page_size(a.max_results, unset=100, zero=100, cap=1000)
    models = _reg(req).list_models(a.catalog_name, a.schema_name) \
        if (a.catalog_name or a.schema_name) else _reg(req).list_models()
    ms = _metastore(req)
    return _paged(models, size, a.page_token, "registered_models",
                  lambda m: wire.registered_model_info(m, ms, include_aliases=False))


@routes.get(f"{MODELS}/<full_name>", "models.get", body=wire.IncludeAliases,
            client_calls=("WorkspaceClient.registered_models.get",))
def sdk_get_model(req: Request, full_name: str) -> dict:
    return wire.registered_model_info(_reg(req).get_model(full_name), _metastore(req),
                                      include_aliases=req.args.include_aliases)


@routes.patch(f"{MODELS}/<full_name>", "models.update", body=wire.UpdateModelInfo,
              client_calls=("WorkspaceClient.registered_models.update",))
def sdk_update_model(req: Request, full_name: str) -> dict:
    a = req.args
    m = _reg(req).update_model(full_name, description=a.comment, new_name=a.new_name or None,
                               owner=a.owner)
    return wire.registered_model_info(m, _metastore(req))


@routes.delete(f"{MODELS}/<full_name>", "models.delete",
               client_calls=("WorkspaceClient.registered_models.delete",))
def sdk_delete_model(req: Request, full_name: str) -> dict:
    _reg(req).delete_model(full_name)
    return {}


@routes.put(f"{MODELS}/<full_name>/aliases/<alias>", "models.aliases.set", body=wire.SetAliasInfo,
            client_calls=("WorkspaceClient.registered_models.set_alias",))
def sdk_set_alias(req: Request, full_name: str, alias: str) -> dict:
    reg = _reg(req)
    mv = reg.set_alias(full_name, alias, req.args.version_num)
    return wire.alias_info(mv.model, alias.lower(), mv.version)


@routes.delete(f"{MODELS}/<full_name>/aliases/<alias>", "models.aliases.delete",
               client_calls=("WorkspaceClient.registered_models.delete_alias",))
def sdk_delete_alias(req: Request, full_name: str, alias: str) -> dict:
    _reg(req).delete_alias(full_name, alias)
    return {}


@routes.get(f"{MODELS}/<full_name>/aliases/<alias>", "models.aliases.get", body=wire.IncludeAliases,
            client_calls=("WorkspaceClient.model_versions.get_by_alias",))
def sdk_get_by_alias(req: Request, full_name: str, alias: str) -> dict:
    mv = _reg(req).get_version_by_alias(full_name, alias)
    return wire.model_version_info(mv, _metastore(req), include_aliases=req.args.include_aliases)


@routes.get(f"{MODELS}/<full_name>/versions", "models.versions.list", body=wire.ListVersions,
            client_calls=("WorkspaceClient.model_versions.list",))
def sdk_list_versions(req: Request, full_name: str) -> dict:
    a = req.args
    size = page_size(a.max_results, unset=100, zero=100, cap=1000)
    ms = _metastore(req)
    return _paged(_reg(req).list_versions(full_name), size, a.page_token, "model_versions",
                  lambda mv: wire.model_version_info(mv, ms))


@routes.get(f"{MODELS}/<full_name>/versions/<version>", "models.versions.get",
            body=wire.IncludeAliases, client_calls=("WorkspaceClient.model_versions.get",))
def sdk_get_version(req: Request, full_name: str, version: str) -> dict:
    mv = _reg(req).get_version(full_name, version)
    return wire.model_version_info(mv, _metastore(req), include_aliases=req.args.include_aliases)


@routes.patch(f"{MODELS}/<full_name>/versions/<version>", "models.versions.update",
              body=wire.UpdateVersionInfo, client_calls=("WorkspaceClient.model_versions.update",))
def sdk_update_version(req: Request, full_name: str, version: str) -> dict:
    mv = _reg(req).update_version(full_name, version, description=req.args.comment)
    return wire.model_version_info(mv, _metastore(req))


@routes.delete(f"{MODELS}/<full_name>/versions/<version>", "models.versions.delete",
               client_calls=("WorkspaceClient.model_versions.delete",))
def sdk_delete_version(req: Request, full_name: str, version: str) -> dict:
    _reg(req).delete_version(full_name, version)
    return {}


SERVICE = Service("registry", routes, state=Registry,
                  description="Unity Catalog model registry (mlflow databricks-uc and SDK models API)")
