"""Virtual time for tests: ``time.sleep`` returns at once and moves the workspace clock
instead, so a canary loop that waits an hour between steps runs in milliseconds.

    with mlemu.virtual_time(ws):       # or @pytest.mark.mlemu(virtual_time=True)
        time.sleep(3600)               # instant; ws.clock is one hour later

Timestamps the workspace hands out (runs, endpoints, inference-table rows) follow. Under
freezegun, the frozen clock is ticked instead, so ``time.time()`` in your code moves too;
without it only the workspace clock moves. Job schedules and triggers that fall due while
time moves run then (``ws.jobs.fire_triggers()``), so ``time.sleep(86400)`` runs a daily job. Code that imported ``sleep`` by name
(``from time import sleep``) before the patch keeps the real one.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from mlemu.server.core.clock import Clock

_lock = threading.Lock()
_real_sleep = time.sleep
_clocks: list[Clock] = []
_workspaces: list[Any] = []


def _virtual_sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    factory = _freezegun_factory()
    with _lock:
        clocks, workspaces = list(_clocks), list(_workspaces)
    if factory is not None:
        import datetime as dt
        factory.tick(dt.timedelta(seconds=seconds))
    else:
        for clock in clocks:
            clock.advance(seconds)
    for ws in workspaces:
        jobs = ws.__dict__.get("jobs")
        if jobs is not None and jobs.has_triggers():
            jobs.fire_triggers(reentrant=False)


def _freezegun_factory() -> Any:
    import sys
    api = sys.modules.get("freezegun.api")
    factories = getattr(api, "freeze_factories", None) if api is not None else None
    return factories[-1] if factories else None


class virtual_time:
    """Context manager: while active, ``time.sleep`` advances ``workspace.clock``."""

    def __init__(self, workspace: Any) -> None:
        self.clock: Clock = workspace.clock
        self.workspace = workspace

    def __enter__(self) -> "virtual_time":
        with _lock:
            _clocks.append(self.clock)
            _workspaces.append(self.workspace)
            time.sleep = _virtual_sleep  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _clocks.remove(self.clock)
            _workspaces.remove(self.workspace)
            if not _clocks:
                time.sleep = _real_sleep  # type: ignore[assignment]
