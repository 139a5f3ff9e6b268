"""Differential test (issue 20, item 5): one request sequence sent to a real ``mlflow server``
(started here on loopback with a sqlite store in a temporary directory) and to mlemu, the
answers compared after the values that must differ (ids, times, URIs, user names, Databricks'
system tags) are masked. Every difference must be listed, with its reason, in
``differential_expected.yaml`` beside this file; a new difference fails, and so does a listed
one that no longer occurs. Skipped with the reason when mlflow's server is not installed (the
full ``mlflow`` wheel) or does not start.
"""
from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
import yaml

EXPECTED_FILE = Path(__file__).with_name("differential_expected.yaml")
#: Seconds `mlflow server` may take to answer /health (slow on a loaded 2-core machine).
START_TIMEOUT_S = 180
#: Values that differ by nature: masked before the comparison.
VOLATILE = frozenset({
    "experiment_id", "run_id", "run_uuid", "model_id", "source_run_id", "artifact_uri",
    "artifact_location", "start_time", "end_time", "creation_time", "last_update_time", "timestamp",
    "creation_timestamp", "last_updated_timestamp", "creation_timestamp_ms",
    "last_updated_timestamp_ms", "user_id", "next_page_token", "experimentId", "runUuid", "runId",
    "run_name",  # a random name when none is given
})


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A real ``mlflow server`` 3.x on loopback, sqlite-backed, for this module: this stack's
    own, or on the mlflow 2 stack the other stack's (``MLEMU_OTHER_MLFLOW_PYTHON``, which
    scripts/test.sh sets): the expected differences are those of mlflow 3.17's server."""
    import mlflow

    python = sys.executable
    if not mlflow.__version__.startswith("3."):
        python = os.environ.get("MLEMU_OTHER_MLFLOW_PYTHON", "")
        if not python:
            pytest.skip("the expected differences are mlflow 3.17's server's; set MLEMU_OTHER_MLFLOW_PYTHON "
                        "to an mlflow 3 environment's python (scripts/test.sh does)")
    else:
        pytest.importorskip("mlflow.server", reason="mlflow's tracking server needs the full `mlflow` wheel")
        for needed in ("flask", "uvicorn", "sqlalchemy"):
            pytest.importorskip(needed, reason=f"`mlflow server` needs {needed}")
    work = tmp_path_factory.mktemp("mlflow-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "MLFLOW_"))}
    # Without its job runner: 3.x otherwise starts seven huey consumers, each importing mlflow
    # (about 20 s of CPU on a 2-core machine), for jobs the compared requests never start.
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    log = open(work / "server.log", "wb")
    proc = subprocess.Popen(
        [python, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{work}/mlflow.db",
         "--artifacts-destination", str(work / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work,
        start_new_session=True)  # its own process group: the teardown stops every process it started
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.skip(f"`mlflow server` exited with {proc.returncode}: "
                            + (work / "server.log").read_text(errors="replace")[-500:])
            try:
                if requests.get(f"{url}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.skip(f"`mlflow server` did not answer /health within {START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield url
    finally:
        _stop_group(proc)
        log.close()


def _stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's whole process group (uvicorn's worker too), SIGKILL after 30 s."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


@pytest.fixture(scope="module")
def mlemu_url():  # type: ignore[no-untyped-def]
    """A fresh workspace behind mlemu's loopback server, with the UI front (``/ajax-api``, ``/graphql``)."""
    from mlemu import Workspace
    from mlemu.server.ui.bundle import UiUnavailable
    from mlemu.server.ui.server import serve

    ws = Workspace(seed=20)
    try:
        server = serve(ws, ui=True)
    except UiUnavailable as e:
        pytest.skip(str(e))
    yield server.url, ws.token
    server.stop()


class Target:
    """One server under test: sends a step's request, keeps what later steps need."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.session = requests.Session()
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.ids: dict[str, str] = {}

    def send(self, method: str, path: str, body: Any = None, query: Any = None) -> tuple[int, Any]:
        r = self.session.request(method, self.url + path, json=body, params=query, timeout=60)
        try:
            return r.status_code, json.loads(r.text) if r.text.strip() else {}
        except ValueError:
            return r.status_code, {"<non-json>": r.text[:80]}


def _steps() -> list[tuple[str, Callable[[Target], tuple[str, str, Any, Any]]]]:
    """(name, request builder) in order; a builder reads ids kept by earlier steps."""
    e = lambda t: t.ids["exp"]  # noqa: E731
    r = lambda t: t.ids["run"]  # noqa: E731
    R = "/api/2.0/mlflow"
    A = "/ajax-api/2.0/mlflow"
    return [
        ("create-experiment", lambda t: ("POST", f"{R}/experiments/create", {"name": "/Shared/differential"}, None)),
        ("get-experiment", lambda t: ("GET", f"{R}/experiments/get", None, {"experiment_id": e(t)})),
        ("search-experiments-no-max", lambda t: ("POST", f"{R}/experiments/search", {}, None)),
        ("search-experiments", lambda t: ("POST", f"{R}/experiments/search",
                                          {"max_results": 10, "filter": "name = '/Shared/differential'"}, None)),
        ("create-run", lambda t: ("POST", f"{R}/runs/create", {"experiment_id": e(t), "start_time": 1}, None)),
        ("set-tag-int-value", lambda t: ("POST", f"{R}/runs/set-tag", {"run_id": r(t), "key": "k", "value": 41}, None)),
        ("log-param-object-value", lambda t: ("POST", f"{R}/runs/log-parameter",
                                              {"run_id": r(t), "key": "k", "value": {"a": 1}}, None)),
        ("set-experiment-tag-int", lambda t: ("POST", f"{R}/experiments/set-experiment-tag",
                                              {"experiment_id": e(t), "key": "k", "value": 41}, None)),
        ("log-metric-int-run-id", lambda t: ("POST", f"{R}/runs/log-metric",
                                             {"run_id": 31, "key": "m", "value": 1, "timestamp": 1}, None)),
        ("log-batch", lambda t: ("POST", f"{R}/runs/log-batch", {"run_id": r(t), "params": [{"key": "p", "value": "1"}],
                                 "metrics": [{"key": "inf", "value": "Infinity", "timestamp": 1, "step": 0},
                                             {"key": "nan", "value": "NaN", "timestamp": 1, "step": 0},
                                             {"key": "ok", "value": 0.5, "timestamp": 1, "step": 0}],
                                 "tags": [{"key": "team", "value": "x"}]}, None)),
        ("get-run", lambda t: ("GET", f"{R}/runs/get", None, {"run_id": r(t)})),
        ("search-runs", lambda t: ("POST", f"{R}/runs/search", {"experiment_ids": [e(t)]}, None)),
        ("get-history", lambda t: ("GET", f"{R}/metrics/get-history", None, {"run_id": r(t), "metric_key": "ok"})),
        ("get-history-unknown-run", lambda t: ("GET", f"{R}/metrics/get-history", None,
                                               {"run_id": "0" * 32, "metric_key": "ok"})),
        ("bulk-interval-empty-key", lambda t: ("GET", f"{A}/metrics/get-history-bulk-interval", None,
                                               {"run_ids": r(t), "metric_key": ""})),
        ("search-datasets-empty", lambda t: ("POST", f"{A}/experiments/search-datasets", {}, None)),
        ("search-datasets-no-ids", lambda t: ("POST", f"{A}/experiments/search-datasets", {"experiment_ids": []}, None)),
        ("graphql-nan-metric", lambda t: ("POST", "/graphql", {
            "query": "query GetRun($data: MlflowGetRunInput!) { mlflowGetRun(input: $data) "
                     "{ run { data { metrics { key value } } } } }",
            "variables": {"data": {"runId": r(t)}}, "operationName": "GetRun"}, None)),
        ("create-logged-model", lambda t: ("POST", f"{R}/logged-models", {"experiment_id": e(t), "name": "lm"}, None)),
        ("patch-missing-logged-model", lambda t: ("PATCH", f"{R}/logged-models/m-{'0' * 32}/tags",
                                                  {"tags": [{"key": "a", "value": "b"}]}, None)),
        ("finalize-missing-logged-model", lambda t: ("PATCH", f"{R}/logged-models/m-{'0' * 32}",
                                                     {"status": "LOGGED_MODEL_READY"}, None)),
        ("create-registered-model", lambda t: ("POST", f"{R}/registered-models/create", {"name": "differential-model"}, None)),
        ("search-versions-bad-order", lambda t: ("GET", f"{R}/model-versions/search", None, {"order_by": "bogus DESC"})),
        ("search-versions-ordered", lambda t: ("GET", f"{R}/model-versions/search", None,
                                               {"order_by": "name DESC", "filter": "name = 'differential-model'"})),
    ]


def _keep_ids(step: str, t: Target, body: Any) -> None:
    if step == "create-experiment":
        t.ids["exp"] = body.get("experiment_id", "")
    elif step == "create-run":
        t.ids["run"] = body.get("run", {}).get("info", {}).get("run_id", "")


def _mask(value: Any, key: str = "") -> Any:
    """The answer with volatile values masked, system tags (``mlflow.*``, which Databricks adds)
    and the empty lists that leaves dropped, and an error reduced to its ``error_code`` (the
    wording and mlflow 3's ``error_class``/``sqlstate`` extras may differ, the code may not)."""
    if key in VOLATILE:
        return "<volatile>"
    if isinstance(value, dict):
        if "error_code" in value:
            return {"error_code": value["error_code"]}
        masked = {k: _mask(v, k) for k, v in value.items()}
        return {k: v for k, v in masked.items() if v != []}
    if isinstance(value, list):
        items = [v for v in value if not (isinstance(v, dict) and str(v.get("key", "")).startswith("mlflow."))]
        return [_mask(v) for v in items]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return value


def _diff(path: str, a: Any, b: Any, out: list[tuple[str, str]]) -> None:
    """Differences between the server's answer ``a`` and mlemu's ``b``, by JSON path."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in b:
                out.append((f"{path}.{k}", f"only mlflow server sends it ({json.dumps(a[k])[:60]})"))
            elif k not in a:
                out.append((f"{path}.{k}", f"only mlemu sends it ({json.dumps(b[k])[:60]})"))
            else:
                _diff(f"{path}.{k}", a[k], b[k], out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append((path, f"{len(a)} items on mlflow server, {len(b)} on mlemu"))
        for i, (x, y) in enumerate(zip(a, b)):
            _diff(f"{path}[{i}]", x, y, out)
    elif a != b:
        out.append((path, f"mlflow server {json.dumps(a)[:60]}, mlemu {json.dumps(b)[:60]}"))


def test_mlemu_answers_as_mlflow_server_but_for_the_listed_differences(mlflow_server, mlemu_url):
    expected = {(d["step"], d["path"]): d for d in yaml.safe_load(EXPECTED_FILE.read_text())["differences"]}
    for d in expected.values():
        assert d.get("reason", "").strip(), f"{d['step']} {d['path']}: every expected difference needs its reason"
    oss, emu = Target(mlflow_server, None), Target(*mlemu_url)
    found: dict[tuple[str, str], str] = {}
    for step, build in _steps():
        answers = []
        for t in (oss, emu):
            method, path, body, query = build(t)
            status, data = t.send(method, path, body, query)
            if status == 200:
                _keep_ids(step, t, data)
            answers.append((status, _mask(data)))
        (s1, a1), (s2, a2) = answers
        diffs: list[tuple[str, str]] = []
        if s1 != s2:
            diffs.append(("status", f"mlflow server {s1}, mlemu {s2}"))
        _diff("body", a1, a2, diffs)
        found.update({(step, p): what for p, what in diffs})
    new = {k: v for k, v in found.items() if k not in expected}
    gone = [k for k in expected if k not in found]
    assert not new, "differences not in differential_expected.yaml:\n" + "\n".join(
        f"  - step: {s}\n    path: {p}\n    # {what}" for (s, p), what in new.items())
    assert not gone, f"listed differences that no longer occur (remove them): {gone}"
