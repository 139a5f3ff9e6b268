"""mlflow's process-wide state: the tracking and registry URIs, the active experiment and
model, autologging, cached artifact repositories and prompts, open runs.

``emulate()`` saves it on entry and restores it on exit (a workspace must not leak into the
next); a notebook run does the same, since each notebook task on Databricks has a Python
process of its own. Nothing here imports mlflow: a process that never imported it has no
such state.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any


def _mlflow() -> Any:
    return sys.modules.get("mlflow")


def _mlflow_modules() -> tuple[Any, Any, Any, Any]:
    """mlflow's modules that hold the process-wide state emulate() saves and restores."""
    from mlflow.tracking import fluent
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils
    from mlflow.utils import autologging_utils
    return fluent, registry_utils, tracking_utils, autologging_utils


def _set_uris_and_experiment(tracking_uri: str | None, registry_uri: str | None,
                             experiment_id: str | None) -> None:
    fluent, registry_utils, tracking_utils, _ = _mlflow_modules()
    tracking_utils._tracking_uri = tracking_uri
    registry_utils._registry_uri = registry_uri
    fluent._active_experiment_id = experiment_id


def save() -> dict[str, Any] | None:
    if _mlflow() is None:
        return None
    fluent, registry_utils, tracking_utils, autologging_utils = _mlflow_modules()
    return {
        "tracking_uri": tracking_utils._tracking_uri,
        "registry_uri": registry_utils._registry_uri,
        "experiment_id": fluent._active_experiment_id,
        # an empty config means autolog() was never called (mlflow creates it on lookup)
        "autolog": {k for k, v in autologging_utils.AUTOLOGGING_INTEGRATIONS.items()
                    if v and not v.get("disable", False)},
        # mlflow 3: mlflow.set_active_model() (else the model id leaks into later metrics/inputs)
        "active_model": (fluent._ACTIVE_MODEL_CONTEXT.get()
                         if hasattr(fluent, "_ACTIVE_MODEL_CONTEXT") else None),
    }


def reset() -> None:
    if _mlflow() is not None:
        _set_uris_and_experiment(None, None, None)


def clear_artifact_repos() -> None:
    """mlflow caches artifact repositories by run / model id; seeded workspaces repeat ids."""
    if _mlflow() is None:
        return
    from mlflow.tracking._tracking_service import client as tracking_client
    from mlflow.tracking._tracking_service import utils as tracking_utils
    for cache in (getattr(tracking_utils, "_artifact_repos_cache", None),  # mlflow >= 2.10 or so
                  # mlflow 2.9: a class attribute, shared by every client of the process
                  getattr(tracking_client.TrackingServiceClient, "_artifact_repos_cache", None)):
        if cache is not None:
            cache.clear()


def clear_prompt_cache() -> None:
    """mlflow 3 caches loaded prompt versions in-process by name and version: another
    workspace's prompt of the same name must not be served from it. Newer releases keep them in
    ``PromptCache``; earlier ones (3.0-3.5 at least) in an lru_cache on the registry's fluent API."""
    if _mlflow() is None:
        return
    registry_fluent = sys.modules.get("mlflow.tracking._model_registry.fluent")
    cached = getattr(registry_fluent, "_load_prompt_cached", None)
    if hasattr(cached, "cache_clear"):
        cached.cache_clear()
    try:
        from mlflow.prompt.registry_utils import PromptCache
    except ImportError:  # mlflow 2.x, mlflow 3 before PromptCache
        return
    PromptCache._reset_instance()


def clear_store_caches() -> None:
    """mlflow keeps one tracking and one registry store per URI for the life of the process,
    and a store keeps what it read when it was built: the Unity Catalog registry store, the
    Spark session active then (to complete two-level model names with ``current_catalog()``).
    A store built during one test (a Spark test, say) must not serve the next."""
    if _mlflow() is None:
        return
    for module_name, class_name in (("mlflow.tracking._model_registry.registry", "ModelRegistryStoreRegistry"),
                                    ("mlflow.tracking._tracking_service.registry", "TrackingStoreRegistry")):
        cls = getattr(sys.modules.get(module_name), class_name, None)
        cached = getattr(cls, "_get_store_with_resolved_uri", None)
        if hasattr(cached, "cache_clear"):
            cached.cache_clear()


