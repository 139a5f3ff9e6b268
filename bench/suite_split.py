"""A pytest plugin (``-p bench.suite_split``) that says where a suite's time goes: mlemu, the
clients (mlflow, databricks-sdk, requests), model code, Spark, or the rest (pytest, the tests,
imports). A background thread samples the main thread's stack every few milliseconds and files
each sample under the first category found walking from the outermost frame inwards (code that
mlemu calls counts as mlemu, a model that mlflow calls as model code, so the categories never
overlap); each worker writes its counts to ``$BENCH_SPLIT_DIR/<pid>.json``.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

INTERVAL_S = 0.005
#: (category, path fragments of its modules), tried in this order for every frame.
#: Installed packages are matched as ``-packages/<name>/`` (site- or dist-packages), so that
#: ``mlflow/sklearn/`` (the client's flavor) is not taken for ``sklearn/`` (the model's library).
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Spark", ("-packages/pyspark/", "-packages/py4j/")),
    ("mlemu", ("/mlemu/",)),
    ("model code", ("-packages/sklearn/", "-packages/xgboost/", "-packages/lightgbm/", "-packages/torch/",
                    "-packages/scipy/", "-packages/skops/")),
    ("client", ("-packages/mlflow/", "-packages/databricks/sdk/", "-packages/requests/", "-packages/urllib3/",
                "-packages/databricks/sql/", "-packages/opentelemetry/", "-packages/cloudpickle/")),
)
OTHER = "pytest, tests, imports"


def classify(frame: Any) -> str:
    """The category of one stack (the innermost frame given), outermost match first, with Spark
    and mlemu winning over what they call (mlemu runs models for serving, pandas for tables)."""
    files = []
    while frame is not None:
        files.append(frame.f_code.co_filename)
        frame = frame.f_back
    for name, fragments in CATEGORIES[:2]:  # Spark and mlemu: anywhere in the stack
        if any(f in path for path in files for f in fragments):
            return name
    for path in reversed(files):  # outermost first: a model mlflow calls is the client's work
        for name, fragments in CATEGORIES[2:]:
            if any(f in path for f in fragments):
                return name
    return OTHER


class Sampler(threading.Thread):
    def __init__(self, target_thread: int) -> None:
        super().__init__(name="bench-suite-split", daemon=True)
        self.target = target_thread
        self.counts: dict[str, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(INTERVAL_S):
            frame = sys._current_frames().get(self.target)
            if frame is not None:
                name = classify(frame)
                self.counts[name] = self.counts.get(name, 0) + 1


_sampler: Sampler | None = None
_started = 0.0


def pytest_sessionstart(session: Any) -> None:
    global _sampler, _started
    config = session.config
    if not hasattr(config, "workerinput") and (config.getoption("numprocesses", None) or 0):
        return  # the pytest-xdist controller only waits for its workers
    _started = time.perf_counter()
    _sampler = Sampler(threading.main_thread().ident or 0)
    _sampler.start()


def pytest_sessionfinish(session: Any) -> None:
    if _sampler is None:
        return
    _sampler.done.set()
    _sampler.join()
    out = os.environ.get("BENCH_SPLIT_DIR")
    if out:
        with open(os.path.join(out, f"{os.getpid()}.json"), "w") as fh:
            json.dump({"counts": _sampler.counts, "wall_s": time.perf_counter() - _started}, fh)
