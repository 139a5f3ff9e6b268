"""Start-up costs of mlemu itself:

* ``import mlemu`` in a fresh interpreter (wall time minus a bare interpreter's, median of
  interleaved runs; and what ``python -X importtime`` attributes to ``mlemu``);
* ``import mlemu`` + the first ``Workspace()`` (imports every service, builds the routing app);
* fixture set-up + tear-down: ``with mlemu.emulate(mlemu.Workspace()): pass`` after the first
  (without mlflow imported, and with it: then emulate() also saves and restores mlflow's globals);
* the real pytest ``mlemu`` fixture: pytest's own setup+teardown durations of ``def test(mlemu)``
  minus those of a test without it, in one pytest session.
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.scenarios import pick
from bench.stats import measure, summarize


def seed(params: dict[str, Any]) -> None:
    return None


_SNIPPETS = {
    "bare": "pass",
    "import": "import mlemu",
    "import_workspace": "import mlemu; mlemu.Workspace()",
}


def _wall(code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    return time.perf_counter() - t0


def _import_times(rounds: int) -> dict[str, Any]:
    samples: dict[str, list[float]] = {k: [] for k in _SNIPPETS}
    for k, code in _SNIPPETS.items():  # warm the OS file cache and the bytecode cache
        _wall(code)
    for _ in range(rounds):
        for k, code in _SNIPPETS.items():
            samples[k].append(_wall(code))
    out: dict[str, Any] = {"bare_interpreter": summarize(samples["bare"])}
    for k in ("import", "import_workspace"):  # each round minus the same round's bare start
        out[k] = summarize([s - b for s, b in zip(samples[k], samples["bare"])])
    # What the interpreter itself attributes to the mlemu package (cumulative, microseconds).
    cums = []
    for _ in range(max(3, rounds // 3)):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", "import mlemu"],
                             capture_output=True, text=True, timeout=120, check=True).stderr
        m = re.search(r"import time:\s+\d+\s+\|\s+(\d+)\s+\|\s+mlemu\s*$", err, re.M)
        if m:
            cums.append(int(m.group(1)) / 1e6)
    out["importtime_mlemu"] = summarize(cums)
    return out


#: What a test session has imported before its first ``mlemu`` test (its modules import the
#: clients), so the import-time table shows what the plugin and the first fixture add.
_PRE_IMPORTS = ("pytest", "requests", "pandas", "pydantic")
_FIRST_FIXTURE = ("import pytest, requests, pandas, pydantic;"
                  "import mlemu.toolkit.pytest_plugin;"
                  "from mlemu.workspace import Workspace; from mlemu.toolkit.emulation import emulate;"
                  "ws = Workspace(); emulate(ws).__enter__()")


def importtime_table(rounds: int = 3) -> list[dict[str, Any]]:
    """``python -X importtime`` of the first fixture's set-up after the usual imports: the
    modules it imports that take longest (cumulative, median over ``rounds``), mlemu's first."""
    runs: list[dict[str, tuple[int, int]]] = []
    for _ in range(rounds):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", _FIRST_FIXTURE],
                             capture_output=True, text=True, timeout=300, check=True).stderr
        rows = [(m.group(4), int(m.group(1)), int(m.group(2)), len(m.group(3))) for m in
                re.finditer(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)\s*$", err, re.M)]
        # Rows are printed as imports finish: what comes after the last pre-import (a session's
        # own imports) is what the plugin and the first fixture add.
        last = max((i for i, (name, _, _, depth) in enumerate(rows) if depth == 1 and name in _PRE_IMPORTS),
                   default=-1)
        added = rows[last + 1:]
        seen = {name: (own, cum) for name, own, cum, _ in added}
        seen[TOTAL] = (0, sum(cum for _, _, cum, depth in added if depth == 1))
        runs.append(seen)
    names = set.intersection(*(set(r) for r in runs))
    rows = [{"module": n, "self_ms": statistics.median(r[n][0] for r in runs) / 1000,
             "cumulative_ms": statistics.median(r[n][1] for r in runs) / 1000} for n in names]
    rows.sort(key=lambda r: -r["cumulative_ms"])
    return rows[:13]


#: The row that sums every module the plugin and the first fixture import (top level).
TOTAL = "(everything the plugin and the first fixture import)"


def _emulate_loop(params: dict[str, Any]) -> dict[str, Any]:
    import mlemu

    opts = dict(warmup=pick(params, 20, 5), iterations=pick(params, 500, 100),
                budget_s=pick(params, 5.0, 0.5), min_iterations=20)

    def once(i: int) -> None:
        with mlemu.emulate(mlemu.Workspace()):
            pass

    t0 = time.perf_counter()
    once(0)  # builds the routing app: imports every service
    first = time.perf_counter() - t0
    out = {"first_workspace_and_emulate": summarize([first]),
           "emulate_without_mlflow": measure(once, **opts)}
    import mlflow  # noqa: F401 - a test session that uses mlflow has it imported
    out["emulate_with_mlflow"] = measure(once, **opts)
    return out


_TESTS = '''
import mlflow  # a real test module imports the client

{tests}
'''

_PLUGIN = '''
import json, os

_durations = []

def pytest_runtest_logreport(report):
    _durations.append((report.nodeid, report.when, report.duration))

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_DURATIONS"], "w") as fh:
        json.dump(_durations, fh)
'''


def _pytest_fixture(params: dict[str, Any]) -> dict[str, Any]:
    n = pick(params, 300, 40)
    with tempfile.TemporaryDirectory(prefix="mlemu-bench-pytest-") as tmp:
        d = Path(tmp)
        tests = []
        for i in range(n):  # interleaved, so drift hits both kinds alike
            tests.append(f"def test_with_{i:04d}(mlemu):\n    pass\n")
            tests.append(f"def test_without_{i:04d}():\n    pass\n")
        (d / "test_fixture_cost.py").write_text(_TESTS.format(tests="\n".join(tests)))
        (d / "bench_durations_plugin.py").write_text(_PLUGIN)
        out_file = d / "durations.json"
        env = dict(os.environ, BENCH_DURATIONS=str(out_file),
                   PYTHONPATH=os.pathsep.join([str(d), os.environ.get("PYTHONPATH", "")]))
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "bench_durations_plugin",
                            "-p", "no:cacheprovider", "-o", "addopts=", "--rootdir", str(d),
                            str(d / "test_fixture_cost.py")],
                           cwd=d, env=env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(f"pytest failed:\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}")
        rows = json.loads(out_file.read_text())
    per: dict[str, float] = {}
    for nodeid, when, dur in rows:
        if when in ("setup", "teardown"):
            per[nodeid] = per.get(nodeid, 0.0) + dur
    first = per.get(next((k for k in per if k.endswith("test_with_0000")), ""), None)
    skip = 5  # the first tests build the routing app and warm caches
    with_ = [v for k, v in per.items() if "test_with_" in k and int(k[-4:]) >= skip]
    without = [v for k, v in per.items() if "test_without_" in k and int(k[-4:]) >= skip]
    base = statistics.median(without)
    return {"pytest_first_mlemu_test": summarize([first] if first is not None else []),
            "pytest_setup_teardown_with_mlemu": summarize(with_),
            "pytest_setup_teardown_without": summarize(without),
            "pytest_mlemu_fixture": summarize([v - base for v in with_])}


def run(backend: Any, params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out.update(_import_times(pick(params, 15, 3)))
    out.update(_emulate_loop(params))
    out.update(_pytest_fixture(params))
    return {"measurements": out, "importtime": importtime_table(pick(params, 3, 1))}
