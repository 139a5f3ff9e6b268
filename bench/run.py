"""Run mlemu's benchmarks and write the report.

    python bench/run.py                      # full run (~10 min), writes docs/performance.md
    python bench/run.py --quick              # smoke run (< 2 min): fewer iterations, no 10,000-run
                                             # search, no mlflow server
    python bench/run.py --only calls         # a scenario, a backend, or scenario:backend (repeatable,
    python bench/run.py --only sqlite        # comma-separated)

Every scenario x backend runs in its own fresh interpreter (``bench/worker.py``), one after the
other, so all ratios come from one invocation on one machine. Raw results: ``.bench-out/``.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
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
from bench.backends.mlflow_server import MlflowServer  # noqa: E402

ALL_BACKENDS = ("floor", "mlemu", "mlemu-loopback", "sqlite", "mlflow-server")
PLAN: list[tuple[str, tuple[str, ...]]] = [
    ("fixture", ("none",)),
    ("calls", ALL_BACKENDS),
    ("search-1000", ALL_BACKENDS),
    ("search-10000", ALL_BACKENDS),
    ("seed-flow", ALL_BACKENDS),
    ("registry", ("floor", "mlemu", "mlemu-loopback", "sqlite")),
]
QUICK_SKIP_SCENARIOS = {"search-10000"}
QUICK_SKIP_BACKENDS = {"mlflow-server"}
QUICK_LOOPBACK_ONLY_IN = {"calls"}  # a smoke run starts `mlemu serve` once
JOB_TIMEOUT_S = 900


def _selected(only: list[str], scenario: str, backend: str) -> bool:
    if not only:
        return True
    for spec in only:
        s, _, b = spec.partition(":")
        if b:
            if s == scenario and b == backend:
                return True
        elif s in (scenario, backend):
            return True
    return False


def plan(quick: bool, only: list[str]) -> list[tuple[str, str]]:
    jobs = []
    for scenario, backends in PLAN:
        if quick and scenario in QUICK_SKIP_SCENARIOS:
            continue
        for backend in backends:
            if quick and (backend in QUICK_SKIP_BACKENDS or (
                    backend == "mlemu-loopback" and scenario not in QUICK_LOOPBACK_ONLY_IN)):
                continue
            if _selected(only, scenario, backend):
                jobs.append((scenario, backend))
    return jobs


def worker_env() -> dict[str, str]:
    """The workers' environment: no Databricks or mlflow settings of the caller's, no telemetry."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DATABRICKS_") and k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    # Bytecode as users have it (compiled once), kept out of the source tree: start-up and
    # import numbers must not include compiling mlemu from source on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(ROOT / ".bench-out" / "pycache")
    return env


def warm_bytecode(python: str, env: dict[str, str]) -> None:
    """Compile what the workers import into the bytecode cache, before anything is timed."""
    code = ("import mlemu, mlemu.toolkit.pytest_plugin, mlflow, mlflow.sklearn, mlflow.pyfunc, sklearn, pytest, "
            "databricks.sdk, sqlalchemy, bench.worker; mlemu.Workspace()")
    subprocess.run([python, "-c", code], env=env, cwd=ROOT, capture_output=True, timeout=600)


