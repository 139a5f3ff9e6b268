"""``mlemu.emulate()``: make the real clients talk to a Workspace for a block of code.

It points ``DATABRICKS_HOST``/``DATABRICKS_TOKEN`` at the workspace, clears every other
``DATABRICKS_*`` variable (so ``~/.databrickscfg`` and stray OAuth settings are never
used), sets mlflow's URIs to ``databricks`` / ``databricks-uc`` as a Databricks runtime
does, and on exit ends runs left open and restores everything, mlflow's globals included.
On entry it also makes ``databricks.feature_engineering`` / ``databricks.feature_store``
importable (mlemu's clean-room clients, :mod:`mlemu.standins.feature_store.shim`; this stays for the
process, so modules that imported them keep working).
"""
from __future__ import annotations

import functools
import importlib
import os
import sys
from typing import Any, Callable, TypeVar

from mlemu.standins.feature_store import shim as feature_store_shim
from mlemu.server.transport import inprocess
from mlemu.standins.feature_store import versions as feature_store_versions
from mlemu.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])

#: Saved, cleared and restored around a workspace. mlflow 3's set_experiment() exports
#: MLFLOW_EXPERIMENT_ID (for subprocesses); left set, it names another workspace's experiment.
_MLFLOW_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID")


class emulate:
    """Context manager and decorator; ``with mlemu.emulate() as ws: ...``.

    ``url`` points the clients at a loopback server instead of the in-process host;
    ``virtual_time=True`` makes ``time.sleep`` instant and advances the workspace clock
    (:mod:`mlemu.toolkit.virtual_clock`); ``allow_hosts`` names hosts (``"name"`` or ``"name:port"``)
    hermetic mode lets through. ``registry_uri`` picks mlflow's model registry:
    ``databricks-uc`` (Unity Catalog, the default) or ``databricks`` (the workspace registry).
    ``feature_engineering="0.6"`` makes the clean-room feature engineering clients follow that
    release of ``databricks-feature-engineering`` (default: the newest,
    :mod:`mlemu.standins.feature_store.versions`). ``uc_model_storage`` is where Unity Catalog
    model files go: ``"default"`` (default storage, the Files API) or ``"s3"`` (the metastore's
    S3 bucket, moto's S3 server, ``mlemu[uc-legacy]``: the only route of mlflow < 2.13); None
    picks ``"s3"`` for an installed mlflow < 2.13 when the extra is installed.
    """

    def __init__(self, workspace: Workspace | None = None, *, hermetic: bool = True,
                 set_mlflow_uris: bool = True, url: str | None = None, virtual_time: bool = False,
                 allow_hosts: tuple[str, ...] | list[str] = (), registry_uri: str = "databricks-uc",
                 feature_engineering: str | None = None, uc_model_storage: str | None = None,
                 **workspace_kwargs: Any) -> None:
        if uc_model_storage not in (None, "default", "s3"):
            raise ValueError(f"uc_model_storage={uc_model_storage!r}: expected 'default' or 's3'")
        if feature_engineering is not None:
            feature_store_versions.parse(feature_engineering)  # refuse a bad release before any state
        self.workspace = workspace
        self._kwargs = workspace_kwargs
        self.hermetic = hermetic
        self.allow_hosts = tuple(allow_hosts)
        self.set_mlflow_uris = set_mlflow_uris
        self.url = url
        self.virtual_time = virtual_time
        self._virtual_time: Any = None
        self.registry_uri = registry_uri
        self.feature_engineering = feature_engineering
        self.uc_model_storage = uc_model_storage
        self._saved_s3_endpoint: str | None = None
        self._saved_env: dict[str, str] = {}
        self._saved_mlflow: dict[str, Any] | None = None

    # -- decorator -------------------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with emulate(self.workspace, hermetic=self.hermetic, set_mlflow_uris=self.set_mlflow_uris,
                         url=self.url, virtual_time=self.virtual_time, allow_hosts=self.allow_hosts,
                         registry_uri=self.registry_uri, feature_engineering=self.feature_engineering,
                         uc_model_storage=self.uc_model_storage, **self._kwargs):
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]

    # -- context manager -------------------------------------------------------------------
    def __enter__(self) -> Workspace:
        ws = self.workspace if self.workspace is not None else Workspace(**self._kwargs)
        self.workspace = ws
        self._saved_env = {k: v for k, v in os.environ.items()
                           if k.startswith("DATABRICKS_") or k in _MLFLOW_ENV}
        for k in self._saved_env:
            del os.environ[k]
        os.environ["DATABRICKS_HOST"] = self.url or ws.host
        os.environ["DATABRICKS_TOKEN"] = ws.token
        if self.set_mlflow_uris:
            os.environ["MLFLOW_TRACKING_URI"] = "databricks"
            os.environ["MLFLOW_REGISTRY_URI"] = self.registry_uri
        self._saved_mlflow = _save_mlflow_state()
        if self.set_mlflow_uris:
            _reset_mlflow_globals()  # a URI set earlier in the process would bypass the env
        _clear_artifact_repos()
        _clear_prompt_cache()
        _reset_tracing()
        feature_store_shim.install()
        feature_store_versions.choose(ws, self.feature_engineering)
        ws.start(hermetic=self.hermetic, allow_hosts=self.allow_hosts)
        try:
            if (self.uc_model_storage or _default_model_storage()) == "s3":
                self._start_s3_storage(ws)
            if self.virtual_time:
                from mlemu.toolkit.virtual_clock import virtual_time
                self._virtual_time = virtual_time(ws).__enter__()
        except BaseException:
            self.__exit__(None, None, None)  # nothing half-entered: the workspace stops, env restored
            raise
        return ws

    def __exit__(self, *exc: object) -> None:
        ws = self.workspace
        assert ws is not None
        try:
            if self._virtual_time is not None:
                self._virtual_time.__exit__(None, None, None)
                self._virtual_time = None
            _end_leaked_runs()
            _flush_traces()
            _reset_tracing()
            _restore_mlflow_state(self._saved_mlflow)
        finally:
            self._stop_s3_storage(ws)
            ws.stop()
            for k in [k for k in os.environ if k.startswith("DATABRICKS_") or k in _MLFLOW_ENV]:
                del os.environ[k]
            os.environ.update(self._saved_env)

    def _start_s3_storage(self, ws: Workspace) -> None:
        """The metastore's S3 bucket for model files; boto3 reaches it through
        ``MLFLOW_S3_ENDPOINT_URL`` (saved here, restored on exit)."""
        store = ws.registry.use_s3_storage()
        inprocess.allow(store.netloc)
        self._saved_s3_endpoint = os.environ.get("MLFLOW_S3_ENDPOINT_URL", "")
        os.environ["MLFLOW_S3_ENDPOINT_URL"] = store.endpoint_url

    def _stop_s3_storage(self, ws: Workspace) -> None:
        if self._saved_s3_endpoint is None:
            return
        store = ws.registry.s3
        ws.registry.stop_s3_storage()
        if store is not None:
            inprocess.disallow(store.netloc)
        if self._saved_s3_endpoint:
            os.environ["MLFLOW_S3_ENDPOINT_URL"] = self._saved_s3_endpoint
        else:
            os.environ.pop("MLFLOW_S3_ENDPOINT_URL", None)
        self._saved_s3_endpoint = None


