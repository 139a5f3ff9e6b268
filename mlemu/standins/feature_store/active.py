"""The workspace the feature-engineering clients act on: the one the test or the
``mlemu.emulate()`` block made active (the real clients act on "the workspace the notebook
runs in"; they need no credentials here)."""
from __future__ import annotations

from typing import Any

from mlemu.server.transport import inprocess

NO_WORKSPACE = ("No emulated Databricks workspace is active. Use the `mlemu` pytest fixture or "
                "`with mlemu.emulate():` around feature engineering client calls.")


def workspace() -> Any:
    """The active :class:`mlemu.Workspace`, or RuntimeError saying how to get one."""
    ws = inprocess.current()
    if ws is None:
        raise RuntimeError(NO_WORKSPACE)
    return ws
