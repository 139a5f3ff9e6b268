"""Virtual time for tests: ``time.sleep`` returns at once and moves the workspace clock
instead, so a canary loop that waits an hour between steps runs in milliseconds.

    with mlemu.virtual_time(ws):       # or @pytest.mark.mlemu(virtual_time=True)
        time.sleep(3600)               # instant; ws.clock is one hour later

Timestamps the workspace hands out (runs, endpoints, inference-table rows) follow. Under
freezegun, the frozen clock is ticked instead, so ``time.time()`` in your code moves too;
without it only the workspace clock moves. Job schedules and triggers that fall due while
time moves run then (``ws.jobs.fire_triggers()``), so ``time.sleep(86400)`` runs a daily job.
Code that imported ``sleep`` by name (``from time import sleep``) before the patch keeps the
real one.

Only the thread that entered ``virtual_time`` (the test's thread) moves virtual time. Every
other thread sleeps for real: background threads that poll in a loop (py4j's client-server
thread under Spark, a library's heartbeat) would otherwise move the workspace clock by days.
Code under test that sleeps in its own worker thread can opt that thread in with
``virtual_time.follow()`` called from it.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from mlemu.server.core.clock import Clock

_lock = threading.Lock()
_real_sleep = time.sleep
#: Each active virtual time: its clock, the threads whose sleeps move it, and its workspace
#: (whose job triggers fall due as time moves).
_clocks: list[tuple[Clock, set[int], Any]] = []


def _virtual_sleep(seconds: float) -> None:
    me = threading.get_ident()
    with _lock:
        mine = [(clock, ws) for clock, threads, ws in _clocks if me in threads]
    if not mine:
        _real_sleep(seconds)  # a thread not under test: real time
        return
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    factory = _freezegun_factory()
    if factory is not None:
        import datetime as dt
        factory.tick(dt.timedelta(seconds=seconds))
    else:
        for clock, _ in mine:
            clock.advance(seconds)
    for _, ws in mine:
        jobs = ws.__dict__.get("jobs")
        if jobs is not None and jobs.has_triggers():
            jobs.fire_triggers(reentrant=False)


def sleep_on(clock: Clock, seconds: float) -> None:
    """Sleep on behalf of the workspace that owns ``clock`` (an injected fault's delay, which a
    loopback server runs in its own thread): virtual when that workspace is under virtual
    time, whichever thread asks; a real ``time.sleep`` otherwise."""
    with _lock:
        virtual = any(c is clock for c, _, _ in _clocks)
    if not virtual:
        time.sleep(seconds)
        return
    factory = _freezegun_factory()
    if factory is not None:
        import datetime as dt
        factory.tick(dt.timedelta(seconds=seconds))
    else:
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
        self.workspace = workspace
        self._entry: tuple[Clock, set[int], Any] = (self.clock, set(), workspace)

    def follow(self) -> None:
        """Make the calling thread's sleeps move this virtual time too (a worker thread of the
        code under test); threads are otherwise left on real time."""
        with _lock:
            self._entry[1].add(threading.get_ident())

    def __enter__(self) -> "virtual_time":
        with _lock:
            self._entry[1].add(threading.get_ident())
            _clocks.append(self._entry)
            time.sleep = _virtual_sleep  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        with _lock:
            _clocks.remove(self._entry)
            if not _clocks:
                time.sleep = _real_sleep  # type: ignore[assignment]
