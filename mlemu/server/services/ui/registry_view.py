"""The model registry as the MLflow UI browses it: the workspace-registry paths it calls
(``registered-models/search``, ``model-versions/get`` ...) answered over both registries of
the workspace: Unity Catalog models by their three-level names, and the workspace registry.

The UI reads ``latest_versions`` and ``aliases`` from search answers (which UC's own search
leaves out), and sends a prompt-tag filter on ``model-versions/search`` that must get an
empty list rather than a 400.
"""
from __future__ import annotations

import re
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from mlemu.server.core.storage import Namespace
from mlemu.server.services.registry import wire as uc_wire
from mlemu.server.services.workspace_registry import search as ws_search
from mlemu.server.services.workspace_registry import wire as ws_wire

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState
    from mlemu.server.services.registry.state import ModelVersion, RegisteredModel


def is_uc_model(ws: "WorkspaceState", name: str | None) -> bool:
    return bool(name) and name.count(".") == 2 and ws.registry.has_model(name)  # type: ignore[union-attr]


def _uc_versions(m: "RegisteredModel") -> list["ModelVersion"]:
    return [m.versions[v] for v in sorted(m.versions, reverse=True)]


def uc_model(m: "RegisteredModel") -> dict[str, Any]:
    """A UC model with what the UI's list and model pages read: aliases, tags, latest version."""
    out = uc_wire.registered_model(m)
    newest = _uc_versions(m)[:1]
    if newest:
        out["latest_versions"] = [uc_wire.model_version(newest[0])]
    return out


def _ws_model(ws: "WorkspaceState", m: Any) -> dict[str, Any]:
    return ws_wire.registered_model(m, ws.workspace_registry.latest_versions(m.name))


_PROMPT_CLAUSE = re.compile(
    r"(?i)(\s+AND\s+)?\btags?\.`?mlflow\.prompt\.is_prompt`?\s*(!=|<>|=)\s*'true'(\s+AND\s+)?")


def _without_prompt_clause(filter_string: str | None) -> tuple[str | None, bool]:
    """The filter without the UI's prompt clause, and whether it asked for prompts only
    (mlemu's registries hold no prompts, so that finds nothing)."""
    if not filter_string:
        return filter_string, False
    m = _PROMPT_CLAUSE.search(filter_string)
    if m is None:
        return filter_string, False
    rest = filter_string[:m.start()] + (" AND " if m.group(1) and m.group(3) else "") + filter_string[m.end():]
    return rest.strip() or None, m.group(2) == "="


def search_models(ws: "WorkspaceState", filter_string: str | None, order_by: list[str]) -> list[dict[str, Any]]:
    """Both registries' models matching the workspace-registry filter grammar, in order."""
    filter_string, prompts_only = _without_prompt_clause(filter_string)
    if prompts_only:
        return []
    match = ws_search.model_predicate(filter_string)
    order = ws_search.model_order(order_by)
    entries: list[Any] = [SimpleNamespace(name=m.name, tags=m.tags,
                                          last_updated_timestamp=m.last_updated_timestamp,
                                          render=lambda m=m: _ws_model(ws, m))
                          for m in ws.workspace_registry.list_models()]
    entries += [SimpleNamespace(name=m.full_name, tags=m.tags, last_updated_timestamp=m.audit.updated_at,
                                render=lambda m=m: uc_model(m))
                for m in ws.registry.list_models()]
    return [e.render() for e in order([e for e in entries if match(e)])]


def get_model(ws: "WorkspaceState", name: str) -> dict[str, Any]:
    if is_uc_model(ws, name):
        return uc_model(ws.registry.get_model(name))
    return _ws_model(ws, ws.workspace_registry.get_model(name))


def get_version(ws: "WorkspaceState", name: str, version: str) -> dict[str, Any]:
    if is_uc_model(ws, name):
        return uc_wire.model_version(ws.registry.get_version(name, version))
    return ws_wire.model_version(ws.workspace_registry.get_version(name, version))


def search_versions(ws: "WorkspaceState", filter_string: str | None) -> list[dict[str, Any]]:
    """Versions matching ``filter``; a filter on prompt tags (the UI's prompt pages) finds none."""
    filter_string, prompts_only = _without_prompt_clause(filter_string)
    if prompts_only:
        return []
    match = ws_search.version_predicate(filter_string)
    out = [ws_wire.model_version(v) for v in ws.workspace_registry.search_versions(match)]
    for m in ws.registry.list_models():
        for mv in _uc_versions(m):
            if match(SimpleNamespace(name=m.full_name, run_id=mv.run_id, tags=mv.tags)):
                out.append(uc_wire.model_version(mv))
    return out


def versions_of_run(ws: "WorkspaceState", run_id: str) -> list[dict[str, Any]]:
    """Every registered version made from this run (the run page's "Registered models")."""
    return search_versions(ws, f"run_id = '{run_id}'")


def version_files(ws: "WorkspaceState", name: str, version: str) -> tuple[Namespace, str]:
    """Where a version's files are stored."""
    if is_uc_model(ws, name):
        return "files", ws.registry.get_version(name, version).files_path
    return "dbfs", ws.workspace_registry.files_root(name, version).files_path


def registry_of(ws: "WorkspaceState", name: str) -> Any:
    """The registry holding ``name``, for the UI's edits (description, tags, aliases): the UC
    registry for a UC model's three-level name, else the workspace registry (whose own rules
    then apply, including RESOURCE_DOES_NOT_EXIST for unknown names)."""
    return ws.registry if is_uc_model(ws, name) else ws.workspace_registry
