"""Statements run on their own threads, outside the workspace lock (``ws.sql.runner``).

A statement may take seconds (a cross join); meanwhile every other request must be answered,
so the engine runs DuckDB without holding ``ws.lock`` (it takes the lock only to plan a
statement over a snapshot of its tables and to write results back). Each submitted statement
gets a daemon thread that waits for one of :data:`MAX_RUNNING` slots (a warehouse queues
queries beyond its capacity, too), so a burst of statements never runs more than that many
DuckDB queries at once, and an idle workspace keeps no threads. :meth:`Run.cancel`
interrupts DuckDB (``connection.interrupt()``); :meth:`Run.wait` lets a request wait for the
end without the lock.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

#: DuckDB queries of one workspace running at once [emu]; later ones wait for a slot.
MAX_RUNNING = 4


class Canceled(Exception):
    """The statement was canceled (``/cancel``, ``on_wait_timeout=CANCEL``, close) while it ran."""


class Run:
    """One statement's execution: cancel it from any thread, wait for its end."""

    def __init__(self, job: Callable[["Run"], None]) -> None:
        self.job = job
        self.canceled = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._connection: Any = None

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the run has ended (within ``timeout`` seconds, real time)."""
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Stop the run: a queued run never starts, a running DuckDB query is interrupted."""
        with self._lock:  # held while interrupting: the connection cannot be closed meanwhile
            self.canceled = True
            if self._connection is not None:
                self._connection.interrupt()

    def attach(self, connection: Any) -> None:
        """The DuckDB connection the run is about to use (so :meth:`cancel` can interrupt it)."""
        with self._lock:
            if self.canceled:
                raise Canceled()
            self._connection = connection

    def detach(self) -> None:
        """Before the connection is closed (so :meth:`cancel` never interrupts a closed one)."""
        with self._lock:
            self._connection = None

    def check(self) -> None:
        if self.canceled:
            raise Canceled()

    def finished(self) -> None:
        self._done.set()


class Runner:
    """Starts runs on daemon threads, at most :data:`MAX_RUNNING` executing at once."""

    def __init__(self, max_running: int = MAX_RUNNING) -> None:
        self._slots = threading.BoundedSemaphore(max_running)

    def submit(self, job: Callable[[Run], None]) -> Run:
        run = Run(job)
        threading.Thread(target=self._work, args=(run,), name="mlemu-sql", daemon=True).start()
        return run

    def _work(self, run: Run) -> None:
        try:
            with self._slots:
                run.job(run)
        finally:
            run.finished()
