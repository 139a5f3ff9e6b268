"""Job task runners for client code: ``notebook_task`` (the notebook runtime,
:mod:`mlemu.standins.notebooks`), ``spark_python_task`` (a Python file) and
``python_wheel_task`` (an installed package's entry point).

They are stand-ins, not server code: a Databricks task runs on a cluster, outside the
workspace's API. The jobs service (``mlemu.server.services.jobs``) finds them through the
``mlemu_job_task_runners`` plugin hook; the composition root (:mod:`mlemu.workspace`) registers
this package as a plugin of every workspace. Each runs with the task's clients pointed at the
workspace (:mod:`.environment`).
"""
from __future__ import annotations

from typing import Any

from mlemu.server.hookspecs import hookimpl


@hookimpl
def mlemu_job_task_runners() -> dict[str, Any]:
    from mlemu.standins.job_tasks.notebook import run_notebook
    from mlemu.standins.job_tasks.python import run_python_file, run_wheel

    return {"notebook_task": run_notebook, "spark_python_task": run_python_file, "python_wheel_task": run_wheel}
