"""Virtual time for tests: ``time.sleep`` returns at once and moves the workspace clock
instead, so a canary loop that waits an hour between steps runs in milliseconds.

    with mlemu.virtual_time(ws):       # or @pytest.mark.mlemu(virtual_time=True)
        time.sleep(3600)               # instant; ws.clock is one hour later

Timestamps the workspace hands out (runs, endpoints, inference-table rows) follow. Under
freezegun, the frozen clock is ticked instead, so ``time.time()`` in your code moves too;
without it only the workspace clock moves. Code that imported ``sleep`` by name
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


def _virtual_sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    factory = _freezegun_factory()
    if factory is not None:
        import datetime as dt
        factory.tick(dt.timedelta(seconds=seconds))
        return
    with _lock:
        clocks = list(_clocks)
    for clock in clocks:
        clock.advance(seconds)


def _freezegun_factory() -> Any:
    import sys
    api = sys.modules.get("freezegun.api")
    factories = getattr(api, "freeze_factories", None) if api is not None else None
    return factories[-1] if factories else None


class virtual_time:
    """Context manager: while active, ``time.sleep`` advances ``workspace.clock``."""

    def __init__(self, workspace: Any) -> None:
        self.clock: Clock = workspace.clock

    def __enter__(self) -> "virtual_time":
        with _lock:
            _clocks.append(self.clock)
            time.sleep = _virtual_sleep  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _clocks.remove(self.clock)
            if not _clocks:
                time.sleep = _real_sleep  # type: ignore[assignment]
