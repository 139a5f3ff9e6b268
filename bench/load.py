"""The loopback server under load: figures for docs/reliability.md (loopback only).

    python bench/load.py                  # 200 connections x 20 requests, 16 mlflow threads x 100 calls
    python bench/load.py --backlog 5      # the same with the old listen backlog, for comparison

Prints one JSON object: errors, requests per second, and the mlflow threads' latency
percentiles. The server runs in this process (``mlemu.serve``); clients use raw sockets
(connections) and mlflow's client (threads).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor


def _connection(host: str, port: int, requests: int, start: threading.Barrier) -> tuple[int, float]:
    """``requests`` keep-alive GETs on one connection: (errors, worst latency)."""
    errors, worst = 0, 0.0
    t0 = time.perf_counter()
    try:
        sock = socket.create_connection((host, port), timeout=15)
    except OSError:
        return requests, time.perf_counter() - t0
    try:
        start.wait(timeout=60)
        for _ in range(requests):
            t = time.perf_counter()
            try:
                sock.sendall(b"GET /.well-known/databricks-config HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while b"\r\n\r\n" not in data:
                    part = sock.recv(65536)
                    if not part:
                        raise OSError("closed")
                    data += part
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += sock.recv(65536)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
            except OSError:
                errors += 1
                break
            worst = max(worst, time.perf_counter() - t)
    finally:
        sock.close()
    return errors, max(worst, time.perf_counter() - t0 if errors else worst)


def connections(server, n: int, per: int) -> dict:
    start = threading.Barrier(n)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(lambda _: _connection(server.host, server.port, per, start), range(n)))
    elapsed = time.perf_counter() - t0
    errors = sum(e for e, _ in results)
    return {"connections": n, "requests": n * per, "errors": errors,
            "req_per_s": round((n * per - errors) / elapsed), "worst_latency_s": round(max(w for _, w in results), 3)}


def mlflow_threads(server, ws, threads: int, calls: int) -> dict:
    import mlflow

    os.environ.update(DATABRICKS_HOST=server.url, DATABRICKS_TOKEN=ws.token)
    mlflow.set_tracking_uri("databricks")
    client = mlflow.tracking.MlflowClient()
    exp = client.create_experiment("/Shared/load")
    run_id = client.create_run(exp).info.run_id
    latencies: list[float] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        c = mlflow.tracking.MlflowClient()
        mine = []
        for i in range(calls):
            s = time.perf_counter()
            c.log_metric(run_id, f"t{t}", float(i), step=i)
            mine.append(time.perf_counter() - s)
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    elapsed = time.perf_counter() - t0
    history = ws.tracking.get_run(run_id).data.history
    lost = threads * calls - sum(len(history.get(f"t{t}", ())) for t in range(threads))
    q = statistics.quantiles(latencies, n=100)
    return {"threads": threads, "calls": threads * calls, "lost": lost, "calls_per_s": round(threads * calls / elapsed),
            "p50_ms": round(q[49] * 1000, 1), "p99_ms": round(q[98] * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--per-connection", type=int, default=20)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--backlog", type=int, default=None, help="override the listen backlog")
    args = parser.parse_args()
    os.environ.setdefault("MLFLOW_ENABLE_ASYNC_LOGGING", "false")
    from mlemu import Workspace, serve
    from mlemu.server.transport import server as server_module

    if args.backlog is not None:
        server_module._Server.request_queue_size = args.backlog
    ws = Workspace(journal_size=1000)
    with serve(ws) as server:
        out = {"backlog": server_module._Server.request_queue_size,
               "raw": connections(server, args.connections, args.per_connection),
               "mlflow": mlflow_threads(server, ws, args.threads, args.calls)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
