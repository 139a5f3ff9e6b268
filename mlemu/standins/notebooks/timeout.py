"""A wall-clock bound on a notebook run (``timeout_seconds``) in the calling thread.

Notebook code runs in the caller's thread (so mlflow's active run, Spark's active session and
the in-process transport behave as in the test). When the time is up a timer thread raises an
exception *in that thread* (CPython's ``PyThreadState_SetAsyncExc``): it lands at the next
Python bytecode, so a cell blocked inside one long C call (a real ``time.sleep``) is stopped
when the call returns. The exception derives from ``BaseException``: ``except Exception`` in
the notebook does not swallow it. Each guard raises its own subclass, so nested runs (a
``dbutils.notebook.run`` with its own timeout) know whose time ran out.

The exception is only ever raised while the notebook's own code runs (:func:`user_code`); a
timeout that falls while the runtime does its bookkeeping (between cells, restoring the
working directory) is raised when the notebook's code resumes, so the runtime never stops
half-way through putting things back.
"""
from __future__ import annotations

import ctypes
import itertools
import threading
from contextlib import contextmanager
from types import TracebackType
from typing import Iterator

_ids = itertools.count(1)
_lock = threading.Lock()
_in_user_code: dict[int, bool] = {}
_guards: dict[int, list["TimeoutGuard"]] = {}


class RunTimedOut(BaseException):
    """Raised into a notebook's thread when its run's time is up."""


class TimeoutGuard:
    """``with TimeoutGuard(seconds) as guard: ...``; ``guard.exception`` is what it raises,
    ``guard.fired`` whether the time ran out. ``seconds`` of None or 0 means no bound."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if seconds and seconds > 0 else None
        self.exception: type[RunTimedOut] = type(f"RunTimedOut_{next(_ids)}", (RunTimedOut,), {})
        self.fired = False
        self._thread_id = threading.get_ident()
        self._timer: threading.Timer | None = None
        self._done = False

    def __enter__(self) -> "TimeoutGuard":
        with _lock:
            _guards.setdefault(self._thread_id, []).append(self)
        if self.seconds is not None:
            self._timer = threading.Timer(self.seconds, self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with _lock:
            self._done = True
            guards = _guards.get(self._thread_id, [])
            if self in guards:
                guards.remove(self)
            if not guards:
                _guards.pop(self._thread_id, None)

    def _fire(self) -> None:
        with _lock:
            if self._done:
                return
            self.fired = True
            if _in_user_code.get(self._thread_id):
                _set_async_exc(self._thread_id, self.exception)


def _pending(thread_id: int) -> TimeoutGuard | None:
    return next((g for g in _guards.get(thread_id, []) if g.fired), None)


@contextmanager
def _mode(user: bool) -> Iterator[None]:
    tid = threading.get_ident()
    with _lock:
        previous = _in_user_code.get(tid, False)
        _in_user_code[tid] = user
        if not user:
            _set_async_exc(tid, None)       # a timeout not delivered yet waits for user code
        pending = _pending(tid) if user else None
    try:
        if pending is not None:
            raise pending.exception()
        yield
    finally:
        with _lock:
            _in_user_code[tid] = previous
            if not previous:
                _set_async_exc(tid, None)
            if not previous and tid in _in_user_code and not _guards.get(tid):
                del _in_user_code[tid]
            pending = _pending(tid) if previous and not user else None
        if pending is not None:
            raise pending.exception()


def user_code() -> "contextmanager[None]":  # type: ignore[type-arg]
    """Around the notebook's own code: a timeout is raised here, at once if already due."""
    return _mode(True)


def runtime_code() -> "contextmanager[None]":  # type: ignore[type-arg]
    """Around the runtime's bookkeeping (also when a cell calls ``dbutils.notebook.run``): no
    timeout lands inside; one that fell meanwhile is raised on the way back to user code."""
    return _mode(False)


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               ctypes.py_object(exc) if exc is not None else None)
