"""Load a Databricks Asset Bundle's resources into an emulated workspace without the CLI:
``mlemu.bundles.load("databricks.yml", target="dev")`` reads the bundle as ``databricks bundle
deploy`` would (includes, target overrides, variables, ``${...}`` references, development
mode), creates its jobs (and experiments, Unity Catalog schemas, registered models and quality
monitors) through the workspace's API, and serves the bundle's files at the workspace path a deploy syncs them to
(``${workspace.file_path}``), so a test runs ``model_training_job`` exactly as defined::

    bundle = mlemu.bundles.load("databricks.yml", target="dev", variables={"catalog_name": "main"})
    run = ws.jobs.run_now("model_training_job")        # a resource key, an id or a job name

Not read: ``artifacts`` (no wheels are built; install your package), ``sync``, ``permissions``
and ``grants``, ``run_as``, ``presets``, ``python`` (resources written in Python), resource types
other than jobs, experiments, schemas, registered_models and quality_monitors (listed in
:attr:`Bundle.not_read`), and variable lookups other than ``warehouse`` and ``job``. See docs/notebooks-and-jobs.md.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlemu.toolkit.bundles import config
from mlemu.toolkit.bundles.deploy import (Api, deploy_experiments, deploy_jobs, deploy_quality_monitors,
                                         deploy_registered_models,
                                          deploy_schemas)
from mlemu.toolkit.bundles.git import git_info
from mlemu.toolkit.bundles.interpolate import BundleError, Missing, walk

if TYPE_CHECKING:
    from mlemu.server.services.jobs.view import RunView
    from mlemu.workspace import Workspace

__all__ = ["load", "Bundle", "BundleError"]


@dataclass
class Bundle:
    """A loaded bundle: what it created, by resource key."""

    name: str
    target: str
    root: str
    root_path: str                      # ${workspace.root_path}
    file_path: str                      # ${workspace.file_path}, served from ``root``
    variables: dict[str, Any]
    jobs: dict[str, int] = field(default_factory=dict)
    experiments: dict[str, str] = field(default_factory=dict)
    registered_models: dict[str, str] = field(default_factory=dict)
    schemas: dict[str, str] = field(default_factory=dict)
    quality_monitors: dict[str, str] = field(default_factory=dict)  # key -> monitored table
    not_read: list[str] = field(default_factory=list)
    workspace: Any = None

    def run(self, key: str, parameters: dict[str, Any] | None = None, **options: Any) -> "RunView":
        """Run the job with this resource key now (``ws.jobs.run_now``)."""
        return self.workspace.jobs.run_now(self.jobs[key], parameters, **options)  # type: ignore[no-any-return]


def load(path: str | os.PathLike[str] = "databricks.yml", target: str | None = None, *,
         variables: dict[str, Any] | None = None, workspace: "Workspace | None" = None) -> Bundle:
    """Read the bundle at ``path`` (its ``databricks.yml`` or folder) for ``target`` (the
    bundle's default target when None) and create its resources in ``workspace`` (the active
    one by default). ``variables`` are ``--var`` values. Loading again updates the jobs in place."""
    ws = workspace if workspace is not None else _active()
    root, tree = config.read(os.fspath(path))
    target_name, overrides = config.choose_target(tree, target)
    merged = config.apply_target(tree, overrides)
    name = str((merged.get("bundle") or {}).get("name") or os.path.basename(root))
    bundle_git = {**vars(git_info(root)), **((merged.get("bundle") or {}).get("git") or {})}
    user = ws.user.user_name
    current_user = {"userName": user, "user_name": user, "short_name": config.short_name(user),
                    "displayName": ws.user.display_name, "id": ws.user.id}
    ws_conf = dict(merged.get("workspace") or {})
    values: dict[str, Any] = {}
    deployed: dict[str, dict[str, Any]] = {}

    def lookup(parts: list[str]) -> Any:
        head = parts[0]
        if head == "var" and len(parts) >= 2:
            return _sub(values, parts[1:], parts)
        if head == "variables" and len(parts) >= 3 and parts[2] == "value":
            return _sub(values, [parts[1], *parts[3:]], parts)
        if head == "bundle":
            info = {"name": name, "target": target_name, "environment": target_name, "git": bundle_git}
            return _sub(info, parts[1:], parts)
        if head == "workspace":
            return _sub(workspace_info, parts[1:], parts)
        if head == "resources" and len(parts) >= 4:
            kind = deployed.get(parts[1], {})
            if parts[2] not in kind:
                if parts[2] in ((merged.get("resources") or {}).get(parts[1]) or {}):
                    raise Missing("${" + ".".join(parts) + "}")
                raise BundleError(f"reference does not exist: ${{{'.'.join(parts)}}}")
            return _sub(kind[parts[2]], parts[3:], parts)
        raise BundleError(f"reference does not exist: ${{{'.'.join(parts)}}}")

    workspace_info: dict[str, Any] = {"host": ws.host, "current_user": current_user}
    target_vars = dict(overrides.get("variables") or {})
    raw_values = config.variable_values(merged, target_vars, dict(variables or {}),
                                        lambda n, spec: _lookup_variable(ws, n, spec))
    values.update(raw_values)
    values.update(config.resolve_all(values, lookup))
    root_path = _absolute(config.resolve_all(
        ws_conf.get("root_path") or f"~/.bundle/{name}/{target_name}", lookup), user)
    workspace_info["root_path"] = root_path
    for key, default in (("file_path", "files"), ("artifact_path", "artifacts"), ("state_path", "state"),
                         ("resource_path", "resources")):
        workspace_info[key] = _absolute(config.resolve_all(ws_conf.get(key), lookup), user) if ws_conf.get(key) \
            else f"{root_path}/{default}"

    resources = dict(merged.get("resources") or {})
    if merged.get("mode") == "development":
        config.development_mode(resources, current_user["short_name"])
    not_read = sorted(k for k in resources if k not in config.CREATED_TYPES)
    bundle = Bundle(name, target_name, root, root_path, workspace_info["file_path"], values,
                    not_read=not_read, workspace=ws)
    ws.jobs.mount(workspace_info["file_path"], root)
    api = Api(ws)
    for kind, deploy in (("schemas", deploy_schemas), ("experiments", deploy_experiments),
                         ("registered_models", deploy_registered_models)):
        items = {k: config.resolve_all(v, lookup) for k, v in (resources.get(kind) or {}).items()}
        if items:
            deploy(api, items, deployed)
    known = {k: v for k, v in ws.jobs.resource_keys.items()}
    bundle.jobs = deploy_jobs(api, resources.get("jobs") or {}, lookup, deployed, workspace_info["state_path"], known)
    ws.jobs.resource_keys.update(bundle.jobs)
    bundle.experiments = {k: v["id"] for k, v in deployed.get("experiments", {}).items()}
    bundle.registered_models = {k: v["id"] for k, v in deployed.get("registered_models", {}).items()}
    bundle.schemas = {k: v["id"] for k, v in deployed.get("schemas", {}).items()}
    monitors = {k: config.resolve_all(v, lookup) for k, v in (resources.get("quality_monitors") or {}).items()}
    if monitors:  # after the jobs: a monitor's schedule and tables do not refer to them, but may be made by them
        deploy_quality_monitors(api, monitors, deployed)
    bundle.quality_monitors = {k: v["id"] for k, v in deployed.get("quality_monitors", {}).items()}
    return bundle


def _sub(tree: Any, path: list[str], whole: list[str]) -> Any:
    try:
        return walk(tree, path)
    except KeyError:
        raise BundleError(f"reference does not exist: ${{{'.'.join(whole)}}}") from None


def _absolute(path: str, user: str) -> str:
    """``~/x`` -> ``/Workspace/Users/<user>/x``; ``/Users/...`` -> ``/Workspace/Users/...``."""
    if path.startswith("~/"):
        path = f"/Users/{user}/{path[2:]}"
    if path.startswith(("/Users/", "/Shared/")):
        path = "/Workspace" + path
    return path.rstrip("/")


def _lookup_variable(ws: Any, name: str, spec: Any) -> Any:
    if not isinstance(spec, dict) or len(spec) != 1:
        raise BundleError(f"variable {name}: a lookup names exactly one kind of object")
    kind, wanted = next(iter(spec.items()))
    if kind == "warehouse":
        found = [w.id for w in ws.sql.list_warehouses() if w.name == wanted]
    elif kind == "job":
        found = [str(j.job_id) for j in ws.jobs.list(name=str(wanted))]
    else:
        raise BundleError(f"variable {name}: mlemu does not emulate lookups of {kind} (only warehouse and job)")
    if len(found) != 1:
        raise BundleError(f"variable {name}: {len(found)} {kind}s are named {wanted!r}")
    return found[0]


def _active() -> Any:
    from mlemu.server.transport import inprocess
    ws = inprocess.current()
    if ws is None:
        raise BundleError("no active workspace: pass workspace=, or load inside the mlemu fixture or mlemu.emulate()")
    return ws
