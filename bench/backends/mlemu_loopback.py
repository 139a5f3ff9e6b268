"""mlemu over loopback HTTP: ``mlemu serve --port 0 --memory`` as a subprocess, the client in
the bench process with DATABRICKS_HOST/TOKEN from its output. For seeded scenarios the server
process is ``bench/serve_seeded.py``: the same LoopbackServer, its workspace seeded first."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import procs
from bench.backends import Backend, guard_network


class MlemuLoopback(Backend):
    name = "mlemu-loopback"
    tracking_uri = "databricks"
    registry_uri = "databricks-uc"

    def start(self, seed: dict[str, int] | None = None) -> dict[str, Any]:
        if seed:
            args = [sys.executable, "-m", "bench.serve_seeded"]
            for name, n in seed.items():
                args += ["--seed", f"{name}={n}"]
            what = "bench.serve_seeded subprocess to first answer (includes seeding)"
        else:
            cli = Path(sys.executable).with_name("mlemu")
            base = [str(cli)] if cli.exists() else [sys.executable, "-m", "mlemu.cli"]
            args = base + ["serve", "--port", "0", "--memory"]
            what = "`mlemu serve --port 0 --memory` subprocess to first answer"
        t0 = time.perf_counter()
        self.proc = procs.popen(args, stdout=subprocess.PIPE, cwd=self.workdir)
        lines = procs.read_lines_until(self.proc, 2 + (1 if seed else 0), deadline_s=300)
        env = dict(line.removeprefix("export ").split("=", 1) for line in lines
                   if line.startswith("export "))
        host = env["DATABRICKS_HOST"]
        procs.wait_http_ok(f"{host}/.well-known/databricks-config", 60, self.proc)
        startup_ms = (time.perf_counter() - t0) * 1000
        for line in lines:
            if line.startswith("seeded "):
                import json
                self.seeded.update(json.loads(line.removeprefix("seeded ")))
        for k in [k for k in os.environ if k.startswith("DATABRICKS_")]:
            del os.environ[k]
        os.environ["DATABRICKS_HOST"] = host
        os.environ["DATABRICKS_TOKEN"] = env["DATABRICKS_TOKEN"]
        guard_network()
        self.point_mlflow()
        return {"startup_ms": startup_ms, "startup_what": what}

    def stop(self) -> None:
        procs.stop(getattr(self, "proc", None))

    def model_name(self, short: str) -> str:
        return f"main.default.{short}"


BACKEND = MlemuLoopback
