"""A notebook task on Databricks gets a Python process of its own; in the test it shares the
test's. :func:`process_state` gives each run the process state Databricks would and puts
the test's back afterwards:

* the working directory is the notebook's folder (a local notebook: files in Git folders and
  bundles run there, DBR 13+), and that folder is first on ``sys.path`` (DBR 14+), followed by
  ``''``, the current directory, as in an IPython kernel: after ``%cd ../features`` the notebook
  imports ``features/pickup_features.py`` by name, as MLOps Stacks' notebooks do;
* ``os.environ`` changes, ``sys.path`` entries, and modules the notebook imported from its
  project (files outside site-packages under the folders it ran in or added to ``sys.path``)
  are undone, so the next notebook imports its own ``utils.py`` afresh;
* mlflow runs the notebook left open are ended (FINISHED, or FAILED when it failed), as
  mlflow does when a process exits, and mlflow's process-wide settings (URIs, experiment,
  autologging) are put back (:mod:`mlemu.standins.mlflow_globals`).
"""
from __future__ import annotations

import os
import sys
import sysconfig
from contextlib import contextmanager
from typing import Any, Iterator

from mlemu.standins import mlflow_globals

_LIBRARY_DIRS = tuple(os.path.realpath(p) for p in {sysconfig.get_paths().get("purelib", ""),
                                                    sysconfig.get_paths().get("platlib", ""),
                                                    sysconfig.get_paths().get("stdlib", ""),
                                                    sys.prefix, sys.base_prefix, sys.exec_prefix} if p)
_OWN_PACKAGE = os.path.realpath(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


class RunState:
    """What :func:`process_state` records of a run; ``failed`` decides how open runs end."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory
        self.failed = False
        self.roots: set[str] = set()
        self.modules_before: set[str] = set()


@contextmanager
def process_state(directory: str | None) -> Iterator[RunState]:
    """Run with ``directory`` (None: a workspace notebook, no local folder) as the working
    directory and first ``sys.path`` entry; restore everything on exit."""
    state = RunState(directory)
    cwd = os.getcwd()
    path = list(sys.path)
    environ = dict(os.environ)
    state.modules_before = set(sys.modules)
    mlflow_saved = mlflow_globals.save()
    runs_before = mlflow_globals.active_run_ids()
    if directory is not None:
        os.chdir(directory)
        sys.path.insert(0, directory)
        if "" not in sys.path:
            sys.path.insert(1, "")
        state.roots.add(os.path.realpath(directory))
    try:
        yield state
    finally:
        try:
            mlflow_globals.end_runs_since(runs_before, failed=state.failed)
            mlflow_globals.restore(mlflow_saved)
        finally:
            state.roots.update(_roots(sys.path, path))
            state.roots.add(os.path.realpath(os.getcwd()))
            drop_project_modules(state)
            for entry in set(sys.path) - set(path):
                sys.path_importer_cache.pop(entry, None)
            sys.path[:] = path
            os.chdir(cwd)
            _restore_environ(environ)


def drop_project_modules(state: RunState) -> None:
    """Forget modules imported since the run began whose files live in the run's project
    folders (not in site-packages or the standard library, and not mlemu itself)."""
    roots = tuple(r.rstrip(os.sep) + os.sep for r in state.roots if r not in ("/", ""))
    if not roots:
        return
    for name in [n for n in sys.modules if n not in state.modules_before]:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if not file:
            continue
        real = os.path.realpath(file)
        if (real.startswith(roots) and not real.startswith(_LIBRARY_DIRS)
                and not real.startswith(_OWN_PACKAGE + os.sep) and os.sep + "site-packages" + os.sep not in real):
            del sys.modules[name]


def _roots(now: list[str], before: list[str]) -> set[str]:
    """The folders of ``sys.path`` entries the run added (relative ones against its cwd)."""
    return {os.path.realpath(os.path.abspath(p or ".")) for p in now if p not in before}


def _restore_environ(saved: dict[str, str]) -> None:
    for key in [k for k in os.environ if k not in saved]:
        del os.environ[key]
    for key, value in saved.items():
        if os.environ.get(key) != value:
            os.environ[key] = value


