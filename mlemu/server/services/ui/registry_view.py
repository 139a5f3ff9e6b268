"""The model registry as the MLflow UI browses it: the workspace-registry paths it calls
(``registered-models/search``, ``model-versions/get`` ...) answered over both registries of
the workspace: Unity Catalog models by their three-level names, and the workspace registry.

The UI reads ``latest_versions`` and ``aliases`` from search answers (which UC's own search
leaves out). Its prompt pages send the same paths with a ``tags.`mlflow.prompt.is_prompt` =
'true'`` clause (and the model pages ``!= 'true'``): those are answered from the prompts held
in Unity Catalog (``ws.prompts``), each shown as mlflow's own server stores a prompt: a
registered model tagged ``mlflow.prompt.is_prompt``, whose versions carry the template in
``mlflow.prompt.text``.
"""
from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from mlemu.server.core.errors import invalid
from mlemu.server.core.patterns import like_regex
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
    """The filter without the UI's prompt clause, and whether it asked for prompts only."""
    if not filter_string:
        return filter_string, False
    m = _PROMPT_CLAUSE.search(filter_string)
    if m is None:
        return filter_string, False
    rest = filter_string[:m.start()] + (" AND " if m.group(1) and m.group(3) else "") + filter_string[m.end():]
    return rest.strip() or None, m.group(2) == "="


# -- prompts, as the UI's prompt pages read them ---------------------------------------------
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"
PROMPT_TEXT_TAG = "mlflow.prompt.text"


def _prompt_of(ws: "WorkspaceState", name: str | None) -> Any:
    """The UC prompt called ``name`` (a three-level name that is not a UC model), or None."""
    if not name or name.count(".") != 2 or is_uc_model(ws, name):
        return None
    return next((p for p in ws.prompts.prompts() if p.full_name == name), None)


def _prompt_model(p: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.full_name, "creation_timestamp": p.created_ms,
                           "last_updated_timestamp": p.updated_ms,
                           "tags": [{"key": k, "value": v} for k, v in
                                    sorted({**p.tags, IS_PROMPT_TAG: "true"}.items())]}
    if p.description:
        out["description"] = p.description
    if p.aliases:
        out["aliases"] = [{"alias": a, "version": str(v)} for a, v in sorted(p.aliases.items())]
    newest = max(p.versions, default=None)
    if newest is not None:
        out["latest_versions"] = [_prompt_version(p, p.versions[newest])]
    return out


def _prompt_text(template: str) -> str:
    """UC keeps a template JSON-encoded; mlflow's tag holds a text prompt's text as is and a
    chat prompt's messages as JSON."""
    try:
        value = json.loads(template)
    except ValueError:
        return template
    return value if isinstance(value, str) else json.dumps(value)


def _prompt_version_tags(v: Any) -> dict[str, str]:
    tags = {**v.tags, IS_PROMPT_TAG: "true", PROMPT_TEXT_TAG: _prompt_text(v.template)}
    if v.run_ids:
        tags[PROMPT_RUN_IDS_TAG] = ",".join(v.run_ids)
    return tags


def _prompt_version(p: Any, v: Any) -> dict[str, Any]:
    tags = _prompt_version_tags(v)
    out: dict[str, Any] = {"name": p.full_name, "version": str(v.version),
                           "creation_timestamp": v.created_ms, "last_updated_timestamp": v.updated_ms,
                           "current_stage": "None", "status": "READY",
                           "tags": [{"key": k, "value": t} for k, t in sorted(tags.items())]}
    if v.description:
        out["description"] = v.description
    aliases = p.aliases_of(v.version)
    if aliases:
        out["aliases"] = aliases
    return out


_PROMPT_FILTER_CLAUSE = re.compile(
    r"""\s*(name|tags?\.`[^`]+`|tags?\.[\w.]+)\s*(=|!=|LIKE|ILIKE)\s*('[^']*'|"[^"]*")\s*""", re.I)
#: A prompt version's runs, as the tag the UI's run page filters on (``ILIKE '%<run id>%'``).
PROMPT_RUN_IDS_TAG = "mlflow.prompt.run_ids"


