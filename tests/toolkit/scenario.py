"""A workspace touching every service, built through the real clients (and the fixture API
where no client call exists), for the export and ``--state-dir`` tests."""
from __future__ import annotations

import datetime as dt
import decimal
import io
from typing import Any

#: Services every full scenario must leave state in (the export must round-trip each).
SERVICES = ("dbfs", "files", "mlflow_artifacts", "monitors", "permissions", "registry", "serving", "sql",
            "tracing", "tracking", "unity_catalog", "workspace_files", "workspace_registry")


def frame() -> Any:
    """A table with the dtypes workspaces hold: numbers with NaN, nullable ints, strings with
    None, timestamps naive and zoned, categories, dicts (MAP-like) and lists."""
    import numpy as np
    import pandas as pd

    return pd.DataFrame({
        "id": np.arange(4, dtype="int64"),
        "score": [0.5, float("nan"), float("inf"), -0.0],
        "n": pd.array([1, None, 3, 4], dtype="Int64"),
        "name": ["a", None, "c", "d"],
        "ts": pd.to_datetime(["2024-01-01", None, "2024-01-03", "2024-01-04"]),
        "zoned": pd.to_datetime(["2024-01-01"] * 4).tz_localize("Europe/Paris"),
        "kind": pd.Categorical(["x", "y", "x", "y"]),
        "attrs": [{"k": 1}, {}, None, {"k": 2}],
        "tags": [["a"], [], ["b", "c"], None],
        "price": [decimal.Decimal("1.10"), None, decimal.Decimal("3"), decimal.Decimal("-4.5")],
        "day": [dt.date(2024, 1, d) for d in range(1, 5)],
    })


def build(ws: Any, builders: Any = None) -> dict[str, Any]:
    """Fill ``ws`` (active in-process); returns ids the tests read back."""
    import mlflow
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.catalog import MonitorSnapshot
    from databricks.sdk.service.iam import AccessControlRequest, PermissionLevel
    from databricks.sdk.service.sql import Disposition, Format

    w = WorkspaceClient()
    out: dict[str, Any] = {}
    # tracking and artifacts
    exp = mlflow.set_experiment("/Shared/everything")
    with mlflow.start_run(run_name="r1") as run:
        mlflow.log_param("lr", "0.1")
        mlflow.log_metric("loss", 0.5, step=1)
        mlflow.log_metric("loss", float("nan"), step=2)
        mlflow.set_tag("team", "risk")
        mlflow.log_text("hello", "notes/hello.txt")
    out["run_id"], out["experiment_id"] = run.info.run_id, exp.experiment_id
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/notes/hello.txt") == "hello"
    ws.mlflow_artifacts  # noqa: B018 - no state of its own, but its (empty) saved form round-trips too
    # workspace tree and permissions
    w.workspace.upload("/Shared/train.py", b"print('train')\n", overwrite=True)
    w.permissions.set("experiments", exp.experiment_id, access_control_list=[
        AccessControlRequest(user_name="ada@example.com", permission_level=PermissionLevel.CAN_READ)])
    # Unity Catalog: a table of many dtypes, a function
    ws.unity_catalog.ensure_schema("main.ml")
    ws.unity_catalog.put_table("main.ml.features", frame())
    ws.unity_catalog.functions.create("main.ml.double_it", params=[("x", "DOUBLE")], returns="DOUBLE",
                                      body="return x * 2")
    # files, DBFS (a put and an open stream), a pre-signed download
    w.files.upload("/Volumes/main/ml/vol/data.bin", io.BytesIO(b"\x00\x01binary"), overwrite=True)
    w.dbfs.put("/tmp/a.txt", contents="YQ==", overwrite=True)
    out["dbfs_handle"] = w.dbfs.create("/tmp/stream.bin").handle
    w.dbfs.add_block(out["dbfs_handle"], "YWJj")
    ws.files.presigned.issue(ws.host, "files", "/Volumes/main/ml/vol/data.bin", ("GET",))
    # the UC registry and serving (the builders' tiny model), one invocation
    if builders is not None:
        model = builders.make_registered_model("main.ml.tiny", aliases={"champion": 1})
        endpoint = builders.make_serving_endpoint("tiny-ep", model=model)
        out["endpoint"] = endpoint.name
        w.serving_endpoints.query("tiny-ep", dataframe_records=[{"x": 1.0, "y": 0.5}])
    # the workspace registry
    ws.workspace_registry.register_files("wsreg", {"MLmodel": b"flavors: {}\n"})
    out["comment_id"] = w.model_registry.create_comment("wsreg", "1", "looks good").comment.id
    # SQL: a statement with a result of many types, one left pending
    wh = next(iter(w.warehouses.list())).id
    done = w.statement_execution.execute_statement(
        "SELECT 1 AS i, CAST(2.50 AS DECIMAL(5,2)) AS d, DATE '2024-01-02' AS day, 'x' AS s",
        warehouse_id=wh, wait_timeout="10s")
    pending = w.statement_execution.execute_statement("SELECT 2 AS x", warehouse_id=wh, wait_timeout="0s",
                                                      disposition=Disposition.EXTERNAL_LINKS,
                                                      format=Format.ARROW_STREAM)
    out["statements"] = [done.statement_id, pending.statement_id]
    # a monitor with one refresh
    ws.unity_catalog.put_table("main.ml.snap", frame()[["id", "score", "name"]])
    w.quality_monitors.create("main.ml.snap", output_schema_name="main.ml", assets_dir="/Shared/mon",
                              snapshot=MonitorSnapshot())
    # a trace, exported synchronously (mlflow 3 sends it from a thread by default)
    import os
    old = os.environ.get("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING")
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    try:
        @mlflow.trace(name="pipeline")
        def pipeline(q: str) -> str:
            return q[::-1]
        pipeline("abc")
    finally:
        if old is None:
            del os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"]
        else:
            os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = old
    return out
