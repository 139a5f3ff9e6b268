"""``--state-dir`` replay rebuilds exactly what was acknowledged (issue 17, defect 1).

The property test drives random interleavings of writes and reads (polls included) across
tracking, the workspace and Unity Catalog registries, files and DBFS, SQL, serving, monitors and the control plane
through the durable workspace, "kills" it at random points (a torn, unacknowledged record may
trail the log) and checks that the restarted workspace holds the same state, object for object,
as the one that answered last. Budget: ``MLEMU_REPLAY_RUNS`` runs of ``MLEMU_REPLAY_STEPS``
requests (small here; scripts/fuzz.sh runs a large one), seeds from ``MLEMU_FUZZ_RANDOM``.
"""
from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import sys
import time
from typing import Any, Callable

import pytest
import requests

from mlemu.toolkit import wal
from mlemu.toolkit.statedir import _fingerprint, open_state_dir
from mlemu.workspace import Workspace

RUNS = int(os.environ.get("MLEMU_REPLAY_RUNS", "3"))
STEPS = int(os.environ.get("MLEMU_REPLAY_STEPS", "40"))
RANDOM = os.environ.get("MLEMU_FUZZ_RANDOM", "") == "1"


def _factory(**kwargs: Any) -> Workspace:
    ws = Workspace(**kwargs)
    ws.serving.update_polls = 1  # endpoint updates finish on the second GET: polls change state
    ws.monitors.synchronous = False  # refreshes move on when read
    return ws


