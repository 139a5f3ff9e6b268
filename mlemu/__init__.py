"""mlemu: an embedded emulator of a Databricks workspace for MLflow and databricks-sdk.

    import mlemu
    with mlemu.emulate() as ws:      # or the ``mlemu`` pytest fixture
        ...                          # real mlflow / databricks-sdk code, unchanged
        ws.calls.assert_called("tracking.runs.create")

Names are imported lazily so ``import mlemu`` stays cheap.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Workspace", "emulate", "serve", "virtual_time", "ApiError", "NetworkAccessBlocked",
           "SocketAccessBlocked", "__version__"]

if TYPE_CHECKING:
    from mlemu.core.errors import ApiError
    from mlemu.workspace import Workspace
    from mlemu.emulation import emulate
    from mlemu.transport.inprocess import NetworkAccessBlocked
    from mlemu.transport.socket_guard import SocketAccessBlocked
    from mlemu.ui.server import serve
    from mlemu.virtual_clock import virtual_time

_LAZY = {
    "Workspace": "mlemu.workspace",
    "emulate": "mlemu.emulation",
    "serve": "mlemu.ui.server",  # the loopback server, with the MLflow UI on ui=True
    "ApiError": "mlemu.core.errors",
    "NetworkAccessBlocked": "mlemu.transport.inprocess",
    "virtual_time": "mlemu.virtual_clock",
    "SocketAccessBlocked": "mlemu.transport.socket_guard",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlemu' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
