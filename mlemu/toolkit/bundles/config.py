"""Reading a Databricks Asset Bundle's configuration as the CLI does before a deploy:
``databricks.yml`` and its ``include`` globs merged, the target chosen and its overrides
merged in (resources by key, job tasks and clusters by their keys), relative task paths
turned into the workspace paths the deploy syncs them to, variables resolved (target values,
the caller's, defaults, ``lookup`` of warehouses and jobs by name), and ``mode: development``
applied (name prefix, ``dev`` tag, paused schedules and triggers, concurrent runs).
"""
from __future__ import annotations

import copy
import glob
import os
import re
from typing import Any, Callable

import yaml

from mlemu.toolkit.bundles.interpolate import BundleError, has_refs, resolve

#: Resource types mlemu creates; every other type in ``resources`` is reported as not read.
CREATED_TYPES = ("jobs", "experiments", "registered_models", "schemas", "quality_monitors")
#: Keys of the merged lists of a job: tasks by task_key, job clusters by job_cluster_key...
_LIST_KEYS = {"tasks": "task_key", "job_clusters": "job_cluster_key", "environments": "environment_key",
              "parameters": "name"}
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")
_NOTEBOOK_EXTENSIONS = (".py", ".ipynb", ".sql", ".scala", ".r", ".R")
DEV_CONCURRENT_RUNS = 4


