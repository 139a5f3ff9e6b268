"""``mlflow.search_runs(experiment_ids=[...], output_format="list")`` returning every run of an
experiment seeded with 1,000 or 10,000 runs (5 params, 5 metrics, 7 tags each). The client
pages as it always does (10,000 runs a page in the fluent API)."""
from __future__ import annotations

from typing import Any

from bench.scenarios import Share, pairing, pick
from bench.stats import measure


def _name(params: dict[str, Any]) -> str:
    return f"/Shared/bench-search-{params['runs']}"


def seed(params: dict[str, Any]) -> dict[str, int]:
    return {_name(params): int(params["runs"])}


def run(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    import mlflow

    n = int(params["runs"])
    exp_id = backend.seeded[_name(params)]
    big = n >= 10000
    opts = dict(warmup=pick(params, 1 if big else 2, 1),
                iterations=pick(params, 6 if big else 20, 3 if big else 5),
                budget_s=pick(params, 30.0 if big else 15.0, 5.0),
                min_iterations=pick(params, 3, 2), pair=pairing(backend, 1))

    def search(i: int) -> None:
        runs = mlflow.search_runs(experiment_ids=[exp_id], output_format="list")
        if len(runs) != n:
            raise AssertionError(f"search_runs returned {len(runs)} runs, expected {n}")

    share = Share(backend)
    result = measure(share.wrap(search), **opts)
    return {"measurements": {f"search_runs_{n}": result},
            "shares": {f"search_runs_{n}": share.summary(result["first_timed"])}}
