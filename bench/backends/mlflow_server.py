"""A local ``mlflow server`` on a sqlite file, on a free loopback port.

The server is started by the orchestrator (``MlflowServer``), once per bench run, after the
sqlite file was seeded with the search experiments; its start-up time (process start to
``/health`` answering) is reported. Workers reach it through ``--server-url``."""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from bench import procs
from bench.backends import Backend, Unsupported, guard_network


class MlflowServerClient(Backend):
    name = "mlflow-server"

    def start(self, seed: dict[str, int] | None = None) -> dict[str, Any]:
        url = self.options.get("server_url")
        if not url:
            raise Unsupported("no mlflow server was started (see --quick / --only)")
        self.tracking_uri = self.registry_uri = url
        seeded = json.loads(self.options.get("server_seeded") or "{}")
        for name in seed or {}:
            if name not in seeded:
                raise Unsupported(f"the server's database was not seeded with {name!r}")
            self.seeded[name] = seeded[name]
        guard_network()
        self.point_mlflow()
        return {}


BACKEND = MlflowServerClient


class MlflowServer:
    """The server process (orchestrator side). ``start`` seeds the file, then starts it."""

    def __init__(self, workdir: Path, workers: int, python: str) -> None:
        self.workdir = workdir
        self.workers = workers
        self.python = python
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.seeded: dict[str, str] = {}
        self.info: dict[str, Any] = {}

    def start(self, seed: dict[str, int], env: dict[str, str]) -> dict[str, Any]:
        db = self.workdir / "mlflow.db"
        if seed:
            t0 = time.perf_counter()
            out = subprocess.run(
                [self.python, "-m", "bench.worker", "seed-sqlite", "--db", str(db),
                 "--artifacts", "mlflow-artifacts:/", "--seed-json", json.dumps(seed)],
                env=env, cwd=self.workdir, capture_output=True, text=True, timeout=900)
            if out.returncode != 0:
                raise RuntimeError(f"seeding the server's database failed:\n{out.stderr[-3000:]}")
            self.seeded = json.loads(out.stdout.strip().splitlines()[-1])
            self.info["seed_s"] = time.perf_counter() - t0
        port = procs.free_port()
        mlflow_cli = str(Path(self.python).with_name("mlflow"))
        args = [mlflow_cli, "server", "--backend-store-uri", f"sqlite:///{db}",
                "--artifacts-destination", str(self.workdir / "mlartifacts"),
                "--host", "127.0.0.1", "--port", str(port)]
        if self.workers:
            args += ["--workers", str(self.workers)]
        t0 = time.perf_counter()
        log = open(self.workdir / "server.log", "wb")
        self.proc = procs.popen(args, env=env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        procs.wait_http_ok(f"{self.url}/health", 180, self.proc)
        self.info["startup_ms"] = (time.perf_counter() - t0) * 1000
        workers = (f"{self.workers} worker" + ("s" if self.workers != 1 else "")) if self.workers \
            else "default workers"
        self.info["startup_what"] = f"`mlflow server` ({workers}) process start to /health"
        return self.info

    def stop(self) -> None:
        procs.stop(self.proc, grace_s=10)
        self.proc = None
