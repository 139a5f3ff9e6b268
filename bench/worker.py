"""One scenario against one backend, in a fresh interpreter (fresh mlflow globals); writes a
JSON result. Started by ``bench/run.py``; also usable alone for debugging:

    python -m bench.worker run --scenario calls --backend mlemu --quick --out /tmp/r.json
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.backends import Unsupported, load
    from bench.scenarios import SCENARIOS

    module_name, fixed = SCENARIOS[args.scenario]
    scenario = importlib.import_module(module_name)
    params = dict(fixed, quick=args.quick)
    result: dict[str, Any] = {"scenario": args.scenario, "backend": args.backend, "quick": args.quick}
    workdir = Path(tempfile.mkdtemp(prefix="mlemu-bench-"))
    os.chdir(workdir)  # mlflow writes ./mlruns and friends relative to the cwd
    backend = None
    t0 = time.perf_counter()
    try:
        if args.backend == "none":
            result.update(scenario.run(None, params))
        else:
            options = {"server_url": args.server_url, "server_seeded": args.server_seeded}
            backend = load(args.backend, workdir, options)
            result["startup"] = backend.start(seed=scenario.seed(params))
            result.update(scenario.run(backend, params))
    except Unsupported as e:
        result["skipped"] = str(e)
    except Exception as e:  # reported, never hidden
        result["error"] = f"{type(e).__name__}: {e}"
        result["traceback"] = traceback.format_exc()
    finally:
        try:
            if backend is not None:
                backend.stop()
        except Exception as e:
            result.setdefault("error", f"stopping the backend: {type(e).__name__}: {e}")
        os.chdir("/")
        shutil.rmtree(workdir, ignore_errors=True)
    result["wall_s"] = time.perf_counter() - t0
    return result


def _seed_sqlite(args: argparse.Namespace) -> dict[str, str]:
    """Seed a sqlite file for ``mlflow server`` (before it starts)."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from bench.seeding import seed_sqlite

    store = SqlAlchemyStore(f"sqlite:///{args.db}", args.artifacts)
    return {name: seed_sqlite(store, name, n) for name, n in json.loads(args.seed_json).items()}


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM unwinds like Ctrl-C, so servers and workers started here are stopped."""
    raise SystemExit(143)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.worker")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--scenario", required=True)
    r.add_argument("--backend", required=True)
    r.add_argument("--quick", action="store_true")
    r.add_argument("--out", required=True)
    r.add_argument("--server-url", default="")
    r.add_argument("--server-seeded", default="")
    s = sub.add_parser("seed-sqlite")
    s.add_argument("--db", required=True)
    s.add_argument("--artifacts", required=True)
    s.add_argument("--seed-json", required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _terminate)
    if args.command == "seed-sqlite":
        print(json.dumps(_seed_sqlite(args)), flush=True)
        return 0
    result = _run(args)
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
