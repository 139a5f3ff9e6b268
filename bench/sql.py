"""SQL statement latency (on demand): ``w.statement_execution.execute_statement`` in-process
over a 100,000-row AI Gateway inference table, and the engine alone (transpile + DuckDB +
serialisation), per query shape. Prints a markdown table for docs/performance.md.

    python bench/sql.py              # ~30 s
    python bench/sql.py --rows 10000 --repeat 5

The table is synthetic (the documented inference-table schema, 4 served entities, 2 % errors,
requests over 30 days) so the run does not depend on serving a model 100,000 times.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

QUERIES = {
    "count(*)": "SELECT count(*) FROM {t}",
    "hourly latency (seed, fixed)": "SELECT date_trunc('hour', request_time) AS hour, count(*) AS n, "
                                    "avg(execution_duration_ms) AS avg_ms, percentile(execution_duration_ms, 0.95) "
                                    "AS p95, sum(CASE WHEN status_code != 200 THEN 1 ELSE 0 END) AS errors "
                                    "FROM {t} WHERE request_time >= current_date() - INTERVAL 1 DAY "
                                    "GROUP BY date_trunc('hour', request_time) ORDER BY hour",
    "percentile_approx per entity": "SELECT served_entity_id, percentile_approx(execution_duration_ms, 0.5) AS p50, "
                                    "count(*) AS n FROM {t} GROUP BY ALL ORDER BY 1",
    "daily error rate, count_if": "SELECT date_trunc('DAY', request_time) AS day, count_if(status_code <> 200) / "
                                  "count(*) AS error_rate FROM {t} GROUP BY ALL ORDER BY 1",
    "colon JSON path aggregate": "SELECT served_entity_id, avg(response:predictions[0]::double) AS mean_pred "
                                 "FROM {t} WHERE status_code = 200 GROUP BY 1 ORDER BY 1",
    "QUALIFY latest per entity": "SELECT served_entity_id, databricks_request_id FROM {t} QUALIFY row_number() "
                                 "OVER (PARTITION BY served_entity_id ORDER BY request_time DESC) = 1",
    "named parameters": "SELECT count(*) FROM {t} WHERE status_code = :code AND served_entity_id = :e",
}


def _table(n: int):  # type: ignore[no-untyped-def]
    import datetime as dt

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    start = pd.Timestamp.now().normalize() - pd.Timedelta(days=29)
    times = start + pd.to_timedelta(np.sort(rng.integers(0, 30 * 86400, n)), unit="s")
    status = np.where(rng.random(n) < 0.02, 400, 200)
    preds = rng.integers(0, 2, n)
    return pd.DataFrame({
        "databricks_request_id": [f"req-{i:07d}" for i in range(n)],
        "request_date": [t.date() for t in times.to_pydatetime()],
        "client_request_id": None,
        "request_time": times,
        "status_code": status.astype("int32"),
        "sampling_fraction": 1.0,
        "execution_duration_ms": rng.gamma(2.0, 20.0, n).astype("int64"),
        "request": [json.dumps({"dataframe_records": [{"feature1": float(x)}]}) for x in rng.normal(size=n)],
        "response": [json.dumps({"predictions": [int(p)]}) for p in preds],
        "logging_error_codes": [[] for _ in range(n)],
        "served_entity_id": [f"entity-{i % 4}" for i in range(n)],
        "requester": "user@company.com",
    }), dt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    import duckdb
    import sqlglot
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.sql import StatementParameterListItem

    import mlemu
    from mlemu.server.services.serving.inference_tables import columns

    ws = mlemu.Workspace()
    with mlemu.emulate(ws):
        frame, _ = _table(args.rows)
        ws.unity_catalog.ensure_schema("ml.serving")
        t0 = time.perf_counter()
        ws.unity_catalog.put_table("ml.serving.payload", frame, columns=columns("gateway"))
        put_ms = (time.perf_counter() - t0) * 1000
        w = WorkspaceClient()
        wh = next(iter(w.warehouses.list())).id
        params = [StatementParameterListItem(name="code", value="200", type="INT"),
                  StatementParameterListItem(name="e", value="entity-1")]
        engine_params = [("code", "200", "INT"), ("e", "entity-1", None)]
        t0 = time.perf_counter()
        w.statement_execution.execute_statement("SELECT count(*) FROM ml.serving.payload", wh)
        first_ms = (time.perf_counter() - t0) * 1000
        lines = [f"{args.rows:,}-row inference table; put_table {put_ms:.0f} ms; first statement (imports, "
                 f"registration) {first_ms:.0f} ms. Medians of {args.repeat} runs.", "",
                 "| query | rows out | SDK execute_statement ms | engine alone ms |", "|---|---|---|---|"]
        for name, sql in QUERIES.items():
            sql = sql.format(t="ml.serving.payload")
            kw = {"parameters": params} if ":code" in sql else {}
            sdk, eng = [], []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                r = w.statement_execution.execute_statement(sql, wh, **kw)
                sdk.append((time.perf_counter() - t0) * 1000)
                assert r.status.state.value == "SUCCEEDED", r.status
                with ws.lock:
                    t0 = time.perf_counter()
                    ws.sql.engine.execute(sql, parameters=engine_params if kw else None)
                    eng.append((time.perf_counter() - t0) * 1000)
            lines.append(f"| {name} | {r.manifest.total_row_count} | {statistics.median(sdk):.1f} | "
                         f"{statistics.median(eng):.1f} |")
        lines += ["", f"Python {platform.python_version()}, duckdb {duckdb.__version__}, sqlglot {sqlglot.__version__}."]
        print("\n".join(lines))


if __name__ == "__main__":
    main()
