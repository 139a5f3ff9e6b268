"""``dbutils`` inside a notebook run: widgets, jobs.taskValues, notebook (exit, run, the
context), fs, secrets and library.restartPython. Any other utility or method raises
:class:`~.errors.NotEmulated` naming it.

The utilities act through a :class:`Session` (the runtime's view of the current run), which
keeps this module free of how cells are executed.
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Protocol

from mlemu.standins.notebooks.context import MISSING, CommandContext, EntryPoint
from mlemu.standins.notebooks.errors import NotEmulated
from mlemu.standins.notebooks.fs import FsUtil
from mlemu.standins.notebooks.secrets import SecretsUtil
from mlemu.standins.notebooks.widgets import Widgets

#: Databricks' limit on one task value: the size of its JSON representation.
MAX_TASK_VALUE_BYTES = 48 * 1024

OUTSIDE_JOB = "Must pass debugValue when calling get outside of a job context. debugValue cannot be None."


class Session(Protocol):
    """What ``dbutils`` needs from the run it belongs to."""

    widgets: Widgets
    command_context: CommandContext

    def workspace(self) -> Any: ...
    def echo(self, text: str) -> None: ...
    def set_task_value(self, key: str, value: Any) -> None: ...
    def get_task_value(self, task_key: str, key: str) -> Any: ...
    def in_job(self) -> bool: ...
    def exit(self, value: Any) -> None: ...
    def run_notebook(self, path: str, timeout_seconds: float, arguments: Mapping[str, Any]) -> str | None: ...
    def restart_python(self) -> None: ...
    def secret_seen(self, value: bytes) -> None: ...


class _Util:
    """Base of a ``dbutils.<util>``: unknown methods are named as not emulated."""

    _name = ""
    _methods: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotEmulated(f"dbutils.{self._name}.{name} is not emulated by mlemu"
                          + (f" (emulated: {', '.join(self._methods)})" if self._methods else ""))

    def help(self, method: str = "") -> None:
        print(f"dbutils.{self._name} (emulated by mlemu): {', '.join(self._methods)}")


class TaskValuesUtil(_Util):
    """``dbutils.jobs.taskValues``: values a task leaves for later tasks of its job run."""

    _name = "jobs.taskValues"
    _methods = ("set", "get")

    def __init__(self, session: Session) -> None:
        self._session = session

    def set(self, key: str, value: Any) -> None:
        """Set a task value of the current task (JSON-representable, at most 48 KiB as JSON)."""
        if not isinstance(key, str):
            raise TypeError(f"Task value keys must be strings, not {type(key).__name__}: {key!r}")
        try:
            encoded = json.dumps(value)
        except (TypeError, ValueError) as e:
            raise TypeError(f"Task value {key!r} cannot be expressed as JSON: {e}") from None
        if len(encoded.encode("utf-8")) > MAX_TASK_VALUE_BYTES:
            raise ValueError(f"Task value {key!r} is {len(encoded.encode('utf-8'))} bytes as JSON; the limit is "
                             f"{MAX_TASK_VALUE_BYTES} bytes (48 KiB).")
        self._session.set_task_value(key, json.loads(encoded))

    def get(self, taskKey: str, key: str, default: Any = None, debugValue: Any = None) -> Any:
        """The value ``taskKey`` set for ``key`` in this job run; ``default`` when it set none.
        Outside a job: ``debugValue`` (a TypeError without one)."""
        if not self._session.in_job():
            if debugValue is None:
                raise TypeError(OUTSIDE_JOB)
            return debugValue
        value = self._session.get_task_value(taskKey, key)
        if value is MISSING:
            if default is not None:
                return default
            raise ValueError(f"No task value was found for task {taskKey!r} and key {key!r}.")
        return value


class JobsUtil(_Util):
    _name = "jobs"
    _methods = ("taskValues",)

    def __init__(self, session: Session) -> None:
        self.taskValues = TaskValuesUtil(session)


class NotebookUtil(_Util):
    """``dbutils.notebook``: exit, run and the notebook context (``entry_point``)."""

    _name = "notebook"
    _methods = ("exit", "run", "entry_point")

    def __init__(self, session: Session) -> None:
        self._session = session
        self.entry_point = EntryPoint(session.command_context)

    def exit(self, value: Any) -> None:
        """Stop the notebook here; the run's exit value is ``str(value)``."""
        self._session.exit(value)

    def run(self, path: str, timeout_seconds: float = 0, arguments: Mapping[str, Any] | None = None) -> str | None:
        """Run another notebook (a path relative to this one, or absolute) with ``arguments`` as
        its parameters, in a namespace of its own; its exit value is returned. ``timeout_seconds``
        of 0 means no limit."""
        return self._session.run_notebook(path, timeout_seconds, arguments or {})


class LibraryUtil(_Util):
    _name = "library"
    _methods = ("restartPython",)

    def __init__(self, session: Session) -> None:
        self._session = session

    def restartPython(self) -> None:
        """No process restart: the run's log says so, and the notebook's variables are dropped."""
        self._session.restart_python()


class _NotEmulatedUtil(_Util):
    def __init__(self, name: str) -> None:
        self._name = name


class DBUtils:
    """The ``dbutils`` object of a notebook run."""

    def __init__(self, session: Session) -> None:
        self.widgets = session.widgets
        self.jobs = JobsUtil(session)
        self.notebook = NotebookUtil(session)
        self.fs = FsUtil(session.workspace, session.echo)
        self.secrets = SecretsUtil(session.workspace, session.secret_seen)
        self.library = LibraryUtil(session)
        for name in ("credentials", "data", "meta", "preview", "api"):
            setattr(self, name, _NotEmulatedUtil(name))

    def help(self, name: str = "") -> None:
        print("dbutils (emulated by mlemu): fs, jobs.taskValues, library.restartPython, notebook, secrets, widgets")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotEmulated(f"dbutils.{name} is not emulated by mlemu")
