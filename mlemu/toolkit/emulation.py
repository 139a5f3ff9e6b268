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
    """

    def __init__(self, workspace: Workspace | None = None, *, hermetic: bool = True,
                 set_mlflow_uris: bool = True, url: str | None = None, virtual_time: bool = False,
                 allow_hosts: tuple[str, ...] | list[str] = (), registry_uri: str = "databricks-uc",
                 infer_requirements: str = "mlemu", **workspace_kwargs: Any) -> None:
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
        self._saved_env: dict[str, str] = {}
        self._saved_mlflow: dict[str, Any] | None = None

    # -- decorator -------------------------------------------------------------------------
    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with emulate(self.workspace, hermetic=self.hermetic, set_mlflow_uris=self.set_mlflow_uris,
                         url=self.url, virtual_time=self.virtual_time, allow_hosts=self.allow_hosts,
                         registry_uri=self.registry_uri, infer_requirements=self.infer_requirements,
                         **self._kwargs):
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
        feature_store_shim.install()
        ws.start(hermetic=self.hermetic, allow_hosts=self.allow_hosts)
        if self.infer_requirements == "mlemu":
            requirements.activate()
            self._inferring = True
        if self.virtual_time:
            from mlemu.toolkit.virtual_clock import virtual_time
            self._virtual_time = virtual_time(ws).__enter__()
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
            mlflow_globals.restore(self._saved_mlflow)
        finally:
            ws.stop()
            for k in [k for k in os.environ if k.startswith("DATABRICKS_") or k in _MLFLOW_ENV]:
                del os.environ[k]
            os.environ.update(self._saved_env)
