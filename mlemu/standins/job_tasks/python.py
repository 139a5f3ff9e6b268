"""``spark_python_task`` and ``python_wheel_task``: a Python file run as ``__main__`` with its
parameters in ``sys.argv``, and an installed distribution's entry point, as a Databricks
cluster runs them. What they print is the task's ``logs``; ``sys.exit(0)`` succeeds, any other
exit code or exception fails the task with its traceback.

Files are read from a bundle's synced files (``ws.jobs.mount``), the emulated workspace tree,
DBFS (``dbfs:/``) or a Unity Catalog volume. The file runs with its folder as the working
directory and first on ``sys.path``, both restored afterwards. Wheels are not installed: the
package must be installed in the test's environment (``pip install -e .``), as a
``whl`` library would be on the cluster.
"""
from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import io
import os
import runpy
import sys
import tempfile
import threading
import traceback
from typing import Any, Iterator

from mlemu.server.core.errors import ApiError
from mlemu.server.services.jobs.tasks import TaskFailed, TaskInvocation, TaskResult
from mlemu.standins.job_tasks.environment import client_environment


def run_python_file(inv: TaskInvocation) -> TaskResult:
    path = str(inv.body["python_file"])
    params = [str(p) for p in inv.body.get("parameters") or []]
    local, cleanup = _python_file(inv, path)
    try:
        with client_environment(inv.workspace, inv.base_url, inv.token), _argv([local, *params]), \
                _folder(os.path.dirname(local)), _captured() as out:
            _main(lambda: runpy.run_path(local, run_name="__main__"), out)
        return TaskResult(logs=out.getvalue() or None)
    finally:
        if cleanup:
            os.unlink(local)


def run_wheel(inv: TaskInvocation) -> TaskResult:
    package, entry = str(inv.body["package_name"]), str(inv.body["entry_point"])
    named = inv.body.get("named_parameters")
    args = [f"--{k}={v}" for k, v in named.items()] if named else [str(p) for p in inv.body.get("parameters") or []]
    target = _entry_point(package, entry)
    with client_environment(inv.workspace, inv.base_url, inv.token), _argv([entry, *args]), _captured() as out:
        _main(target, out)
    return TaskResult(logs=out.getvalue() or None)


def _entry_point(package: str, entry: str) -> Any:
    """The entry point ``entry`` of distribution ``package`` (any group, console scripts
    first), else ``package.entry`` as a function, as Databricks falls back to."""
    try:
        eps = importlib.metadata.distribution(package).entry_points
    except importlib.metadata.PackageNotFoundError:
        eps = []
    for ep in sorted(eps, key=lambda e: e.group != "console_scripts"):
        if ep.name == entry:
            return ep.load
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except ImportError:
        raise TaskFailed(f"Package '{package}' is not installed: mlemu runs python_wheel_task entry points of "
                         "packages installed in the test's environment.", code="LIBRARY_INSTALLATION_ERROR") from None
    func = getattr(module, entry, None)
    if not callable(func):
        raise TaskFailed(f"No entry point '{entry}' in package '{package}'.", code="INVALID_RUN_CONFIGURATION")
    return lambda: func


def _main(load: Any, out: io.StringIO) -> None:
    try:
        target = load()
        if callable(target):
            target()
    except SystemExit as e:
        if e.code not in (None, 0):
            raise TaskFailed(f"SystemExit: {e.code}", traceback.format_exc(), logs=out.getvalue() or None) from None
    except TaskFailed:
        raise
    except Exception as e:
        text = str(e).strip().splitlines()
        raise TaskFailed(f"{type(e).__name__}: {text[0]}" if text else type(e).__name__, traceback.format_exc(),
                         logs=out.getvalue() or None) from None


def _python_file(inv: TaskInvocation, path: str) -> tuple[str, bool]:
    """A local file to run, and whether it is a temporary copy to remove."""
    local = inv.local_path(path)
    if local is not None:
        return local, False
    ws: Any = inv.workspace
    data: bytes | None = None
    try:
        with ws.lock:
            if path.startswith("dbfs:/") or path.startswith("/Volumes/"):
                from mlemu.server.core.storage import dbfs_location
                ns, clean = dbfs_location(path)
                if ws.storage.is_file(ns, clean):
                    data = ws.storage.read(ns, clean)
            elif path.startswith("/"):
                data, _ = ws.workspace_files.export_object(path.removeprefix("/Workspace"))
    except ApiError:
        data = None
    if data is None:
        raise TaskFailed(f"Unable to access the Python file '{path}'.", code="RESOURCE_NOT_FOUND")
    fd, tmp = tempfile.mkstemp(suffix=".py", prefix="mlemu-task-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return tmp, True


@contextlib.contextmanager
def _argv(argv: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = list(argv)
    try:
        yield
    finally:
        sys.argv = saved


@contextlib.contextmanager
def _folder(directory: str) -> Iterator[None]:
    cwd, path = os.getcwd(), list(sys.path)
    os.chdir(directory)
    sys.path.insert(0, directory)
    try:
        yield
    finally:
        sys.path[:] = path
        os.chdir(cwd)


class _ThreadStdout(io.TextIOBase):
    """``sys.stdout`` / ``stderr`` while tasks run: a task thread's writes go to its buffer,
    every other thread's to the real stream."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.buffers: dict[int, io.StringIO] = {}

    def write(self, text: str) -> int:
        buf = self.buffers.get(threading.get_ident())
        return buf.write(text) if buf is not None else self.real.write(text)

    def flush(self) -> None:
        if threading.get_ident() not in self.buffers:
            self.real.flush()


_streams_lock = threading.Lock()


@contextlib.contextmanager
def _captured() -> Iterator[io.StringIO]:
    """Capture what this thread prints (stdout and stderr) while the body runs."""
    out = io.StringIO()
    me = threading.get_ident()
    with _streams_lock:
        installed = []
        for name in ("stdout", "stderr"):
            stream = getattr(sys, name)
            if not isinstance(stream, _ThreadStdout):
                stream = _ThreadStdout(stream)
                setattr(sys, name, stream)
            stream.buffers[me] = out
            installed.append((name, stream))
    try:
        yield out
    finally:
        with _streams_lock:
            for name, stream in installed:
                stream.buffers.pop(me, None)
                if not stream.buffers and getattr(sys, name) is stream:
                    setattr(sys, name, stream.real)