class Driver:
    """Random requests against a durable workspace, remembering the ids it was given."""

    def __init__(self, rng: random.Random, dw: Any) -> None:
        self.rng, self.dw = rng, dw
        self.ids: dict[str, list[str]] = {k: [] for k in (
            "exp", "run", "stmt", "wm", "file", "dbfs", "ep", "monitor")}
        self.warehouse: str | None = None
        self.n = 0

    def call(self, method: str, path: str, body: Any = None, query: str = "",
             raw: bytes | None = None) -> tuple[int, Any]:
        ws = self.dw.workspace
        headers = {"Authorization": f"Bearer {ws.token}", "Content-Type": "application/json"}
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
        status, _, out = self.dw.handle(method, path, query, headers, data)
        try:
            return status, json.loads(out) if out[:1] == b"{" else out
        except ValueError:
            return status, out

    def pick(self, kind: str) -> str | None:
        return self.rng.choice(self.ids[kind]) if self.ids[kind] else None

    # -- operations ----------------------------------------------------------------------
    def create_experiment(self) -> None:
        self.n += 1
        s, out = self.call("POST", "/api/2.0/mlflow/experiments/create", {"name": f"/Shared/e{self.n}"})
        if s == 200:
            self.ids["exp"].append(out["experiment_id"])

    def create_run(self) -> None:
        exp = self.pick("exp")
        if exp:
            s, out = self.call("POST", "/api/2.0/mlflow/runs/create", {"experiment_id": exp, "start_time": 1})
            if s == 200:
                self.ids["run"].append(out["run"]["info"]["run_id"])

    def log_metric(self) -> None:
        run = self.pick("run")
        if run:
            self.call("POST", "/api/2.0/mlflow/runs/log-metric",
                      {"run_id": run, "key": "loss", "value": self.rng.random(), "timestamp": 5, "step": 1})

    def read_tracking(self) -> None:
        exp, run = self.pick("exp"), self.pick("run")
        if exp:
            self.call("GET", "/api/2.0/mlflow/experiments/get", query=f"experiment_id={exp}")
        if run:
            self.call("GET", "/api/2.0/mlflow/runs/get", query=f"run_id={run}")
        self.call("POST", "/api/2.0/mlflow/experiments/search", {"max_results": 5})

    def register_version(self) -> None:
        self.n += 1
        name = f"wm{self.n}"
        if self.call("POST", "/api/2.0/mlflow/registered-models/create", {"name": name})[0] == 200:
            self.call("POST", "/api/2.0/mlflow/model-versions/create", {"name": name, "source": "dbfs:/none"})
            self.ids["wm"].append(name)

    def read_version(self) -> None:  # settles a pending registration: a read that changes state
        name = self.pick("wm")
        if name:
            self.call("GET", "/api/2.0/mlflow/model-versions/get", query=f"name={name}&version=1")

    def uc_register(self) -> None:
        self.n += 1
        name = f"main.default.m{self.n}"
        uc = "/api/2.0/mlflow/unity-catalog"
        if self.call("POST", f"{uc}/registered-models/create", {"name": name})[0] == 200:
            self.call("POST", f"{uc}/model-versions/create", {"name": name, "source": "dbfs:/none"})
            self.call("POST", f"{uc}/registered-models/alias", {"name": name, "alias": "champion", "version": "1"})
            self.call("GET", f"{uc}/model-versions/get", query=f"name={name}&version=1")

    def put_file(self) -> None:
        self.n += 1
        path = f"/Volumes/main/default/v/f{self.n}.bin"
        data = self.rng.randbytes(self.rng.choice([10, 5000, 80_000]))
        if self.call("PUT", f"/api/2.0/fs/files{path}", raw=data)[0] in (200, 204):
            self.ids["file"].append(path)

    def read_file(self) -> None:
        path = self.pick("file")
        if path:
            self.call(self.rng.choice(["GET", "HEAD"]), f"/api/2.0/fs/files{path}")

    def dbfs_put(self) -> None:
        self.n += 1
        path = f"/tmp/d{self.n}.txt"
        self.call("POST", "/api/2.0/dbfs/put", {"path": path, "overwrite": True,
                                                 "contents": base64.b64encode(b"x" * self.n).decode()})
        self.ids["dbfs"].append(path)

    def dbfs_read(self) -> None:
        path = self.pick("dbfs")
        self.call("GET", "/api/2.0/dbfs/read" if path else "/api/2.0/dbfs/get-status",
                  query=f"path={path or '/nothing'}")

    def sql_execute(self) -> None:
        if self.warehouse is None:  # the first list creates the starter warehouse: draws ids
            s, out = self.call("GET", "/api/2.0/sql/warehouses")
            self.warehouse = out["warehouses"][0]["id"]
        wait = self.rng.choice(["0s", "10s"])
        s, out = self.call("POST", "/api/2.0/sql/statements", {
            "statement": f"SELECT {self.rng.randint(0, 9)} AS x", "warehouse_id": self.warehouse,
            "wait_timeout": wait, "disposition": self.rng.choice(["INLINE", "EXTERNAL_LINKS"]),
            "format": "JSON_ARRAY"})
        if s == 200:
            self.ids["stmt"].append(out["statement_id"])

    def sql_poll(self) -> None:
        stmt = self.pick("stmt")
        if stmt:
            self.call("GET", f"/api/2.0/sql/statements/{stmt}")

    def serving_create(self) -> None:
        self.n += 1
        s, _ = self.call("POST", "/api/2.0/serving-endpoints", {"name": f"ep{self.n}", "config": {
            "served_entities": [{"name": "fm", "entity_name": "system.ai.some-model",
                                 "workload_size": "Small", "scale_to_zero_enabled": True}]}})
        if s == 200:
            self.ids["ep"].append(f"ep{self.n}")

    def serving_get(self) -> None:
        ep = self.pick("ep")
        if ep:
            self.call("GET", f"/api/2.0/serving-endpoints/{ep}")

    def monitor_create(self) -> None:
        if self.warehouse is None:
            return
        self.n += 1
        table = f"main.default.t{self.n}"
        s, _ = self.call("POST", "/api/2.0/sql/statements", {
            "statement": f"CREATE TABLE {table} AS SELECT range AS a, range * 2.0 AS b FROM range(5)",
            "warehouse_id": self.warehouse})
        s, _ = self.call("POST", f"/api/2.1/unity-catalog/tables/{table}/monitor",
                         {"output_schema_name": "main.default", "assets_dir": f"/Workspace/Shared/m{self.n}",
                          "snapshot": {}})
        if s == 200:
            self.ids["monitor"].append(table)

    def monitor_read(self) -> None:
        table = self.pick("monitor")
        if table:
            self.call("GET", f"/api/2.1/unity-catalog/tables/{table}/monitor/refreshes")

    def control(self) -> None:
        self.call("POST", "/__mlemu__/clock", {"advance_seconds": self.rng.randint(1, 100)})

    def step(self) -> None:
        ops: list[Callable[[], None]] = [
            self.create_experiment, self.create_run, self.log_metric, self.read_tracking,
            self.register_version, self.read_version, self.uc_register, self.put_file, self.read_file, self.dbfs_put,
            self.dbfs_read, self.sql_execute, self.sql_poll, self.sql_poll, self.serving_create,
            self.serving_get, self.monitor_create, self.monitor_read, self.control]
        self.rng.choice(ops)()


