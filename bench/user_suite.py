"""The user-suite benchmark: how long users' own suites take under mlemu, and where the time goes.

    python bench/user_suite.py                    # every project, serial and with -n 2
    python bench/user_suite.py --only user_suite  # one project (a folder name)
    python bench/user_suite.py --before-src /tmp/mlemu-main   # also time another mlemu source
                                                              # tree (e.g. `git archive main mlemu`)
    python bench/user_suite.py --append ...       # add rows to the last run's table

Projects: every folder of ``conftest_examples/`` that has a ``conftest.py`` (new ones are picked up
as they land) and ``bench/user_suite/``, a 52-test suite shaped like the one issue 21 measured
(training, registry, serving, feature store, SQL, monitors, tracing, faults, snapshots, one Spark
test; models logged without ``pip_requirements``). Each project runs as a user runs it: a fresh
``pytest`` in a copy of its folder, serially and with ``-n 2`` (pytest-xdist). The split (mlemu,
client, model code, Spark, the rest) comes from sampling the stack (``bench/suite_split.py``).
Writes ``.bench-out/user_suite.json`` and ``.bench-out/user_suite.md``, which ``bench/run.py``
puts into ``docs/performance.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import procs  # noqa: E402
from bench.suite_split import CATEGORIES, OTHER  # noqa: E402

SPLIT = [name for name, _ in CATEGORIES] + [OTHER]
ORDER = ("mlemu", "client", "model code", "Spark", OTHER)
MODES = {"serial": [], "-n 2": ["-n", "2"]}
TIMEOUT_S = 3600


def projects() -> dict[str, Path]:
    found = {p.name: p for p in sorted((ROOT / "conftest_examples").iterdir()) if (p / "conftest.py").exists()}
    found["user_suite"] = ROOT / "bench" / "user_suite"
    return found


def _env(src: Path | None, split_dir: Path) -> dict[str, str]:
    from bench.run import worker_env
    env = worker_env()
    paths = [str(src)] if src is not None else []
    env["PYTHONPATH"] = os.pathsep.join(paths + [str(ROOT), env.get("PYTHONPATH", "")])
    env["BENCH_SPLIT_DIR"] = str(split_dir)
    return env


def run_project(python: str, name: str, folder: Path, mode: str, src: Path | None) -> dict[str, Any]:
    """One pytest run of a copy of ``folder``: wall time, outcome counts, the split."""
    with tempfile.TemporaryDirectory(prefix=f"mlemu-suite-{name}-") as tmp:
        work = Path(tmp) / name
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        split_dir = Path(tmp) / "split"
        split_dir.mkdir()
        args = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "bench.suite_split",
                "-o", "addopts=", "--rootdir", str(work), *MODES[mode], str(work)]
        t0 = time.perf_counter()
        proc = procs.popen(args, env=_env(src, split_dir), cwd=work, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        try:
            out, _ = proc.communicate(timeout=TIMEOUT_S)
        finally:
            procs.stop(proc)
        wall = time.perf_counter() - t0
        counts: dict[str, int] = {}
        for f in split_dir.glob("*.json"):
            for k, v in json.loads(f.read_text())["counts"].items():
                counts[k] = counts.get(k, 0) + v
    text = out.decode(errors="replace")
    outcome = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?|xfailed)", text.splitlines()[-1] if text.strip() else "")}
    return {"project": name, "mode": mode, "src": str(src) if src else "this tree", "wall_s": wall,
            "outcome": outcome, "split": counts, "tail": text[-3000:]}


def render(results: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = ["## User suites (`bench/user_suite.py`)", "",
             "Each project runs as its user runs it: a fresh `pytest` in a copy of its folder, serially "
             "and with `-n 2` (pytest-xdist), wall time from start to exit (interpreter start, imports, "
             "collection included). The split samples the main thread's stack every 5 ms "
             "(`bench/suite_split.py`; xdist workers added up): *mlemu* is anything under mlemu's code "
             "(answering requests, serving models, tables), *client* mlflow / databricks-sdk / requests "
             "(mlflow's requirement-inference subprocess, when it runs, is waited for here), *model code* "
             "scikit-learn and friends outside the client, *Spark* pyspark and py4j, the rest is pytest, "
             "the tests themselves and imports. `bench/user_suite/` is a 52-test suite shaped like the "
             "one issue 21 measured; models are logged without `pip_requirements`.", "",
             f"Run: {meta['date']}; load average at start {meta['load']}; {meta['cpus']} cores.", "",
             "| project | code | mode | tests | wall | " + " | ".join(ORDER) + " |",
             "|---|---|---|---|---:|" + "---:|" * len(ORDER)]
    for r in results:
        total = sum(r["split"].values()) or 1
        outcome = ", ".join(f"{v} {k}" for k, v in sorted(r["outcome"].items())) or "?"
        shares = " | ".join(f"{100 * r['split'].get(k, 0) / total:.0f} %" for k in ORDER)
        lines.append(f"| `{r['project']}` | {r['label']} | {r['mode']} | {outcome} | {r['wall_s']:.1f} s | {shares} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", default=[], help="project folder name (repeatable)")
    parser.add_argument("--mode", action="append", default=[], choices=list(MODES), help="serial and/or '-n 2'")
    parser.add_argument("--before-src", default=None,
                        help="also run against the mlemu package under this directory (labelled 'before')")
    parser.add_argument("--append", action="store_true",
                        help="keep the other rows of the last run (same project/mode/code replaced)")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args(argv)
    chosen = {k: v for k, v in projects().items() if not args.only or k in args.only}
    modes = args.mode or list(MODES)
    sources: list[tuple[str, Path | None]] = [("after", None)]
    if args.before_src:
        sources.insert(0, ("before", Path(args.before_src).resolve()))
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "load": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
            "cpus": os.cpu_count()}
    results = []
    for name, folder in chosen.items():
        for mode in modes:
            for label, src in sources:
                print(f"[user-suite] {name} / {mode} / {label} ...", end=" ", flush=True)
                r = run_project(args.python, name, folder, mode, src)
                r["label"] = label
                print(f"{r['wall_s']:.1f} s {r['outcome']}", flush=True)
                results.append(r)
    out = ROOT / ".bench-out"
    out.mkdir(exist_ok=True)
    if args.append and (out / "user_suite.json").exists():
        new = {(r["project"], r["mode"], r["label"]) for r in results}
        old = json.loads((out / "user_suite.json").read_text())["results"]
        results = [r for r in old if (r["project"], r["mode"], r["label"]) not in new] + results
        results.sort(key=lambda r: (r["project"], r["mode"] != "serial", r["label"] != "before"))
    (out / "user_suite.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    (out / "user_suite.md").write_text(render(results, meta))
    print(f"[user-suite] written: {out / 'user_suite.md'}")
    return 0 if all(not r["outcome"].get("failed") and not r["outcome"].get("errors") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
