"""The Unity Catalog model registry's state as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md).

Schema (``registry``)::

    {"models": [{<RegisteredModel fields but versions>, "versions": [{<ModelVersion fields
                 but model>}]}], "sdk_models_artifact_repository_enabled": bool}

A version's ``model`` (its back-reference) is set when the model is rebuilt.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import StateDataError, dump_fields, field, load_as, load_fields
from mlemu.server.services.registry.state import ModelVersion, RegisteredModel, Registry

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "registry"
#: Loaded after these services (it registers itself as schema contents of Unity Catalog).
AFTER = ("unity_catalog",)


def dump(state: Registry) -> dict[str, Any]:
    models = []
    for key in state._models:
        m = state._models[key]
        d = dump_fields(m, exclude=("versions",))
        d["versions"] = [dump_fields(v, exclude=("model",)) for v in m.versions.values()]
        models.append(d)
    return {"models": models,
            "sdk_models_artifact_repository_enabled": state.sdk_models_artifact_repository_enabled}


def load(ws: "WorkspaceState", data: Any) -> Registry:
    state = Registry(ws)
    state.sdk_models_artifact_repository_enabled = load_as(
        bool, data.get("sdk_models_artifact_repository_enabled", True) if isinstance(data, dict) else None,
        f"{WHERE}.sdk_models_artifact_repository_enabled")
    for i, raw in enumerate(field(data, "models", list, WHERE)):
        where = f"{WHERE}.models[{i}]"
        versions = field(raw, "versions", list, where)
        model = load_fields(RegisteredModel, {k: v for k, v in raw.items() if k != "versions"}, where,
                            exclude=("versions",))
        for j, rv in enumerate(versions):
            mv = load_fields(ModelVersion, rv, f"{where}.versions[{j}]", exclude=("model",), model=model)
            model.versions[mv.version] = mv
        key = (model.catalog, model.schema, model.name)
        if key in state._models:
            raise StateDataError(where, f"model {model.full_name} appears twice")
        state._models[key] = model
    return state