def _kill(directory: str, rng: random.Random, dw: Any) -> None:
    """What SIGKILL leaves: the log as written (every record fsynced before its answer), and
    perhaps the start of one more record whose request was never answered."""
    dw.close()
    if rng.random() < 0.5:
        torn = wal.encode({"seq": 10**6, "wall_ms": 0, "clock": {"pinned_ms": None, "offset_ms": 0},
                           "method": "POST", "path": "/api/2.0/mlflow/experiments/create", "query": "",
                           "headers": {}, "auth": "valid", "base_url": None,
                           "body": base64.b64encode(b'{"name": "/Shared/never"}').decode()})
        with open(os.path.join(directory, "wal.log"), "ab") as fh:
            fh.write(torn[: rng.randrange(1, len(torn))])


@pytest.mark.parametrize("run", range(RUNS))
def test_restart_rebuilds_every_acknowledged_object(tmp_path, run):
    pytest.importorskip("duckdb")
    seed = random.SystemRandom().randrange(1 << 30) if RANDOM else run
    rng = random.Random(seed)
    directory = str(tmp_path / "state")
    dw = open_state_dir(directory, _factory, verify=True, seed=run)
    driver = Driver(rng, dw)
    kills = 0
    for i in range(STEPS):
        driver.step()
        if rng.random() < 0.15 or i == STEPS - 1:
            acknowledged = _fingerprint(dw.workspace)
            assert dw.unlogged_changes == [], f"seed {seed}: reads changed state unlogged"
            _kill(directory, rng, dw)
            dw = open_state_dir(directory, _factory, verify=True)
            kills += 1
            assert _fingerprint(dw.workspace) == acknowledged, f"seed {seed}: restart {kills} differs"
            driver.dw = dw
    dw.close()
    assert kills >= 1