def _prompt_predicate(filter_string: str | None) -> Any:
    """The prompt pages' filters: ``name`` or ``tags.<key>`` with ``= != LIKE ILIKE`` and a
    quoted value, joined by AND (the UI quotes with either quote)."""
    tests = []
    for part in re.split(r"(?i)\s+AND\s+", filter_string or "") if (filter_string or "").strip() else []:
        m = _PROMPT_FILTER_CLAUSE.fullmatch(part)
        if m is None:
            raise invalid(f"Invalid prompt filter '{filter_string}': expected name or tags.<key> with "
                          "=, !=, LIKE or ILIKE and a quoted value, joined by AND.")
        key, op, value = m.group(1), m.group(2).upper(), m.group(3)[1:-1]
        key = "name" if key.lower() == "name" else key.split(".", 1)[1].strip("`")
        if op in ("LIKE", "ILIKE"):
            rx = like_regex(value, op == "ILIKE")
            test = (lambda rx: lambda v: v is not None and rx.fullmatch(v) is not None)(rx)
        else:
            test = (lambda value, eq: lambda v: (v == value) == eq)(value, op == "=")
        tests.append((key, test))
    return lambda e: all(t(e.name if k == "name" else e.tags.get(k)) for k, t in tests)


def _prompt_entries(ws: "WorkspaceState") -> list[Any]:
    return [SimpleNamespace(name=p.full_name, tags={**p.tags, IS_PROMPT_TAG: "true"},
                            last_updated_timestamp=p.updated_ms, render=lambda p=p: _prompt_model(p))
            for p in ws.prompts.prompts()]


def search_models(ws: "WorkspaceState", filter_string: str | None, order_by: list[str]) -> list[dict[str, Any]]:
    """Both registries' models matching the workspace-registry filter grammar, in order; with
    the prompt clause ``= 'true'``, the workspace's prompts instead."""
    filter_string, prompts_only = _without_prompt_clause(filter_string)
    order = ws_search.model_order(order_by)
    if prompts_only:
        match = _prompt_predicate(filter_string)
        return [e.render() for e in order([e for e in _prompt_entries(ws) if match(e)])]
    match = ws_search.model_predicate(filter_string)
    entries: list[Any] = [SimpleNamespace(name=m.name, tags=m.tags,
                                          last_updated_timestamp=m.last_updated_timestamp,
                                          render=lambda m=m: _ws_model(ws, m))
                          for m in ws.workspace_registry.list_models()]
    entries += [SimpleNamespace(name=m.full_name, tags=m.tags, last_updated_timestamp=m.audit.updated_at,
                                render=lambda m=m: uc_model(m))
                for m in ws.registry.list_models()]
    return [e.render() for e in order([e for e in entries if match(e)])]


def get_model(ws: "WorkspaceState", name: str) -> dict[str, Any]:
    prompt = _prompt_of(ws, name)
    if prompt is not None:
        return _prompt_model(prompt)
    if is_uc_model(ws, name):
        return uc_model(ws.registry.get_model(name))
    return _ws_model(ws, ws.workspace_registry.get_model(name))


def get_version(ws: "WorkspaceState", name: str, version: str) -> dict[str, Any]:
    if _prompt_of(ws, name) is not None:
        p, v = ws.prompts.get_version(name, version)
        return _prompt_version(p, v)
    if is_uc_model(ws, name):
        return uc_wire.model_version(ws.registry.get_version(name, version))
    return ws_wire.model_version(ws.workspace_registry.get_version(name, version))


def search_versions(ws: "WorkspaceState", filter_string: str | None) -> list[dict[str, Any]]:
    """Versions matching ``filter``; with the prompt clause ``= 'true'`` (the UI's prompt
    pages), the matching prompts' versions, newest first."""
    filter_string, prompts_only = _without_prompt_clause(filter_string)
    if prompts_only:
        pick = _prompt_predicate(filter_string)
        return [_prompt_version(p, v) for p in ws.prompts.prompts()
                for v in (p.versions[n] for n in sorted(p.versions, reverse=True))
                if pick(SimpleNamespace(name=p.full_name, tags=_prompt_version_tags(v)))]
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
