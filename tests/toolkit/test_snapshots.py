"""Snapshots (in memory) and exports (on disk) of a whole workspace, driven through the real
mlflow and databricks-sdk clients: a round trip is exact, artifacts included."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import mlemu as mlemu_pkg


def _scenario(trained_model=None) -> dict:
    """Experiments, runs with params/metrics/artifacts, a UC catalog: the observable state."""
    import mlflow
    from databricks.sdk import WorkspaceClient

    mlflow.set_experiment("/Shared/snap")
    with mlflow.start_run(run_name="r1") as run:
        mlflow.log_param("lr", "0.1")
        mlflow.log_metric("acc", 0.9, step=1)
        mlflow.log_text("hello", "notes/hello.txt")
    WorkspaceClient().catalogs.create(name="snapcat")
    return {"run_id": run.info.run_id}


def _observe(run_id: str) -> dict:
    import mlflow
    from databricks.sdk import WorkspaceClient

    run = mlflow.get_run(run_id)
    runs = mlflow.search_runs(search_all_experiments=True, output_format="list")
    return {
        "params": run.data.params, "metrics": run.data.metrics,
        "artifact": mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt"),
        "runs": sorted(r.info.run_id for r in runs),
        "catalogs": sorted(c.name for c in WorkspaceClient().catalogs.list()),
    }


def test_restore_puts_everything_back_artifacts_included(mlemu):
    import mlflow

    ids = _scenario()
    before = _observe(ids["run_id"])
    snap = mlemu.snapshot()
    # change everything the snapshot holds
    mlflow.delete_run(ids["run_id"])
    with mlflow.start_run(run_name="later"):
        mlflow.log_metric("acc", 0.1)
    mlemu.storage.write("dbfs", "/stray.txt", b"x")
    mlemu.clock.advance(3600)
    mlemu.restore(snap)
    assert _observe(ids["run_id"]) == before
    assert not mlemu.storage.exists("dbfs", "/stray.txt")
    # restoring twice gives the same state; ids continue as they did after the snapshot
    mlemu.restore(snap)
    assert _observe(ids["run_id"]) == before


def test_ids_after_restore_repeat(mlemu):
    import mlflow

    mlflow.set_experiment("/Shared/ids")
    snap = mlemu.snapshot()
    with mlflow.start_run() as first:
        pass
    mlemu.restore(snap)
    with mlflow.start_run() as again:
        pass
    assert again.info.run_id == first.info.run_id


def test_reset_is_a_fresh_workspace(mlemu):
    _scenario()
    mlemu.reset()
    fresh = mlemu.__class__(workspace_id="999")
    assert mlemu.calls.operations() == []
    assert mlemu.ids._rng.getstate() == mlemu.__class__(workspace_id=mlemu.workspace_id).ids._rng.getstate()
    import mlflow
    assert mlflow.search_experiments(filter_string="name = '/Shared/snap'") == []
    del fresh


def test_a_snapshot_of_another_workspace_is_refused(mlemu):
    other = mlemu.__class__(workspace_id="77")
    with pytest.raises(ValueError, match="workspace 77"):
        mlemu.restore(other.snapshot())


def test_export_and_load_round_trip(mlemu, tmp_path):
    ids = _scenario()
    before = _observe(ids["run_id"])
    path = mlemu.export(tmp_path / "ws.zip")
    loaded = mlemu_pkg.Workspace.load(path)
    assert (loaded.workspace_id, loaded.host, loaded.user) == (mlemu.workspace_id, mlemu.host, mlemu.user)
    mlemu.stop()  # the loaded copy answers the same host
    try:
        with mlemu_pkg.emulate(loaded):
            assert _observe(ids["run_id"]) == before
    finally:
        mlemu.start()


def test_load_refuses_a_newer_format(tmp_path):
    import json
    import zipfile

    path = tmp_path / "future.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", json.dumps({"format": "mlemu-workspace", "format_version": 99,
                                                 "workspace": {"workspace_id": "1"}, "services": []}))
        zf.writestr("state.pickle", b"")
    with pytest.raises(ValueError, match="format version 99"):
        mlemu_pkg.Workspace.load(path)


_SCENARIO = textwrap.dedent("""
    import sys
    import mlflow
    import mlemu
    from databricks.sdk import WorkspaceClient
    from freezegun import freeze_time

    # the clients stamp runs and metrics with their own clock: a scenario pins it
    with freeze_time("2024-05-01 12:00:00"), mlemu.emulate(seed=11) as ws:
        mlflow.set_experiment("/Shared/same")
        for i in range(3):
            with mlflow.start_run(run_name=f"r{i}", tags={"i": str(i)}):
                mlflow.log_params({"a": i, "b": "x"})
                mlflow.log_metrics({"m": i / 3, "n": 1.0}, step=i)
                mlflow.log_dict({"i": i}, "d.json")
        WorkspaceClient().catalogs.create(name="cat", properties={"k": "v", "j": "w"})
        # a table of several dtypes (dicts, sets of tags, timestamps) and a SQL result
        import pandas as pd
        ws.unity_catalog.put_table("main.default.t", pd.DataFrame({
            "x": [1.5, float("nan")], "s": ["a", None], "m": [{"k": 1}, {"j": 2, "k": 3}],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"])}))
        ws.unity_catalog.set_primary_key("main.default.t", ["x", "s"])
        WorkspaceClient().statement_execution.execute_statement(
            "SELECT 1 AS one", warehouse_id=next(iter(WorkspaceClient().warehouses.list())).id)
        ws.export(sys.argv[1])
""")


def test_the_same_scenario_in_two_processes_exports_identical_bytes(tmp_path):
    paths = []
    for n in range(2):
        out = tmp_path / f"export{n}.zip"
        # different hash seeds: set iteration order must not leak into the export
        env = {"PYTHONHASHSEED": str(n + 1)}
        import os
        subprocess.run([sys.executable, "-c", _SCENARIO, str(out)], check=True, timeout=240,
                       env={**os.environ, **env}, capture_output=True)
        paths.append(out)
    assert paths[0].read_bytes() == paths[1].read_bytes()
