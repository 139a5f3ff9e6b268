"""The workspace model registry's state as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md).

Schema (``workspace_registry``)::

    {"models": [{<WsRegisteredModel fields but versions>,
                 "versions": [{<WsModelVersion fields but model>}]}],
     "comments": [{<Comment fields but version>, "model": name, "version": number}]}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import StateDataError, dump_fields, field, load_fields
from mlemu.server.services.workspace_registry.state import (
    Comment, WorkspaceRegistry, WsModelVersion, WsRegisteredModel,
)

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "workspace_registry"


def dump(state: WorkspaceRegistry) -> dict[str, Any]:
    models = []
    for m in state._models.values():
        d = dump_fields(m, exclude=("versions",))
        d["versions"] = [dump_fields(v, exclude=("model",)) for v in m.versions.values()]
        models.append(d)
    comments = [{**dump_fields(c, exclude=("version",)), "model": c.version.model.name,
                 "version": c.version.version} for c in state._comments.values()]
    return {"models": models, "comments": comments}


def load(ws: "WorkspaceState", data: Any) -> WorkspaceRegistry:
    state = WorkspaceRegistry(ws)
    for i, raw in enumerate(field(data, "models", list, WHERE)):
        where = f"{WHERE}.models[{i}]"
        versions = field(raw, "versions", list, where)
        model = load_fields(WsRegisteredModel, {k: v for k, v in raw.items() if k != "versions"}, where,
                            exclude=("versions",))
        for j, rv in enumerate(versions):
            mv = load_fields(WsModelVersion, rv, f"{where}.versions[{j}]", exclude=("model",), model=model)
            model.versions[mv.version] = mv
        if model.name in state._models:
            raise StateDataError(where, f"model {model.name!r} appears twice")
        state._models[model.name] = model
    for i, raw in enumerate(field(data, "comments", list, WHERE)):
        where = f"{WHERE}.comments[{i}]"
        name, number = field(raw, "model", str, where), field(raw, "version", int, where)
        mv = state._models[name].versions.get(number) if name in state._models else None
        if mv is None:
            raise StateDataError(where, f"a comment on a version that does not exist ({name} v{number})")
        rest = {k: v for k, v in raw.items() if k not in ("model", "version")}
        c = load_fields(Comment, rest, where, exclude=("version",), version=mv)
        state._comments[c.id] = c
    return state
