"""mlemu in-process: ``mlemu.emulate()`` with a fresh Workspace; tracking URI ``databricks``,
registry URI ``databricks-uc`` (what the pytest fixture does).

``in_mlemu_s`` adds up the time spent inside mlemu's in-process transport (everything from
``HTTPAdapter.send`` to the ``requests.Response`` it returns: routing, validation, the handler,
rendering, the journal): the numerator of mlemu's *share* of a flow (``bench.scenarios.Share``).
Per request it is the time the calling thread was running there or waiting for a core
(its CPU time, ``time.thread_time_ns``, + its run-queue delay from ``/proc/thread-self/schedstat``;
at most the request's wall time, so the clock reads themselves do not count), so the machine's other load counts
as it does in the flow's wall time, but a thread that waits inside the transport for the GIL
while the client's other threads run (the registry flow copies files on a thread pool) is not
counted for that wait, and concurrent requests are not counted twice. ``in_mlemu_wall_s`` is the
plain wall time inside the transport, summed over threads (the method before; also the fallback
where schedstat is missing)."""
from __future__ import annotations

import time
from typing import Any

from bench.backends import Backend


class MlemuInProcess(Backend):
    name = "mlemu"
    tracking_uri = "databricks"
    registry_uri = "databricks-uc"

    def start(self, seed: dict[str, int] | None = None) -> dict[str, Any]:
        import mlemu
        t0 = time.perf_counter()
        self.ws = mlemu.Workspace()
        self._emu = mlemu.emulate(self.ws)
        self._emu.__enter__()
        startup_ms = (time.perf_counter() - t0) * 1000
        self._meter_transport()
        info: dict[str, Any] = {"startup_ms": startup_ms,
                                "startup_what": "first Workspace() (routing app build) + emulate()"}
        for name, n in (seed or {}).items():
            from bench.seeding import seed_mlemu
            t0 = time.perf_counter()
            self.seeded[name] = seed_mlemu(self.ws, name, n)
            info[f"seed_{n}_s"] = time.perf_counter() - t0
        self.point_mlflow()
        return info

    def _meter_transport(self) -> None:
        import os
        import threading

        from requests.adapters import HTTPAdapter

        inner = HTTPAdapter.send  # mlemu's in-process transport, installed by emulate()
        clock = time.perf_counter
        self.in_mlemu_s = 0.0
        self.in_mlemu_wall_s = 0.0
        self.share_method = "schedstat" if _thread_schedstat() is not None else "wall"
        local = threading.local()
        self._fds: list[int] = []  # one per thread that sent a request, closed by stop()
        pread = os.pread

        cpu_ns = time.thread_time_ns

        def delay_ns() -> int:
            """Run-queue delay of the calling thread so far (ns). Schedstat's CPU field is not
            used: for a running thread it lags by up to a scheduler tick (thread_time_ns is
            exact); the delay of a wait is added when the thread gets the core back, so it is
            complete whenever the thread itself reads it."""
            fd = getattr(local, "fd", None)
            if fd is None:
                fd = local.fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
                self._fds.append(fd)
            return int(pread(fd, 128, 0).split()[1])

        if self.share_method == "wall":
            def send(*args: Any, **kwargs: Any) -> Any:
                t0 = clock()
                try:
                    return inner(*args, **kwargs)
                finally:
                    dt = clock() - t0
                    self.in_mlemu_s += dt
                    self.in_mlemu_wall_s += dt
        else:
            def send(*args: Any, **kwargs: Any) -> Any:
                d0 = delay_ns()
                c0 = cpu_ns()
                t0 = clock()
                try:
                    return inner(*args, **kwargs)
                finally:
                    wall = clock() - t0
                    c1 = cpu_ns()
                    self.in_mlemu_wall_s += wall
                    # Running + runnable time cannot exceed the wall time: where it reads more,
                    # the excess is the clock and schedstat reads themselves (a thread that
                    # never blocked inside), so count the wall time.
                    self.in_mlemu_s += min(wall, (c1 - c0 + delay_ns() - d0) / 1e9)

        HTTPAdapter.send = send  # type: ignore[method-assign]  # emulate()'s exit restores requests'

    def stop(self) -> None:
        import os
        for fd in getattr(self, "_fds", ()):
            os.close(fd)
        emu = getattr(self, "_emu", None)
        if emu is not None:
            emu.__exit__(None, None, None)
            if self.ws.internal_errors:
                raise RuntimeError("mlemu internal error:\n" + self.ws.internal_errors[0])

    def model_name(self, short: str) -> str:
        return f"main.default.{short}"


def _thread_schedstat() -> tuple[int, int] | None:
    """(CPU ns, run-queue delay ns) of the calling thread, or None without schedstat (not Linux)."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            cpu, delay, _ = f.read().split()
        return int(cpu), int(delay)
    except (OSError, ValueError):
        return None


BACKEND = MlemuInProcess
