"""``mlemu.emulate()``: make the real clients talk to a Workspace for a block of code.

It points ``DATABRICKS_HOST``/``DATABRICKS_TOKEN`` at the workspace, clears every other
``DATABRICKS_*`` variable (so ``~/.databrickscfg`` and stray OAuth settings are never
used), sets mlflow's URIs to ``databricks`` / ``databricks-uc`` as a Databricks runtime
does, and on exit ends runs left open and restores everything, mlflow's globals included.
On entry it also makes ``databricks.feature_engineering`` / ``databricks.feature_store``
importable (mlemu's clean-room clients, :mod:`mlemu.standins.feature_store.shim`; this stays for the
process, so modules that imported them keep working), and unless ``infer_requirements="mlflow"``
it answers mlflow's model-requirement inference without a subprocess
(:mod:`mlemu.toolkit.requirements`).
"""
from __future__ import annotations

import functools
import os
from typing import Any, Callable, TypeVar

from mlemu.standins import mlflow_globals
from mlemu.standins.feature_store import shim as feature_store_shim
from mlemu.server.transport import inprocess
from mlemu.standins.feature_store import versions as feature_store_versions
from mlemu.toolkit import requirements
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
    ``infer_requirements``: ``"mlemu"`` (the default) infers a logged model's pip requirements
    from its files in-process; ``"mlflow"`` keeps mlflow's own inference (a subprocess per model).
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
                 infer_requirements: str = "mlemu", feature_engineering: str | None = None,
                 uc_model_storage: str | None = None, **workspace_kwargs: Any) -> None:
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
        self.infer_requirements = requirements.check_mode(infer_requirements)
        self._inferring = False
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
                         registry_uri=self.registry_uri, infer_requirements=self.infer_requirements,
                         feature_engineering=self.feature_engineering,
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
        self._saved_mlflow = mlflow_globals.save()
        if self.set_mlflow_uris:
            mlflow_globals.reset()  # a URI set earlier in the process would bypass the env
        mlflow_globals.clear_artifact_repos()
        mlflow_globals.clear_prompt_cache()
        mlflow_globals.clear_store_caches()
        mlflow_globals.reset_tracing()
        feature_store_shim.install()
        feature_store_versions.choose(ws, self.feature_engineering)
        ws.start(hermetic=self.hermetic, allow_hosts=self.allow_hosts)
        try:
            if self.infer_requirements == "mlemu":
                requirements.activate()
                self._inferring = True
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
            if self._inferring:
                self._inferring = False
                requirements.deactivate()
            if self._virtual_time is not None:
                self._virtual_time.__exit__(None, None, None)
                self._virtual_time = None
            mlflow_globals.end_leaked_runs()
            mlflow_globals.flush_traces()
            mlflow_globals.reset_tracing()
            mlflow_globals.restore(self._saved_mlflow)
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
