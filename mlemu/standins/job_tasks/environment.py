"""The client environment a job task's code runs in: the workspace's URL and token in
``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN`` (the URL the run was started through: the
in-process host, or the loopback server's address), ``MLFLOW_TRACKING_URI=databricks``, no
other ``DATABRICKS_*`` settings, and the workspace answering in-process for the stand-ins that
act on "the workspace the code runs in" (the feature engineering client).

The environment is process-wide: tasks of one workspace nest (a ``run_job_task`` runs its child
job's tasks while it waits); tasks of two workspaces served by one process at the same time
would see each other's variables, so they take turns (:data:`_turn`).
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from mlemu.server.transport import inprocess

_lock = threading.Lock()
_turn = threading.Condition(_lock)
_owner: tuple[str, str] | None = None
_depth = 0
_saved: dict[str, str] = {}
_activated: Any = None


@contextmanager
def client_environment(ws: Any, base_url: str, token: str) -> Iterator[None]:
    """Run the body with the task's clients pointed at ``base_url``."""
    global _owner, _depth, _saved, _activated
    key = (base_url, token)
    with _turn:
        while _owner is not None and _owner != key:
            _turn.wait()
        if _depth == 0:
            _owner = key
            _saved = {k: v for k, v in os.environ.items()
                      if k.startswith("DATABRICKS_") or k == "MLFLOW_TRACKING_URI"}
            for k in [k for k in os.environ if k.startswith("DATABRICKS_")]:
                del os.environ[k]
            os.environ["DATABRICKS_HOST"] = base_url
            os.environ["DATABRICKS_TOKEN"] = token
            os.environ.setdefault("MLFLOW_TRACKING_URI", _saved.get("MLFLOW_TRACKING_URI", "databricks"))
            if not inprocess.is_active(ws):
                inprocess.activate(ws, hermetic=False)
                _activated = ws
        _depth += 1
    try:
        yield
    finally:
        with _turn:
            _depth -= 1
            if _depth == 0:
                for k in [k for k in os.environ if k.startswith("DATABRICKS_") or k == "MLFLOW_TRACKING_URI"]:
                    del os.environ[k]
                os.environ.update(_saved)
                if _activated is not None:
                    inprocess.deactivate(_activated)
                    _activated = None
                _owner = None
                _turn.notify_all()
