"""Scenarios: what is timed. Each module has ``seed(params)`` (runs to seed before start, or
None) and ``run(backend, params) -> dict`` (``measurements``: name -> stats, and optional
``steps``). ``params["quick"]`` asks for a smoke run."""
from __future__ import annotations

from typing import Any

# scenario name -> (module, fixed params)
SCENARIOS: dict[str, tuple[str, dict[str, Any]]] = {
    "calls": ("bench.scenarios.calls", {}),
    "search-1000": ("bench.scenarios.search", {"runs": 1000}),
    "search-10000": ("bench.scenarios.search", {"runs": 10000}),
    "seed-flow": ("bench.scenarios.seed_flow", {}),
    "registry": ("bench.scenarios.registry", {}),
    "fixture": ("bench.scenarios.fixture", {}),
}


def pick(params: dict[str, Any], full: Any, quick: Any) -> Any:
    """The value for a full run or a quick smoke run."""
    return quick if params.get("quick") else full


def pairing(backend: Any, block: int) -> Any:
    """The floor backend alternates its calls with mlemu's (see ``bench/backends/floor.py``)."""
    make = getattr(backend, "pairing", None)
    return make(block) if make is not None else None


def fresh_run_caches(i: int = 0) -> None:
    """Forget mlflow's artifact repository per run / model id before a flow iteration.

    A new run misses that cache in real use; the floor arm replays the ids of the previous
    iteration and would hit it, skipping work the client really does once per run."""
    try:
        from mlflow.tracking._tracking_service import utils
        utils._artifact_repos_cache.clear()
    except (ImportError, AttributeError):
        pass


class Share:
    """mlemu's share of each timed iteration: time inside its in-process transport divided by
    the iteration's wall time, measured in the same iterations (so the machine's load hits
    numerator and denominator alike). Only the ``mlemu`` backend has the meter (see
    ``bench/backends/mlemu_inprocess.py`` for what the numerator counts); for others
    :meth:`wrap` returns ``fn`` unchanged and :meth:`summary` None. The summary also gives the
    share by plain wall time inside the transport (``wall_median``), the method before."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.fractions: list[tuple[int, float, float]] = []

    def wrap(self, fn: Any) -> Any:
        if not hasattr(self.backend, "in_mlemu_s"):
            return fn
        import time

        def timed(i: int) -> None:
            b = self.backend
            inside, wall_inside, t0 = b.in_mlemu_s, getattr(b, "in_mlemu_wall_s", 0.0), time.perf_counter()
            fn(i)
            dt = time.perf_counter() - t0
            self.fractions.append((i, (b.in_mlemu_s - inside) / dt if dt > 0 else 0.0,
                                   (getattr(b, "in_mlemu_wall_s", 0.0) - wall_inside) / dt if dt > 0 else 0.0))

        return timed

    def summary(self, first_timed: int) -> dict[str, Any] | None:
        import statistics
        rows = [(f, w) for i, f, w in self.fractions if i >= first_timed]
        if not rows:
            return None
        values = sorted(f for f, _ in rows)
        return {"n": len(values), "median": statistics.median(values),
                "p90": values[min(len(values) - 1, max(0, round(0.9 * len(values)) - 1))],
                "wall_median": statistics.median(w for _, w in rows),
                "method": getattr(self.backend, "share_method", "wall")}
