"""mlemu: an embedded emulator of a Databricks workspace for MLflow and databricks-sdk.

    import mlemu
    with mlemu.emulate() as ws:      # or the ``mlemu`` pytest fixture
        ...                          # real mlflow / databricks-sdk code, unchanged
        ws.calls.assert_called("tracking.runs.create")

The package has three parts: ``mlemu.server`` (the emulated workspace: services, wire,
transports, UI), ``mlemu.standins`` (client-side stand-ins where no HTTP path exists: the
feature engineering clients, Spark, a DB-API connection) and ``mlemu.toolkit`` (fixtures,
``emulate()``, builders, virtual time, snapshots, the control plane); ``mlemu.Workspace`` ties
them together. Names are imported lazily so ``import mlemu`` stays cheap; the stand-ins are
reachable as ``mlemu.sql``, ``mlemu.feature_store``, ``mlemu.spark`` and ``mlemu.notebooks``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Workspace", "emulate", "serve", "virtual_time", "ApiError", "NetworkAccessBlocked",
           "SocketAccessBlocked", "hookimpl", "__version__"]

if TYPE_CHECKING:
    from mlemu.server.core.errors import ApiError
    from mlemu.workspace import Workspace
    from mlemu.toolkit.emulation import emulate
    from mlemu.server.transport.inprocess import NetworkAccessBlocked
    from mlemu.server.transport.socket_guard import SocketAccessBlocked
    from mlemu.server.ui.server import serve
    from mlemu.toolkit.virtual_clock import virtual_time
    from mlemu.server.hookspecs import hookimpl

_LAZY = {
    "Workspace": "mlemu.workspace",
    "emulate": "mlemu.toolkit.emulation",
    "serve": "mlemu.server.ui.server",  # the loopback server, with the MLflow UI on ui=True
    "ApiError": "mlemu.server.core.errors",
    "NetworkAccessBlocked": "mlemu.server.transport.inprocess",
    "virtual_time": "mlemu.toolkit.virtual_clock",
    "SocketAccessBlocked": "mlemu.server.transport.socket_guard",
    "hookimpl": "mlemu.server.hookspecs",  # for plugins: ``@mlemu.hookimpl``
}

#: Stand-in packages reachable as attributes (``mlemu.sql.connect()``).
_SUBPACKAGES = {
    "sql": "mlemu.standins.sql",
    "feature_store": "mlemu.standins.feature_store",
    "spark": "mlemu.standins.spark",
    "bundles": "mlemu.toolkit.bundles",
    "notebooks": "mlemu.standins.notebooks",
}


def __getattr__(name: str) -> Any:
    import importlib
    if name in _SUBPACKAGES:
        value = importlib.import_module(_SUBPACKAGES[name])
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlemu' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