def _default_model_storage() -> str:
    """``"s3"`` where the installed mlflow predates default storage (< 2.13: it only takes cloud
    credentials) and ``mlemu[uc-legacy]`` is installed; else ``"default"``."""
    from mlemu.server.services.registry import s3_storage
    from mlemu.toolkit.client_versions import version

    installed = version("mlflow")
    if installed is None or installed.release >= (2, 13) or s3_storage.missing() is not None:
        return "default"
    return "s3"


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


def _save_mlflow_state() -> dict[str, Any] | None:
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


def _reset_mlflow_globals() -> None:
    if _mlflow() is not None:
        _set_uris_and_experiment(None, None, None)


def _clear_artifact_repos() -> None:
    """mlflow caches artifact repositories by run / model id; seeded workspaces repeat ids."""
    if _mlflow() is None:
        return
    from mlflow.tracking._tracking_service import utils as tracking_utils
    cache = getattr(tracking_utils, "_artifact_repos_cache", None)
    if cache is not None:
        cache.clear()


def _clear_prompt_cache() -> None:
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


def _flush_traces() -> None:
    """Export what the block traced while its workspace still answers (mlflow 3 exports in a
    background thread; after the block the trace would go nowhere: "Failed to send trace")."""
    provider = sys.modules.get("mlflow.tracing.provider")
    flush = getattr(_mlflow(), "flush_trace_async_logging", None)
    if flush is None or not getattr(getattr(provider, "_MLFLOW_TRACER_PROVIDER_INITIALIZED", None), "done", False):
        return
    exporter = provider._get_trace_exporter() if hasattr(provider, "_get_trace_exporter") else None
    if getattr(exporter, "_async_queue", None) is not None:  # else there is nothing queued to flush
        flush()


def _reset_tracing() -> None:
    """mlflow builds its tracer provider once per process, with the exporter, the tracking URI,
    the async-export switch and the destination read at that moment (serving a model builds it).
    Left in place, the next workspace's traces go out with the previous one's settings: reset it
    so the next trace builds it anew (``reset`` in mlflow >= 2.21, ``reset_tracer_setup`` before)."""
    provider = sys.modules.get("mlflow.tracing.provider")
    reset = getattr(provider, "reset", None) or getattr(provider, "reset_tracer_setup", None)
    if reset is not None:
        reset()


def _end_leaked_runs() -> None:
    mlflow = _mlflow()
    if mlflow is None:
        return
    for _ in range(100):  # nested runs: end them all, innermost first
        if mlflow.active_run() is None:
            break
        mlflow.end_run()


def _restore_mlflow_state(saved: dict[str, Any] | None) -> None:
    if _mlflow() is None:
        return
    fluent, _, _, autologging_utils = _mlflow_modules()
    saved = saved or {"tracking_uri": None, "registry_uri": None, "experiment_id": None, "autolog": set()}
    _set_uris_and_experiment(saved["tracking_uri"], saved["registry_uri"], saved["experiment_id"])
    _clear_artifact_repos()
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
