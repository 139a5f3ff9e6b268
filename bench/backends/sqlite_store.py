"""mlflow's own sqlite store: tracking URI ``sqlite:///<tmp>/mlflow.db`` (registry too), artifacts
in a local directory. Schema creation is start-up, never part of a per-call timing."""
from __future__ import annotations

import time
from typing import Any

from bench.backends import Backend, guard_network


class SqliteStore(Backend):
    name = "sqlite"

    def start(self, seed: dict[str, int] | None = None) -> dict[str, Any]:
        db = self.workdir / "mlflow.db"
        self.tracking_uri = self.registry_uri = f"sqlite:///{db}"
        artifacts = (self.workdir / "mlruns").as_uri()
        from mlflow.tracking._tracking_service.utils import _get_store
        t0 = time.perf_counter()
        store = _get_store(self.tracking_uri, artifacts)  # cached: the client reuses it
        startup_ms = (time.perf_counter() - t0) * 1000
        info: dict[str, Any] = {"startup_ms": startup_ms,
                                "startup_what": "SqlAlchemyStore on a new file (schema creation)"}
        for name, n in (seed or {}).items():
            from bench.seeding import seed_sqlite
            t0 = time.perf_counter()
            self.seeded[name] = seed_sqlite(store, name, n)
            info[f"seed_{n}_s"] = time.perf_counter() - t0
        guard_network()
        self.point_mlflow()
        return info


BACKEND = SqliteStore
