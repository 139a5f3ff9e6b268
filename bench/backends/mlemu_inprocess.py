"""mlemu in-process: ``mlemu.emulate()`` with a fresh Workspace; tracking URI ``databricks``,
registry URI ``databricks-uc`` (what the pytest fixture does).

``in_mlemu_s`` adds up the time spent inside mlemu's in-process transport (everything from
``HTTPAdapter.send`` to the ``requests.Response`` it returns: routing, validation, the handler,
rendering, the journal): the numerator of mlemu's *share* of a flow (``bench.scenarios.share``)."""
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
        from requests.adapters import HTTPAdapter

        inner = HTTPAdapter.send  # mlemu's in-process transport, installed by emulate()
        clock = time.perf_counter
        self.in_mlemu_s = 0.0

        def send(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return inner(*args, **kwargs)
            finally:
                self.in_mlemu_s += clock() - t0

        HTTPAdapter.send = send  # type: ignore[method-assign]  # emulate()'s exit restores requests'

    def stop(self) -> None:
        emu = getattr(self, "_emu", None)
        if emu is not None:
            emu.__exit__(None, None, None)
            if self.ws.internal_errors:
                raise RuntimeError("mlemu internal error:\n" + self.ws.internal_errors[0])

    def model_name(self, short: str) -> str:
        return f"main.default.{short}"


BACKEND = MlemuInProcess