def test_a_poll_that_changes_state_is_replayed_and_ids_stay_put(tmp_path):
    """The issue's reproduction in-process: a polled statement, then an experiment."""
    pytest.importorskip("duckdb")
    directory = str(tmp_path / "state")
    dw = open_state_dir(directory, Workspace)
    d = Driver(random.Random(0), dw)
    d.sql_execute()
    stmt = d.call("POST", "/api/2.0/sql/statements", {
        "statement": "SELECT 1 AS x", "wait_timeout": "0s", "warehouse_id": d.warehouse,
        "disposition": "EXTERNAL_LINKS", "format": "ARROW_STREAM"})[1]["statement_id"]
    states = [d.call("GET", f"/api/2.0/sql/statements/{stmt}")[1]["status"]["state"] for _ in range(3)]
    # under --state-dir a statement runs inside the request that starts it (the first poll)
    assert states == ["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]
    exp = d.call("POST", "/api/2.0/mlflow/experiments/create", {"name": "/Shared/after-poll"})[1]["experiment_id"]
    dw.close()
    d.dw = open_state_dir(directory, Workspace)
    assert d.call("GET", "/api/2.0/mlflow/experiments/get",
                  query=f"experiment_id={exp}")[1]["experiment"]["name"] == "/Shared/after-poll"
    assert d.call("GET", f"/api/2.0/sql/statements/{stmt}")[1]["status"]["state"] == "SUCCEEDED"


def _serve(state_dir: str) -> tuple[subprocess.Popen, str, requests.Session]:
    proc = subprocess.Popen([sys.executable, "-m", "mlemu.cli", "serve", "--port", "0",
                             "--state-dir", state_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    env = {}
    for _ in range(2):
        key, _, value = proc.stdout.readline().strip().removeprefix("export ").partition("=")
        env[key] = value
    assert env.get("DATABRICKS_HOST", "").startswith("http://"), proc.stderr.read()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {env['DATABRICKS_TOKEN']}"
    return proc, env["DATABRICKS_HOST"], session


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_issue_reproduction_with_kill_9(tmp_path):
    """Statement polled 3 times, then an experiment; kill -9; its id resolves to it again."""
    pytest.importorskip("duckdb")
    state = str(tmp_path / "state")
    proc, host, s = _serve(state)
    try:
        wh = s.get(f"{host}/api/2.0/sql/warehouses").json()["warehouses"][0]["id"]
        stmt = s.post(f"{host}/api/2.0/sql/statements", json={
            "statement": "SELECT 1 AS x", "wait_timeout": "0s", "warehouse_id": wh,
            "disposition": "EXTERNAL_LINKS", "format": "ARROW_STREAM"}).json()["statement_id"]
        for _ in range(3):
            assert s.get(f"{host}/api/2.0/sql/statements/{stmt}").status_code == 200
        exps = {s.post(f"{host}/api/2.0/mlflow/experiments/create",
                       json={"name": f"/Shared/k{i}"}).json()["experiment_id"]: f"/Shared/k{i}" for i in range(5)}
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    proc, host, s = _serve(state)
    try:
        for exp_id, name in exps.items():
            got = s.get(f"{host}/api/2.0/mlflow/experiments/get", params={"experiment_id": exp_id})
            assert got.status_code == 200 and got.json()["experiment"]["name"] == name
        assert s.get(f"{host}/api/2.0/sql/statements/{stmt}").json()["status"]["state"] == "SUCCEEDED"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_concurrent_writers_and_pollers_keep_their_ids_across_kill_9(tmp_path):
    """6 writers creating experiments while others poll SQL statements; kill -9 mid-stream:
    every acknowledged id resolves to the experiment it was given for."""
    import threading

    pytest.importorskip("duckdb")
    state = str(tmp_path / "state")
    proc, host, s = _serve(state)
    wh = s.get(f"{host}/api/2.0/sql/warehouses").json()["warehouses"][0]["id"]
    acked: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w: int) -> None:
        session = requests.Session()
        session.headers.update(s.headers)
        for i in range(1000):
            if stop.is_set():
                return
            name = f"/Shared/w{w}-{i}"
            try:
                r = session.post(f"{host}/api/2.0/mlflow/experiments/create", json={"name": name}, timeout=30)
                if i % 3 == 0:
                    stmt = session.post(f"{host}/api/2.0/sql/statements", json={
                        "statement": "SELECT 1", "wait_timeout": "0s", "warehouse_id": wh}, timeout=30).json()
                    session.get(f"{host}/api/2.0/sql/statements/{stmt['statement_id']}", timeout=30)
            except requests.exceptions.RequestException:
                return
            if r.status_code == 200:
                with lock:
                    acked[r.json()["experiment_id"]] = name

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acked) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acked) >= 60
    proc, host, s = _serve(state)
    try:
        for exp_id, name in acked.items():
            got = s.get(f"{host}/api/2.0/mlflow/experiments/get", params={"experiment_id": exp_id})
            assert got.status_code == 200 and got.json()["experiment"]["name"] == name
    finally:
        proc.terminate()
        proc.wait(timeout=10)
