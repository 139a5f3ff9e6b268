"""The loopback server under load (issue 8, defect 3 and "done when"): 200 simultaneous
connections, 16 mlflow client threads and 4 client processes at once lose nothing and see
no timeout. Bounded in count; loopback only. Throughput figures live in bench/ and
docs/reliability.md, not here."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from mlemu import Workspace, serve

CONNECTIONS = 200
THREADS = 16
POINTS_PER_THREAD = 25
PROCESSES = 4
POINTS_PER_PROCESS = 25


def _one_request(host: str, port: int, start: threading.Barrier) -> int:
    sock = socket.create_connection((host, port), timeout=30)
    try:
        start.wait(timeout=60)  # every connection is open before any request is sent
        sock.sendall(b"GET /.well-known/databricks-config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            part = sock.recv(65536)
            if not part:
                break
            data += part
        return int(data.split(b" ", 2)[1])
    finally:
        sock.close()


def test_200_simultaneous_connections_all_answered():
    ws = Workspace()
    with serve(ws) as server:
        start = threading.Barrier(CONNECTIONS)
        with ThreadPoolExecutor(CONNECTIONS) as pool:
            statuses = list(pool.map(lambda _: _one_request(server.host, server.port, start), range(CONNECTIONS)))
    assert statuses == [200] * CONNECTIONS
    assert ws.internal_errors == []


_CHILD = """
import os, sys
from databricks.sdk import WorkspaceClient
api = WorkspaceClient().api_client
run_id, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    api.do("POST", "/api/2.0/mlflow/runs/log-metric",
           body={"run_id": run_id, "key": f"proc_{tag}", "value": float(i), "timestamp": i, "step": i})
print("done")
"""


def test_threads_and_processes_at_once_lose_nothing(mlemu, mlemu_server):
    import mlflow

    client = mlflow.tracking.MlflowClient()
    exp_id = client.create_experiment("/Shared/load")
    run_id = client.create_run(exp_id).info.run_id
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update(DATABRICKS_HOST=mlemu_server.url, DATABRICKS_TOKEN=mlemu.token)
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, run_id, str(POINTS_PER_PROCESS), str(p)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for p in range(PROCESSES)]

    def log(thread: int) -> None:
        c = mlflow.tracking.MlflowClient()
        for i in range(POINTS_PER_THREAD):
            c.log_metric(run_id, f"thread_{thread}", float(i), timestamp=i, step=i)

    try:
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(log, range(THREADS)))
    finally:
        outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0 and out.strip() == "done", err[-2000:]

    history = mlemu.tracking.get_run(run_id).data.history
    for t in range(THREADS):
        assert [m.step for m in history[f"thread_{t}"]] == list(range(POINTS_PER_THREAD))
    for p in range(PROCESSES):
        assert sorted(m.step for m in history[f"proc_{p}"]) == list(range(POINTS_PER_PROCESS))
    logged = mlemu.calls.filter(operation="tracking.runs.log-metric")
    assert len(logged) == THREADS * POINTS_PER_THREAD + PROCESSES * POINTS_PER_PROCESS
    assert all(c.status == 200 for c in logged)
    assert mlemu.internal_errors == []
