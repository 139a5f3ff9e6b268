"""Creating a bundle's resources in an emulated workspace through its own REST API (the calls
a deploy makes, journaled like any client's): jobs (``jobs/create``, or ``jobs/reset`` when the
bundle was loaded before), experiments, Unity Catalog schemas and registered models.

Jobs referring to other jobs (``${resources.jobs.x.id}``) are created after them. Deployed jobs
carry ``deployment: {kind: BUNDLE}`` and ``edit_mode: UI_LOCKED`` as deployed bundles do; their
``permissions`` are set through the permissions API (recorded, as mlemu records every grant).
"""
from __future__ import annotations

import json
import posixpath
from typing import TYPE_CHECKING, Any, Callable

from mlemu.toolkit.bundles.interpolate import BundleError, Missing, has_refs, resolve

if TYPE_CHECKING:
    from mlemu.workspace import Workspace

#: Job fields whose values are maps or lists of strings on the wire (YAML may hold numbers there).
_STRING_MAPS = ("base_parameters", "named_parameters", "job_parameters", "notebook_params", "python_named_params")
_STRING_LISTS = ("python_params", "jar_params")


class Api:
    """The workspace's REST API called in-process with its own token (no client library)."""

    def __init__(self, ws: "Workspace") -> None:
        self.ws = ws

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             query: str = "") -> dict[str, Any]:
        status, _, raw = self.ws.handle(method, path, query, {"authorization": f"Bearer {self.ws.token}",
                                                              "content-type": "application/json"},
                                        json.dumps(body or {}).encode() if method != "GET" else b"")
        data = json.loads(raw) if raw else {}
        if status >= 400:
            raise BundleError(f"{method} {path} answered {status} {data.get('error_code')}: {data.get('message')}")
        return data  # type: ignore[no-any-return]


def strings(job: dict[str, Any]) -> dict[str, Any]:
    """Scalars where the Jobs API wants strings, as the CLI converts them (``100`` -> ``"100"``)."""
    def text(v: Any) -> Any:
        if isinstance(v, bool):
            return "true" if v else "false"
        return str(v) if isinstance(v, (int, float)) else v

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k in _STRING_MAPS and isinstance(v, dict):
                    out[k] = {kk: text(vv) for kk, vv in v.items()}
                elif k in _STRING_LISTS and isinstance(v, list):
                    out[k] = [text(x) for x in v]
                elif k == "parameters" and isinstance(v, list):
                    out[k] = [fix(x) if isinstance(x, dict) else text(x) for x in v]
                elif k == "parameters" and isinstance(v, dict):
                    out[k] = {kk: text(vv) for kk, vv in v.items()}
                elif k == "default" and not isinstance(v, (dict, list)):
                    out[k] = text(v)
                else:
                    out[k] = fix(v)
            return out
        if isinstance(node, list):
            return [fix(x) for x in node]
        return node

    return fix(job)  # type: ignore[no-any-return]


def deploy_jobs(api: Api, jobs: dict[str, Any], lookup: Callable[[list[str]], Any],
                deployed: dict[str, dict[str, Any]], state_path: str, known: dict[str, int]) -> dict[str, int]:
    """Create (or reset) every job, those another job refers to first; their ids by key."""
    ids: dict[str, int] = {}
    waiting = dict(jobs)
    while waiting:
        progress = False
        for key, raw in list(waiting.items()):
            settings = resolve(raw, lookup, partial=True)
            if has_refs(settings):
                continue
            permissions = settings.get("permissions") or []
            settings = strings({k: v for k, v in settings.items() if k != "permissions"})
            settings["deployment"] = {"kind": "BUNDLE", "metadata_file_path": posixpath.join(state_path, "metadata.json")}
            settings.setdefault("edit_mode", "UI_LOCKED")
            if key in known and known[key] in api.ws.jobs.jobs:
                api.call("POST", "/api/2.2/jobs/reset", {"job_id": known[key], "new_settings": settings})
                job_id = known[key]
            else:
                job_id = int(api.call("POST", "/api/2.2/jobs/create", settings)["job_id"])
            ids[key] = job_id
            if permissions:
                acl = [{k: v for k, v in p.items() if k in ("user_name", "group_name", "service_principal_name")}
                       | {"permission_level": p.get("level")} for p in permissions]
                api.call("PATCH", f"/api/2.0/permissions/jobs/{job_id}", {"access_control_list": acl})
            deployed.setdefault("jobs", {})[key] = {"id": str(job_id), **settings}
            del waiting[key]
            progress = True
        if not progress:
            try:
                for raw in waiting.values():
                    resolve(raw, lookup)
            except Missing as e:
                raise BundleError(f"jobs {', '.join(sorted(waiting))} refer to each other or to an unknown "
                                  f"resource: {e}") from None
            raise BundleError(f"cannot order the jobs {', '.join(sorted(waiting))}")
    return ids


