"""``mlemu serve --state-dir``: the workspace survives restarts, and a server killed with
SIGKILL in the middle of a stream of writes comes back with every write it acknowledged."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _start(state_dir) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "mlemu.cli", "serve", "--port", "0",
                             "--state-dir", str(state_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    env = {}
    for _ in range(2):
        key, _, value = proc.stdout.readline().strip().removeprefix("export ").partition("=")
        env[key] = value
    assert env.get("DATABRICKS_HOST", "").startswith("http://"), proc.stderr.read()
    return proc, env


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def test_state_survives_a_restart_through_the_real_clients(tmp_path, monkeypatch):
    import mlflow
    from databricks.sdk import WorkspaceClient

    proc, env = _start(tmp_path / "state")
    try:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        mlflow.set_tracking_uri("databricks")
        mlflow.set_experiment("/Shared/durable")
        with mlflow.start_run() as run:
            mlflow.log_param("lr", "0.1")
            mlflow.log_metric("loss", 0.5)
            mlflow.log_text("kept", "a.txt")
        WorkspaceClient().catalogs.create(name="durable")
    finally:
        _stop(proc)
    proc, env2 = _start(tmp_path / "state")
    try:
        assert env2["DATABRICKS_TOKEN"] == env["DATABRICKS_TOKEN"]
        for k, v in env2.items():
            monkeypatch.setenv(k, v)
        got = mlflow.get_run(run.info.run_id)
        assert (got.data.params, got.data.metrics) == ({"lr": "0.1"}, {"loss": 0.5})
        assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/a.txt") == "kept"
        assert "durable" in [c.name for c in WorkspaceClient().catalogs.list()]
        # a new run after the restart gets a fresh id, not one handed out before
        with mlflow.start_run(experiment_id=run.info.experiment_id) as second:
            pass
        assert second.info.run_id != run.info.run_id
    finally:
        mlflow.set_tracking_uri(None)
        _stop(proc)


def test_sigkill_during_a_stream_of_writes_loses_no_acknowledged_write(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    state = tmp_path / "state"
    proc, env = _start(state)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {env['DATABRICKS_TOKEN']}"
    host = env["DATABRICKS_HOST"]
    exp = session.post(f"{host}/api/2.0/mlflow/experiments/create", json={"name": "/Shared/kill"}).json()
    run_id = session.post(f"{host}/api/2.0/mlflow/runs/create",
                          json={"experiment_id": exp["experiment_id"]}).json()["run"]["info"]["run_id"]
    acked: list[int] = []
    stop = threading.Event()

    def stream() -> None:
        step = 0
        while not stop.is_set():
            try:
                r = session.post(f"{host}/api/2.0/mlflow/runs/log-metric",
                                 json={"run_id": run_id, "key": "loss", "value": step / 10,
                                       "timestamp": 1_700_000_000_000 + step, "step": step})
            except requests.exceptions.ConnectionError:
                return
            if r.status_code == 200:
                acked.append(step)
            step += 1

    writer = threading.Thread(target=stream)
    writer.start()
    deadline = time.monotonic() + 60
    while len(acked) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: the writer has requests in flight
    proc.wait(timeout=10)
    stop.set()
    writer.join(timeout=30)
    assert len(acked) >= 40

    proc, env = _start(state)
    try:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        history = MlflowClient(tracking_uri="databricks").get_metric_history(run_id, "loss")
        steps = {m.step for m in history}
        assert set(acked) <= steps
        assert steps <= set(range(max(acked) + 2))  # at most the one write in flight besides
    finally:
        _stop(proc)
