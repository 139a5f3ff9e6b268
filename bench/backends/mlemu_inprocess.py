"""mlemu in-process: ``mlemu.emulate()`` with a fresh Workspace; tracking URI ``databricks``,
registry URI ``databricks-uc`` (what the pytest fixture does)."""
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
        info: dict[str, Any] = {"startup_ms": startup_ms,
                                "startup_what": "first Workspace() (routing app build) + emulate()"}
        for name, n in (seed or {}).items():
            from bench.seeding import seed_mlemu
            t0 = time.perf_counter()
            self.seeded[name] = seed_mlemu(self.ws, name, n)
            info[f"seed_{n}_s"] = time.perf_counter() - t0
        self.point_mlflow()
        return info

    def stop(self) -> None:
        emu = getattr(self, "_emu", None)
        if emu is not None:
            emu.__exit__(None, None, None)
            if self.ws.internal_errors:
                raise RuntimeError("mlemu internal error:\n" + self.ws.internal_errors[0])

    def model_name(self, short: str) -> str:
        return f"main.default.{short}"


BACKEND = MlemuInProcess