def deploy_experiments(api: Api, items: dict[str, Any], deployed: dict[str, dict[str, Any]]) -> None:
    for key, spec in items.items():
        name = str(spec.get("name") or "")
        if not name.startswith("/"):
            raise BundleError(f"resources.experiments.{key}: the name must be a workspace path")
        api.call("POST", "/api/2.0/workspace/mkdirs", {"path": posixpath.dirname(name.removeprefix("/Workspace"))})
        found = _experiment(api, name)
        exp_id = found or api.call("POST", "/api/2.0/mlflow/experiments/create", {"name": name})["experiment_id"]
        deployed.setdefault("experiments", {})[key] = {"id": str(exp_id), **spec}


def _experiment(api: Api, name: str) -> str | None:
    try:
        return str(api.call("GET", "/api/2.0/mlflow/experiments/get-by-name", query=f"experiment_name={name}")
                   ["experiment"]["experiment_id"])
    except BundleError:
        return None


def deploy_schemas(api: Api, items: dict[str, Any], deployed: dict[str, dict[str, Any]]) -> None:
    for key, spec in items.items():
        body = {k: spec[k] for k in ("name", "catalog_name", "comment", "properties", "storage_root") if k in spec}
        full = f"{spec.get('catalog_name')}.{spec.get('name')}"
        try:
            api.call("GET", f"/api/2.1/unity-catalog/schemas/{full}")
        except BundleError:
            api.call("POST", "/api/2.1/unity-catalog/schemas", body)
        deployed.setdefault("schemas", {})[key] = {"id": full, **spec}


def deploy_registered_models(api: Api, items: dict[str, Any], deployed: dict[str, dict[str, Any]]) -> None:
    for key, spec in items.items():
        full = f"{spec.get('catalog_name')}.{spec.get('schema_name')}.{spec.get('name')}"
        try:
            api.call("GET", f"/api/2.1/unity-catalog/models/{full}")
            if spec.get("comment") is not None:
                api.call("PATCH", f"/api/2.1/unity-catalog/models/{full}", {"comment": spec["comment"]})
        except BundleError:
            api.call("POST", "/api/2.1/unity-catalog/models",
                     {k: spec[k] for k in ("name", "catalog_name", "schema_name", "comment", "storage_location")
                      if k in spec})
        deployed.setdefault("registered_models", {})[key] = {"id": full, **spec}


def deploy_quality_monitors(api: Api, items: dict[str, Any], deployed: dict[str, dict[str, Any]]) -> None:
    """``resources.quality_monitors``: a Lakehouse monitor on each ``table_name`` (created, or
    updated when the table has one), as a deploy makes it; the table must exist, as on Databricks."""
    for key, spec in items.items():
        table = str(spec.get("table_name") or "")
        if not table:
            raise BundleError(f"resources.quality_monitors.{key}: table_name is required")
        body = {k: v for k, v in spec.items() if k not in ("table_name", "permissions")}
        path = f"/api/2.1/unity-catalog/tables/{table}/monitor"
        try:
            api.call("GET", path)
        except BundleError:
            api.call("POST", path, body)
        else:
            api.call("PUT", path, {k: v for k, v in body.items() if k not in ("assets_dir", "skip_builtin_dashboard",
                                                                           "warehouse_id")})
        deployed.setdefault("quality_monitors", {})[key] = {"id": table, **spec}
