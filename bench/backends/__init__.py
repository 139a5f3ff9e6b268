"""The backends a scenario runs against, one module each. A backend, inside a worker process,
points mlflow at its store (``start``), seeds runs outside any timing, and cleans up (``stop``).

Names (used by ``--only`` and in the report):

* ``mlemu``          mlemu in-process (``mlemu.emulate()``, tracking URI ``databricks``)
* ``mlemu-loopback`` ``mlemu serve --port 0 --memory`` in a subprocess, real HTTP on 127.0.0.1
* ``sqlite``         mlflow's SqlAlchemyStore on a sqlite file
* ``mlflow-server``  a local ``mlflow server`` (sqlite backend) on a loopback port
* ``floor``          the same client code answered by prebuilt responses (the client's floor)
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

BACKENDS = {
    "mlemu": "bench.backends.mlemu_inprocess",
    "mlemu-loopback": "bench.backends.mlemu_loopback",
    "sqlite": "bench.backends.sqlite_store",
    "mlflow-server": "bench.backends.mlflow_server",
    "floor": "bench.backends.floor",
}

LABELS = {
    "mlemu": "mlemu in-process",
    "mlemu-loopback": "mlemu loopback HTTP",
    "sqlite": "mlflow sqlite store",
    "mlflow-server": "mlflow server (sqlite)",
    "floor": "client floor (canned)",
}


class Unsupported(Exception):
    """This backend cannot run this scenario (the report says why)."""


class Backend:
    """Base class. ``start`` returns start-up facts for the report (``startup_ms`` etc.)."""

    name = "?"
    tracking_uri: str | None = None
    registry_uri: str | None = None

    def __init__(self, workdir: Path, options: dict[str, Any]) -> None:
        self.workdir = workdir
        self.options = options
        self.seeded: dict[str, str] = {}

    def start(self, seed: dict[str, int] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def stop(self) -> None:
        pass

    def model_name(self, short: str) -> str:
        """Registered model name: three-level in Unity Catalog, plain elsewhere."""
        return short

    # helpers ------------------------------------------------------------------------------
    def point_mlflow(self) -> None:
        import mlflow
        mlflow.set_tracking_uri(self.tracking_uri)
        if self.registry_uri:
            mlflow.set_registry_uri(self.registry_uri)


def load(name: str, workdir: Path, options: dict[str, Any]) -> Backend:
    module = importlib.import_module(BACKENDS[name])
    return module.BACKEND(workdir, options)


def guard_network(allowed_netlocs: tuple[str, ...] = ()) -> None:
    """Refuse HTTP to anything but loopback (and ``allowed_netlocs``): the bench never
    leaves the machine, whatever a client library tries (telemetry, version checks)."""
    from urllib.parse import urlsplit

    from requests.adapters import HTTPAdapter

    inner = HTTPAdapter.send

    def send(adapter: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        host = urlsplit(request.url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1") and host not in allowed_netlocs:
            raise RuntimeError(f"bench: refused non-loopback request {request.method} {request.url}")
        return inner(adapter, request, *args, **kwargs)

    HTTPAdapter.send = send  # type: ignore[method-assign]