def flush_traces() -> None:
    """Export what was traced while its workspace still answers (mlflow 3 exports in a
    background thread; after the block the trace would go nowhere: "Failed to send trace")."""
    provider = sys.modules.get("mlflow.tracing.provider")
    flush = getattr(_mlflow(), "flush_trace_async_logging", None)
    if flush is None or not getattr(getattr(provider, "_MLFLOW_TRACER_PROVIDER_INITIALIZED", None), "done", False):
        return
    exporter = provider._get_trace_exporter() if hasattr(provider, "_get_trace_exporter") else None
    if getattr(exporter, "_async_queue", None) is not None:  # else there is nothing queued to flush
        flush()


def reset_tracing() -> None:
    """mlflow builds its tracer provider once per process, with the exporter, the tracking URI,
    the async-export switch and the destination read at that moment (serving a model builds it).
    Left in place, the next workspace's traces go out with the previous one's settings: reset it
    so the next trace builds it anew (``reset`` in mlflow >= 2.21, ``reset_tracer_setup`` before)."""
    provider = sys.modules.get("mlflow.tracing.provider")
    reset = getattr(provider, "reset", None) or getattr(provider, "reset_tracer_setup", None)
    if reset is not None:
        reset()


def end_leaked_runs() -> None:
    mlflow = _mlflow()
    if mlflow is None:
        return
    for _ in range(100):  # nested runs: end them all, innermost first
        if mlflow.active_run() is None:
            break
        mlflow.end_run()


def restore(saved: dict[str, Any] | None) -> None:
    if _mlflow() is None:
        return
    fluent, _, _, autologging_utils = _mlflow_modules()
    saved = saved or {"tracking_uri": None, "registry_uri": None, "experiment_id": None, "autolog": set()}
    _set_uris_and_experiment(saved["tracking_uri"], saved["registry_uri"], saved["experiment_id"])
    clear_artifact_repos()
    if hasattr(fluent, "_ACTIVE_MODEL_CONTEXT"):
        previous = saved.get("active_model")
        fluent._ACTIVE_MODEL_CONTEXT.set(previous if previous is not None else fluent.ActiveModelContext())
    for name in ("_last_active_run_id", "_last_logged_model_id"):
        holder = getattr(fluent, name, None)  # ThreadLocalVariable in mlflow 2.x and 3.x
        if hasattr(holder, "set"):
            holder.set(None)
    for flavor, conf in list(autologging_utils.AUTOLOGGING_INTEGRATIONS.items()):
        if not conf or conf.get("disable", False) or flavor in saved["autolog"]:
            continue
        module = "mlflow" if flavor == "mlflow" else f"mlflow.{flavor}"
        try:
            importlib.import_module(module).autolog(disable=True)
        except Exception:  # a flavor whose library is gone: nothing left to undo
            conf["disable"] = True


def active_run_ids() -> list[str]:
    """The ids of the runs on mlflow's active-run stack (this thread's), outermost first."""
    if _mlflow() is None:
        return []
    from mlflow.tracking import fluent

    stack = getattr(fluent, "_active_run_stack", None)
    runs = stack.get() if hasattr(stack, "get") else stack  # ThreadLocalVariable in mlflow 2.x and 3.x
    return [r.info.run_id for r in (runs or [])]


def end_runs_since(before: list[str], failed: bool = False) -> None:
    """End the runs started after ``before`` was taken and left open, innermost first, as
    mlflow ends them when the process exits (FAILED when the code that opened them failed)."""
    mlflow = _mlflow()
    if mlflow is None:
        return
    for _ in range(100):
        run = mlflow.active_run()
        if run is None or run.info.run_id in before:
            break
        mlflow.end_run("FAILED" if failed else "FINISHED")
