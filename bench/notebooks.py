"""The notebook runtime's cost over the code it runs (on demand; target: under 50 ms per
notebook task without Spark, issue 18).

    PYTHONPATH=. python bench/notebooks.py              # ~20 s
    PYTHONPATH=. python bench/notebooks.py --repeat 50

Three notebooks, each timed through ``mlemu.notebooks.run`` inside ``mlemu.emulate()`` (as a
job task: a NotebookContext with a task-value store) against the same cells' code run with
plain ``exec`` in one namespace (the floor: what the notebook's own code costs). The
difference is the runtime's overhead: reading and parsing, dbutils, the per-run process state
(working directory, sys.path, environment, project modules, mlflow's globals), output capture.

* ``empty``: one cell, ``pass``;
* ``job task``: 12 cells like an MLOps task (markdown, widgets, ``%cd``, ``%pip``, task values,
  ``display`` of a small frame, ``exit``), no mlflow calls;
* ``mlflow run``: the job task plus an mlflow run with 3 params and 3 metrics against the
  emulated workspace (the floor makes the same calls).

Prints a markdown table for docs/performance-services.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

HEADER = "# Databricks notebook source\n"
SEP = "\n\n# COMMAND ----------\n\n"

JOB_CELLS = [
    "# MAGIC %md\n# MAGIC # A task\n# MAGIC Reads parameters, computes, leaves task values.",
    'dbutils.widgets.text("env", "dev")\ndbutils.widgets.dropdown("mode", "a", ["a", "b"])',
    'env = dbutils.widgets.get("env")\nmode = dbutils.widgets.get("mode")',
    "import os\nnotebook_path = os.path.dirname(dbutils.notebook.entry_point.getDbutils().notebook()"
    ".getContext().notebookPath().get())\n%cd $notebook_path",
    "# MAGIC %pip install -r requirements.txt",
    "import pandas as pd\nframe = pd.DataFrame({'a': range(20), 'b': range(20)})",
    "display(frame.head(5))",
    "total = int(frame['a'].sum())",
    'dbutils.jobs.taskValues.set("total", total)',
    'dbutils.jobs.taskValues.set("env", env)',
    "summary = {'env': env, 'mode': mode, 'total': total}",
    'dbutils.notebook.exit(str(summary["total"]))',
]
MLFLOW_CELL = ("import mlflow\nmlflow.set_experiment('/Shared/bench-notebook')\n"
               "with mlflow.start_run():\n    mlflow.log_params({'a': 1, 'b': 2, 'c': 3})\n"
               "    mlflow.log_metrics({'x': 1.0, 'y': 2.0, 'z': 3.0})")

NOTEBOOKS = {
    "empty": ["pass"],
    "job task": JOB_CELLS,
    "mlflow run": JOB_CELLS[:-1] + [MLFLOW_CELL] + JOB_CELLS[-1:],
}


class _Widgets:
    def __init__(self) -> None:
        self.values = {"env": "dev"}

    def text(self, name: str, default: str, *a: Any) -> None:
        self.values.setdefault(name, default)

    dropdown = text

    def get(self, name: str) -> str:
        return self.values[name]


class _FloorDbutils:
    """Plain stand-ins: the least a notebook's dbutils calls could cost."""

    def __init__(self) -> None:
        self.widgets = _Widgets()
        self.task_values: dict[str, Any] = {}


def _floor(cells: list[str], directory: str) -> Callable[[], None]:
    """The cells' own work: the Python cells exec'd in one namespace, with the notebook-only
    calls replaced by their plain equivalents (magic-only cells and the exit dropped)."""
    replacements = {
        JOB_CELLS[3]: f"import os\nnotebook_path = {directory!r}\nos.chdir(notebook_path)",
        JOB_CELLS[8]: 'dbutils.task_values["total"] = total',
        JOB_CELLS[9]: 'dbutils.task_values["env"] = env',
        JOB_CELLS[11]: 'str(summary["total"])',
    }
    code = [replacements.get(c, c) for c in cells if not c.startswith("# MAGIC")]
    compiled = [compile(c, "<floor>", "exec") for c in code]

    def run() -> None:
        cwd = os.getcwd()
        ns: dict[str, Any] = {"dbutils": _FloorDbutils(), "display": lambda x: str(x)}
        try:
            for c in compiled:
                exec(c, ns)  # noqa: S102 - the benchmark's own code
        finally:
            os.chdir(cwd)
    return run


def _time(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up: imports, first requests
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import mlemu
    from mlemu.standins import notebooks

    rows = []
    with tempfile.TemporaryDirectory() as tmp, mlemu.emulate():
        for name, cells in NOTEBOOKS.items():
            path = os.path.join(tmp, name.replace(" ", "_") + ".py")
            with open(path, "w", encoding="utf-8") as f:
                f.write(HEADER + SEP.join(cells) + "\n")
            store = notebooks.TaskValues()

            def task(path: str = path, store: Any = store) -> None:
                notebooks.run(path, {"env": "dev"}, context=notebooks.NotebookContext(
                    job_id=1, run_id=2, task_key="task", task_values=store))

            notebook_ms = _time(task, args.repeat)
            floor_ms = _time(_floor(cells, tmp), args.repeat)
            rows.append((name, len(cells), notebook_ms, floor_ms))

    print(f"Python {platform.python_version()}, {sys.platform}, median of {args.repeat} runs, in-process "
          f"(mlemu.emulate()), load {os.getloadavg()[0]:.1f}.\n")
    print("| notebook | cells | mlemu.notebooks.run ms | the code alone ms | runtime overhead ms |")
    print("|---|---:|---:|---:|---:|")
    for name, n, notebook_ms, floor_ms in rows:
        print(f"| {name} | {n} | {notebook_ms:.1f} | {floor_ms:.1f} | {notebook_ms - floor_ms:.1f} |")


if __name__ == "__main__":
    main()