def read(path: str) -> tuple[str, dict[str, Any]]:
    """The bundle folder and ``databricks.yml`` merged with its includes (paths translated)."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        path = next((os.path.join(path, n) for n in ("databricks.yml", "databricks.yaml", "bundle.yml")
                     if os.path.isfile(os.path.join(path, n))), os.path.join(path, "databricks.yml"))
    root = os.path.dirname(path)
    tree = _load_file(path, root)
    for pattern in tree.pop("include", None) or []:
        matches = sorted(glob.glob(os.path.join(root, pattern), recursive=True))
        if not matches and not glob.has_magic(pattern):
            raise BundleError(f"{path}: include {pattern!r} matches no file")
        for match in matches:
            _merge_file(tree, _load_file(match, root), match)
    return root, tree


def _load_file(path: str, root: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except OSError as e:
        raise BundleError(f"cannot read {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise BundleError(f"{path} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise BundleError(f"{path}: the top level must be a mapping")
    base = os.path.dirname(path)
    _translate_resources(data.get("resources"), base, root, path)
    for target in (data.get("targets") or {}).values():
        if isinstance(target, dict):
            _translate_resources(target.get("resources"), base, root, path)
    return data


def _merge_file(tree: dict[str, Any], other: dict[str, Any], where: str) -> None:
    for key, value in other.items():
        if key == "resources" and isinstance(value, dict):
            resources = tree.setdefault("resources", {})
            for kind, items in value.items():
                mine = resources.setdefault(kind, {})
                for name, body in (items or {}).items():
                    if name in mine:
                        raise BundleError(f"{where}: resources.{kind}.{name} is defined more than once")
                    mine[name] = body
        elif key in ("targets", "variables") and isinstance(value, dict):
            tree.setdefault(key, {}).update(value)
        elif key not in tree:
            tree[key] = value


# -- paths -----------------------------------------------------------------------------------

def _translate_resources(resources: Any, base: str, root: str, where: str) -> None:
    for job in ((resources or {}).get("jobs") or {}).values() if isinstance(resources, dict) else []:
        if isinstance(job, dict):
            for task in job.get("tasks") or []:
                _translate_task(task, base, root, where)


def _translate_task(task: Any, base: str, root: str, where: str) -> None:
    if not isinstance(task, dict):
        return
    for holder, key, notebook in ((task.get("notebook_task"), "notebook_path", True),
                                  (task.get("spark_python_task"), "python_file", False),
                                  ((task.get("sql_task") or {}).get("file") if isinstance(task.get("sql_task"), dict)
                                   else None, "path", False)):
        if isinstance(holder, dict) and holder.get("source") != "GIT" and key in holder:
            holder[key] = _workspace_path(holder[key], base, root, where, notebook=notebook)
    inner = (task.get("for_each_task") or {}).get("task") if isinstance(task.get("for_each_task"), dict) else None
    _translate_task(inner, base, root, where)


def _workspace_path(value: Any, base: str, root: str, where: str, notebook: bool = False) -> Any:
    """A relative local path -> ``${workspace.file_path}/<path from the bundle root>``."""
    if not isinstance(value, str) or not value or value.startswith("/") or _SCHEME.match(value) or "${" in value:
        return value
    local = os.path.normpath(os.path.join(base, value))
    if not (local == root or local.startswith(root + os.sep)):
        raise BundleError(f"{where}: {value!r} is outside the bundle folder {root}")
    if not os.path.exists(local):
        raise BundleError(f"{where}: {value!r} does not exist ({local})")
    rel = os.path.relpath(local, root).replace(os.sep, "/")
    if notebook and rel.endswith(_NOTEBOOK_EXTENSIONS):
        rel = os.path.splitext(rel)[0]
    return "${workspace.file_path}/" + rel


# -- targets ---------------------------------------------------------------------------------

def choose_target(tree: dict[str, Any], target: str | None) -> tuple[str, dict[str, Any]]:
    targets = tree.get("targets") or {}
    if target is None:
        defaults = [k for k, v in targets.items() if isinstance(v, dict) and v.get("default")]
        if len(defaults) == 1:
            target = defaults[0]
        elif len(targets) == 1:
            target = next(iter(targets))
        elif not targets:
            return "default", {}
        else:
            raise BundleError(f"name a target: the bundle has {', '.join(targets)} and no single default")
    if target not in targets:
        raise BundleError(f"no target {target!r} in the bundle (targets: {', '.join(targets) or 'none'})")
    return target, targets[target] or {}


def apply_target(tree: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy({k: v for k, v in tree.items() if k != "targets"})
    for key, value in overrides.items():
        if key in ("default", "variables"):
            continue
        if key == "resources":
            out["resources"] = _merge(out.get("resources") or {}, value or {})
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge(base: Any, over: Any, key: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v, k) if k in base else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(over, list) and key in _LIST_KEYS:
        by = _LIST_KEYS[key]
        items = {item.get(by): item for item in base if isinstance(item, dict)}
        order = list(items)
        for item in over:
            name = item.get(by) if isinstance(item, dict) else None
            if name in items:
                items[name] = _merge(items[name], item)
            else:
                items[name] = copy.deepcopy(item)
                order.append(name)
        return [items[n] for n in order]
    return copy.deepcopy(over)


# -- variables -------------------------------------------------------------------------------

def variable_values(tree: dict[str, Any], target_vars: dict[str, Any], given: dict[str, Any],
                    lookups: Callable[[str, dict[str, Any]], Any]) -> dict[str, Any]:
    """Each variable's value: the caller's (``--var``), then the target's, then a ``lookup``,
    then its default. A variable without any is an error, as in the CLI."""
    declared = tree.get("variables") or {}
    out: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec if isinstance(spec, dict) else {"default": spec}
        if name in given:
            out[name] = given[name]
        elif name in target_vars:
            value = target_vars[name]
            if isinstance(value, dict) and "lookup" in value:
                out[name] = lookups(name, value["lookup"])
            else:
                out[name] = value
        elif "lookup" in spec:
            out[name] = lookups(name, spec["lookup"])
        elif "default" in spec:
            out[name] = spec["default"]
        elif "DATABRICKS_BUNDLE_VAR_" + name in os.environ:
            out[name] = os.environ["DATABRICKS_BUNDLE_VAR_" + name]
        else:
            raise BundleError(f"no value assigned to required variable {name}: give it a default, a target "
                              f"value, or pass variables={{{name!r}: ...}}")
    unknown = sorted((set(given) | set(target_vars)) - set(declared))
    if unknown:
        raise BundleError(f"variable(s) {', '.join(unknown)} are not declared in the bundle's variables")
    return out


# -- development mode ------------------------------------------------------------------------

def development_mode(resources: dict[str, Any], short_name: str) -> None:
    """What ``mode: development`` does to deployed jobs: ``[dev <user>] `` name prefix, a ``dev``
    tag, schedules and triggers paused, up to :data:`DEV_CONCURRENT_RUNS` concurrent runs."""
    prefix = f"[dev {short_name}] "
    for job in (resources.get("jobs") or {}).values():
        job["name"] = prefix + str(job.get("name", ""))
        job.setdefault("tags", {})["dev"] = short_name
        for key in ("schedule", "trigger", "continuous"):
            if isinstance(job.get(key), dict):
                job[key]["pause_status"] = "PAUSED"
        if not job.get("max_concurrent_runs") or job.get("max_concurrent_runs") == 1:
            job["max_concurrent_runs"] = DEV_CONCURRENT_RUNS
    for kind in ("experiments",):
        for item in (resources.get(kind) or {}).values():
            name = str(item.get("name", ""))
            if "/" in name:
                head, _, tail = name.rpartition("/")
                item["name"] = f"{head}/{prefix}{tail}"
    for item in (resources.get("registered_models") or {}).values():
        item["name"] = f"dev_{short_name}_{item.get('name', '')}"
    for item in (resources.get("schemas") or {}).values():
        item["name"] = f"dev_{short_name}_{item.get('name', '')}"


def short_name(user_name: str) -> str:
    """The CLI's ``current_user.short_name``: the part before ``@``, other characters as ``_``."""
    local = user_name.split("@")[0]
    return re.sub(r"[^a-zA-Z0-9]", "_", local).lower()


def resolve_all(value: Any, lookup: Callable[[list[str]], Any], rounds: int = 10) -> Any:
    """References resolved until none is left (variables may refer to variables)."""
    for _ in range(rounds):
        if not has_refs(value):
            return value
        value = resolve(value, lookup, partial=True)
    if has_refs(value):
        resolve(value, lookup)  # raises on the first reference that cannot resolve
    return value