def run_job(python: str, scenario: str, backend: str, quick: bool, out_dir: Path,
            env: dict[str, str], server: MlflowServer | None) -> dict[str, Any]:
    out = out_dir / f"{scenario}__{backend}.json"
    log = out_dir / f"{scenario}__{backend}.log"
    out.unlink(missing_ok=True)
    args = [python, "-m", "bench.worker", "run", "--scenario", scenario, "--backend", backend,
            "--out", str(out)]
    if quick:
        args.append("--quick")
    if server is not None and server.url:
        args += ["--server-url", server.url, "--server-seeded", json.dumps(server.seeded)]
    t0 = time.perf_counter()
    with open(log, "wb") as fh:
        proc = procs.popen(args, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=JOB_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            procs.stop(proc)
            return {"scenario": scenario, "backend": backend,
                    "error": f"timed out after {JOB_TIMEOUT_S} s (log: {log})"}
        finally:
            procs.stop(proc)
    if not out.exists():
        tail = log.read_text(errors="replace")[-2000:]
        return {"scenario": scenario, "backend": backend,
                "error": f"worker exited with rc={proc.returncode} and no result:\n{tail}"}
    result = json.loads(out.read_text())
    result["job_wall_s"] = time.perf_counter() - t0
    return result


def _status(r: dict[str, Any]) -> str:
    if "error" in r:
        return "ERROR " + r["error"].splitlines()[0][:150]
    if "skipped" in r:
        return "skipped: " + r["skipped"]
    parts = []
    for name, m in (r.get("measurements") or {}).items():
        if isinstance(m, dict) and m.get("n"):
            parts.append(f"{name} {m['median_ms']:.3g} ms")
        elif isinstance(m, dict) and "arms" in m:
            arms = m["arms"]
            if arms.get("mlemu", {}).get("n") and arms.get("floor", {}).get("n"):
                parts.append(f"{name} mlemu {arms['mlemu']['median_ms']:.3g} / floor "
                             f"{arms['floor']['median_ms']:.3g} ms")
    return ", ".join(parts[:4])


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C, so servers and workers started here are stopped."""
    raise SystemExit(143)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: fewer iterations, fewer scenarios")
    parser.add_argument("--only", action="append", default=[],
                        help="scenario, backend or scenario:backend (repeatable, comma-separated)")
    parser.add_argument("--output", default=None,
                        help="report path (default: docs/performance.md for a full run, "
                             ".bench-out/report.md otherwise)")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="workers of `mlflow server` (0: its default, 4)")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the workers")
    parser.add_argument("--render", action="store_true",
                        help="only re-render the report from the last run (.bench-out/results.json)")
    args = parser.parse_args(argv)
    if args.render:
        from bench.report import render
        saved = json.loads((ROOT / ".bench-out" / "results.json").read_text())
        meta = saved["meta"]
        output = args.output or ("docs/performance.md" if not meta["quick"] and not meta["only"]
                                 else ".bench-out/report.md")
        path = (ROOT / output) if not os.path.isabs(output) else Path(output)
        path.write_text(render(meta, saved["results"], args.python))
        print(f"[bench] report: {path}")
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    only = [s.strip() for spec in args.only for s in spec.split(",") if s.strip()]
    jobs = plan(args.quick, only)
    if not jobs:
        parser.error(f"nothing selected by --only {only}")
    out_dir = ROOT / ".bench-out"
    out_dir.mkdir(exist_ok=True)
    env = worker_env()
    results: list[dict[str, Any]] = []
    server: MlflowServer | None = None
    server_tmp: tempfile.TemporaryDirectory | None = None
    started = time.time()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print("[bench] warming the bytecode cache...", flush=True)
    warm_bytecode(args.python, env)
    try:
        if any(b == "mlflow-server" for _, b in jobs):
            sizes = {f"/Shared/bench-search-{n}": n for n in (1000, 10000)
                     if (f"search-{n}", "mlflow-server") in jobs}
            server_tmp = tempfile.TemporaryDirectory(prefix="mlemu-bench-server-")
            server = MlflowServer(Path(server_tmp.name), args.server_workers, args.python)
            print(f"[bench] starting mlflow server (seeding {sorted(sizes.values())} runs first)...",
                  flush=True)
            try:
                info = server.start(sizes, env)
                print(f"[bench] mlflow server up in {info['startup_ms'] / 1000:.1f} s at {server.url}",
                      flush=True)
            except Exception as e:
                print(f"[bench] mlflow server failed to start: {e}", flush=True)
                results.append({"scenario": "server-startup", "backend": "mlflow-server",
                                "error": f"{type(e).__name__}: {e}"})
                server.stop()
                server.url = ""
        for k, (scenario, backend) in enumerate(jobs, 1):
            print(f"[bench] {k}/{len(jobs)} {scenario} / {backend} ...", end=" ", flush=True)
            r = run_job(args.python, scenario, backend, args.quick, out_dir, env, server)
            print(f"{r.get('job_wall_s', 0):.0f} s: {_status(r)}", flush=True)
            results.append(r)
    finally:
        if server is not None:
            server.stop()
        if server_tmp is not None:
            server_tmp.cleanup()
    meta = {"quick": args.quick, "only": only, "started": started, "duration_s": time.time() - started,
            "load": load,
            "server_workers": args.server_workers,
            "server": server.info if server is not None else None}
    (out_dir / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    from bench.report import render
    text = render(meta, results, args.python)
    output = args.output or ("docs/performance.md" if not args.quick and not only else ".bench-out/report.md")
    path = (ROOT / output) if not os.path.isabs(output) else Path(output)
    path.write_text(text)
    print(f"[bench] done in {meta['duration_s'] / 60:.1f} min; report: {path}", flush=True)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
