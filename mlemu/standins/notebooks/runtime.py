"""Running a notebook: its cells in order, in one namespace, in the calling thread.

:func:`run` resolves the notebook (:mod:`.location`), parses it (:mod:`.source`) and hands it
to a :class:`Runner`, which executes each cell by kind: Python cells (IPython line magics
rewritten by :mod:`.magics`; the value of a last bare expression is printed, as in a
notebook), ``%sql`` (:mod:`.sqlcells`), ``%run`` (the other notebook's cells in this
namespace), ``%md`` (recorded), ``%pip`` (recorded, not executed), ``%fs`` (``dbutils.fs``);
``%sh``, ``%scala``, ``%r`` and ``%conda`` are refused. What the cells print, display and set
lands on the :class:`~.results.NotebookRun`; the first failing cell stops the run with
:class:`~.errors.NotebookFailed`.

A notebook is code: running it is running that code in the test's process, like importing a
module. Run only notebooks you would import.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import dataclasses
import io
import linecache
import importlib
import os
import shlex
import sys
import traceback
import types
from contextlib import ExitStack
from typing import Any, Mapping

from mlemu.server.transport import inprocess
import mlemu.standins.notebooks.magics as magics
import mlemu.standins.notebooks.timeout as timeout
from mlemu.standins.notebooks.context import CommandContext, NotebookContext
from mlemu.standins.notebooks.dbutils import DBUtils
from mlemu.standins.notebooks.display import Display, frame_methods
from mlemu.standins.notebooks.errors import (NotebookFailed, NotebookTimedOut, NotEmulated,
                                             WorkflowException)
from mlemu.standins.notebooks.fs import FileInfo
from mlemu.standins.notebooks.isolation import drop_project_modules, process_state
from mlemu.standins.notebooks.location import LOCAL, Location, locate, read
from mlemu.standins.notebooks.results import EXITED, FAILED, SUCCESS, Cell, DisplayOutput, NotebookRun
from mlemu.standins.notebooks.source import SourceCell, parse
from mlemu.standins.notebooks.sparkproxy import SparkProvider, namespace as spark_namespace
from mlemu.standins.notebooks.sqlcells import SqlRunner
from mlemu.standins.notebooks.widgets import Widgets, as_parameters

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

REFUSED = {
    "sh": "%sh runs shell commands on the driver; mlemu's notebook runtime does not run shell commands",
    "scala": "%scala cells need a JVM REPL; mlemu runs Python and SQL cells only",
    "r": "%r cells need an R REPL; mlemu runs Python and SQL cells only",
    "conda": "%conda is not supported (Databricks removed it); mlemu records %pip instead",
}


class _Exit(BaseException):
    """``dbutils.notebook.exit``: unwinds to the runner (not caught by ``except Exception``)."""

    def __init__(self, value: str | None) -> None:
        super().__init__(value)
        self.value = value


class _CellFailure(Exception):
    """A cell raised: carries where (notebook, cell) and the error, up through ``%run``."""

    def __init__(self, location: Location, cell: SourceCell, record: Cell, error: BaseException,
                 traceback_text: str) -> None:
        super().__init__(str(error))
        self.location, self.cell, self.record = location, cell, record
        self.error, self.traceback_text = error, traceback_text


def run(path: str | os.PathLike, parameters: Mapping[str, Any] | None = None, workspace: Any = None,
        context: NotebookContext | None = None, timeout_seconds: float | None = None, *,
        source: str | None = None) -> NotebookRun:
    """Run a Databricks notebook and return what it did (:class:`~.results.NotebookRun`).

    ``path``: a local notebook file (extension optional) or a notebook of the workspace;
    ``source`` (``WORKSPACE`` / ``GIT``) forces one. ``parameters``: widget values, as a job's
    ``base_parameters``. ``workspace``: the active one by default. ``context``: the job and
    task it runs as (the Jobs service passes one; None is an interactive run). A failing cell
    raises :class:`~.errors.NotebookFailed` (:class:`~.errors.NotebookTimedOut` past
    ``timeout_seconds``), whose ``run`` is the partial run.
    """
    ws = workspace if workspace is not None else inprocess.current()
    location = locate(path, ws, source)
    runner = Runner(location, as_parameters(parameters), ws, context or NotebookContext(), timeout_seconds)
    return runner.run()


class Runner:
    """One notebook run (a ``dbutils.notebook.run`` child gets a runner of its own)."""

    def __init__(self, location: Location, parameters: dict[str, str], ws: Any, context: NotebookContext,
                 timeout_seconds: float | None, parent: "Runner | None" = None) -> None:
        if context.notebook_path:  # the path the job knows it by (a bundle's workspace copy)
            location = dataclasses.replace(location, workspace_path=context.notebook_path)
        self.location = location
        self.ws = ws
        self.context = context
        self.timeout_seconds = timeout_seconds
        self.parent = parent
        self.notebook_path = location.workspace_path
        self.run_record = NotebookRun(path=location.path, parameters=dict(parameters))
        self.widgets = Widgets(parameters)
        user = context.user_name or (ws.user.user_name if ws is not None else "user@company.com")
        self.command_context = CommandContext(context, self.notebook_path, getattr(ws, "host", None),
                                              getattr(ws, "token", None), getattr(ws, "workspace_id", None), user)
        self.spark = parent.spark if parent is not None else SparkProvider()
        self.secrets_seen: set[bytes] = parent.secrets_seen if parent is not None else set()
        self.sql = SqlRunner(self.workspace, self.spark)
        self.display = Display(self._record_display)
        self.dbutils = DBUtils(self)
        self.namespace: dict[str, Any] = {}
        self._builtins: dict[str, Any] = {}
        self._top_cell: int | None = None
        self._state: Any = None
        self._ensure_frame_methods: Any = lambda: None
        self._notebook_files: set[str] = set()

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> NotebookRun:
        record = self.run_record
        with timeout.runtime_code():
            cells = parse(read(self.location, self.ws), self.location.path)
            failure: BaseException | None = None
            with ExitStack() as stack:
                guard = stack.enter_context(timeout.TimeoutGuard(self.timeout_seconds))
                self._state = stack.enter_context(process_state(self.location.local_dir))
                self._ensure_frame_methods = stack.enter_context(frame_methods(self.display))
                self.spark.on_start.append(self._ensure_frame_methods)
                stack.callback(self.spark.on_start.remove, self._ensure_frame_methods)
                if self.parent is None:
                    stack.callback(self.spark.close)
                self._init_namespace()
                try:
                    self._run_cells(cells, self.location, record.cells, top=True)
                    record.status = "success"
                except _Exit as e:
                    record.exit_value = e.value
                    record.status = "success"
                except _CellFailure as e:
                    self._state.failed = True
                    if isinstance(e.error, timeout.RunTimedOut) and not isinstance(e.error, guard.exception):
                        failure = e.error        # a caller's time ran out: it goes on up
                        record.status = "timed_out"
                    else:
                        failure = self._failed(e, timed_out=isinstance(e.error, guard.exception))
                except guard.exception:  # pragma: no cover - raised between cells: see timeout.py
                    self._state.failed = True
                    failure = self._timed_out_between_cells()
            if failure is not None:
                raise failure
        return record

    def _init_namespace(self) -> None:
        ns = self.namespace
        ns.update({"__name__": "__main__", "__builtins__": builtins, "dbutils": self.dbutils,
                   "display": self.display.display, "displayHTML": self.display.displayHTML,
                   "getArgument": self.widgets.getArgument, magics.DISPATCH: self._magic})
        ns.update(spark_namespace(self.spark))
        self._builtins = dict(ns)

    def _run_cells(self, cells: list[SourceCell], location: Location, records: list[Cell], top: bool) -> None:
        mine = [Cell(index=c.index, kind=c.kind, source=c.source, title=c.title, line=c.line,
                     notebook=location.path) for c in cells]
        records.extend(mine)
        for cell, rec in zip(cells, mine):
            if top:
                self._top_cell = cell.index
            try:
                self._execute(cell, rec, location)
                rec.status = SUCCESS
            except _Exit:
                rec.status = EXITED
                raise
            except _CellFailure:
                rec.status = FAILED
                raise
            except KeyboardInterrupt:
                raise
            except timeout.RunTimedOut as e:
                rec.status = FAILED
                raise _CellFailure(location, cell, rec, e, "") from None
            except BaseException as e:  # SystemExit from sys.exit() too: the cell failed
                rec.status = FAILED
                raise _CellFailure(location, cell, rec, e, self._traceback(e)) from None

    def _execute(self, cell: SourceCell, rec: Cell, location: Location) -> None:
        self._ensure_frame_methods()
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                self._dispatch(cell, rec, location)
        finally:
            rec.output += self._redact(out.getvalue())

    def _dispatch(self, cell: SourceCell, rec: Cell, location: Location) -> None:
        kind = cell.kind
        if kind == "python":
            self._python(cell, location)
        elif kind == "sql":
            with timeout.user_code():
                result = self.sql.run(cell.body, self.widgets.getAll())
            if result is not None:
                self.namespace["_sqldf"] = result
                self.display.display(result)
        elif kind == "md":
            pass
        elif kind == "run":
            self._include(cell, rec, location)
        elif kind == "pip":
            for line in cell.body.strip().splitlines():
                if line.strip():
                    self._magic_pip(line.strip()[len("%pip"):].strip())
        elif kind == "restart_python":
            self.restart_python()
        elif kind == "fs":
            with timeout.user_code():
                self._fs_magic(cell.body)
        elif kind in REFUSED:
            raise NotEmulated(REFUSED[kind])
        else:  # pragma: no cover - source.py only makes the kinds above
            raise NotEmulated(f"%{kind} cells are not emulated by mlemu")

    # -- Python cells ----------------------------------------------------------------------
    def _python(self, cell: SourceCell, location: Location) -> None:
        filename = self._filename(location)
        code = "\n" * (cell.line - 1) + magics.transform(cell.body)
        tree = ast.parse(code, filename)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        body = compile(tree, filename, "exec")
        with timeout.user_code():
            exec(body, self.namespace)  # noqa: S102 - running the notebook is the point (module docstring)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), filename, "eval"), self.namespace)  # noqa: S307
                if value is not None:
                    print(repr(value))

    def _filename(self, location: Location) -> str:
        """The file name tracebacks show for the notebook's code; a workspace notebook gets its
        source registered with ``linecache`` so tracebacks show its lines too."""
        if location.kind == LOCAL:
            name = location.path
        else:
            name = f"<workspace>{location.path}"
            if name not in linecache.cache:
                text = read(location, self.ws)
                linecache.cache[name] = (len(text), None, text.splitlines(True), name)
        self._notebook_files.add(name)
        return name

    # -- %run ------------------------------------------------------------------------------
    def _include(self, cell: SourceCell, rec: Cell, location: Location) -> None:
        try:
            target, arguments = magics.run_arguments(cell.body.strip().splitlines()[0])
        except ValueError as e:
            raise NotEmulated(str(e)) from None
        included = location.resolve(target, self.ws)
        cells = parse(read(included, self.ws), included.path)
        self.widgets.push(arguments)
        try:
            self._run_cells(cells, included, rec.included, top=False)
        finally:
            self.widgets.pop()

    # -- line magics in Python cells -------------------------------------------------------
    def _magic(self, name: str, args: str) -> Any:
        frame = sys._getframe(1)
        text = magics.expand(args, [frame.f_locals, frame.f_globals])
        with timeout.runtime_code():
            handler = getattr(self, f"_magic_{name.replace('-', '_')}", None) if name.isidentifier() else None
            if handler is None:
                raise NotEmulated(_magic_refusal(name))
            return handler(text)

    def _magic_cd(self, args: str) -> str:
        target = args.strip().strip("'\"") or os.path.expanduser("~")
        local = self.location.local_dir_for(target) if target.startswith("/") else None
        directory = local or target
        if not target.startswith("/") or local is not None or os.path.isdir(directory):
            os.chdir(directory)
            importlib.invalidate_caches()  # '' on sys.path now means another folder
            print(os.getcwd())
            return os.getcwd()
        if self.ws is not None and self.location.kind != LOCAL:
            stripped = target[len("/Workspace"):] if target.startswith("/Workspace/") else target
            with self.ws.lock:
                if self.ws.workspace_files.is_directory(stripped):
                    self.log(f"%cd {target}: a workspace folder; notebooks read from the workspace keep "
                             "the test's working directory")
                    return target
        raise FileNotFoundError(f"[Errno 2] No such file or directory: {target!r}")

    def _magic_pwd(self, args: str) -> str:
        return os.getcwd()

    def _magic_pip(self, args: str) -> None:
        self.log(f"%pip {args}: recorded, not executed (tests do not install packages)")

    def _magic_restart_python(self, args: str) -> None:
        self.restart_python()

    def _magic_env(self, args: str) -> Any:
        text = args.strip()
        if not text:
            return dict(os.environ)
        name, sep, value = text.partition("=")
        if not sep and " " in text:
            name, _, value = text.partition(" ")
            sep = " "
        if sep:
            os.environ[name.strip()] = value.strip()
            print(f"env: {name.strip()}={value.strip()}")
            return None
        return os.environ.get(name.strip())

    def _ignored(self, name: str, args: str) -> None:
        self.log(f"%{name} {args}".rstrip() + ": ignored (no effect in mlemu's notebook runtime)")

    def _magic_load_ext(self, args: str) -> None:
        self._ignored("load_ext", args)

    def _magic_reload_ext(self, args: str) -> None:
        self._ignored("reload_ext", args)

    def _magic_autoreload(self, args: str) -> None:
        self._ignored("autoreload", args)

    def _magic_aimport(self, args: str) -> None:
        self._ignored("aimport", args)

    def _magic_matplotlib(self, args: str) -> None:
        self._ignored("matplotlib", args)

    def _magic_config(self, args: str) -> None:
        self._ignored("config", args)

    def _magic_fs(self, args: str) -> Any:
        return self._fs_magic("%fs " + args)

    def _fs_magic(self, line: str) -> Any:
        words = shlex.split(line.strip().splitlines()[0])[1:]
        if not words:
            raise NotEmulated("%fs needs a command: ls, head, cp, mv, rm, mkdirs, put")
        command, rest = words[0], words[1:]
        recurse = any(w in ("-r", "--recurse") for w in rest)
        overwrite = any(w in ("-f", "--overwrite") for w in rest)
        args = [w for w in rest if not w.startswith("-")]
        fs = self.dbutils.fs
        if command == "ls":
            import pandas as pd

            entries = fs.ls(args[0] if args else "/")
            self.display.display(pd.DataFrame([e._asdict() for e in entries], columns=list(FileInfo._fields)))
            return entries
        if command == "head":
            text = fs.head(*args[:1], *(int(a) for a in args[1:2]))
            print(text)
            return text
        if command in ("cp", "mv"):
            return getattr(fs, command)(args[0], args[1], recurse=recurse)
        if command == "rm":
            return fs.rm(args[0], recurse=recurse)
        if command == "mkdirs":
            return fs.mkdirs(args[0])
        if command == "put":
            return fs.put(args[0], args[1], overwrite=overwrite)
        raise NotEmulated(f"%fs {command} is not emulated by mlemu (emulated: ls, head, cp, mv, rm, mkdirs, put)")

    # -- what dbutils asks of the run (dbutils.Session) ------------------------------------
    def workspace(self) -> Any:
        if self.ws is None:
            raise NotEmulated("No emulated Databricks workspace is active: use the mlemu fixture or "
                              "mlemu.emulate(), or pass workspace= to mlemu.notebooks.run")
        return self.ws

    def echo(self, text: str) -> None:
        print(text)

    def log(self, text: str) -> None:
        self.run_record.log.append(text)

    def in_job(self) -> bool:
        return self.context.in_job

    def set_task_value(self, key: str, value: Any) -> None:
        runner: Runner | None = self
        while runner is not None:  # a notebook.run child sets values of the same task
            runner.run_record.task_values[key] = value
            runner = runner.parent
        store = self.context.task_values
        if self.context.in_job and store is not None and self.context.task_key:
            store.set(self.context.task_key, key, value)
        elif not self.context.in_job:
            self.log(f"taskValues.set({key!r}): outside a job; kept on this run only (Databricks ignores it)")

    def get_task_value(self, task_key: str, key: str) -> Any:
        store = self.context.task_values
        has_task = getattr(store, "has_task", None)
        if store is None or (callable(has_task) and not has_task(task_key)):
            raise ValueError(f"Task {task_key!r} was not found in this job run.")
        return store.get(task_key, key)

    def exit(self, value: Any) -> None:
        raise _Exit(None if value is None else str(value))

    def run_notebook(self, path: str, timeout_seconds: float, arguments: Mapping[str, Any]) -> str | None:
        with timeout.runtime_code():
            target = self.location.resolve(path, self.ws)
            child_context = NotebookContext(
                notebook_path=None, job_id=self.context.job_id, run_id=self.context.run_id,
                task_key=self.context.task_key, task_values=self.context.task_values,
                user_name=self.context.user_name, extra_tags=dict(self.context.extra_tags),
                parent_run_id=self.context.parent_run_id, job_name=self.context.job_name)
            child = Runner(target, as_parameters(arguments), self.ws, child_context, timeout_seconds, parent=self)
            self.run_record.children.append(child.run_record)
            try:
                return child.run().exit_value
            except NotebookTimedOut as e:
                raise WorkflowException(f"com.databricks.WorkflowException: com.databricks.NotebookExecutionException: "
                                        f"FAILED: Notebook {path} timed out after {timeout_seconds} seconds",
                                        e.run) from e
            except NotebookFailed as e:
                raise WorkflowException(f"com.databricks.WorkflowException: com.databricks.NotebookExecutionException: "
                                        f"FAILED: Notebook {path} failed: {_last_line(e.traceback_text)}",
                                        e.run) from e

    def restart_python(self) -> None:
        self.log("restartPython: the Python process is not restarted; the notebook's variables are dropped and "
                 "its working directory reset, as after a restart")
        self.namespace.clear()
        self.namespace.update(self._builtins)
        if self.location.local_dir is not None:
            os.chdir(self.location.local_dir)
        if self._state is not None:
            self._state.roots.add(os.path.realpath(os.getcwd()))
            drop_project_modules(self._state)

    def secret_seen(self, value: bytes) -> None:
        if value:
            self.secrets_seen.add(value)

    # -- recording -------------------------------------------------------------------------
    def _record_display(self, output: DisplayOutput) -> None:
        output.cell_index = self._top_cell
        output.text = self._redact(output.text)
        self.run_record.displays.append(output)

    def _redact(self, text: str) -> str:
        for secret in sorted(self.secrets_seen, key=len, reverse=True):
            try:
                value = secret.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if value:
                text = text.replace(value, "[REDACTED]")
        return text

    # -- failures --------------------------------------------------------------------------
    def _traceback(self, error: BaseException) -> str:
        """The traceback from the notebook's own code down, without the runtime's frames."""
        entries = []
        tb = error.__traceback__
        seen_notebook = False
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if name in self._notebook_files:
                seen_notebook = True
            if seen_notebook and not os.path.abspath(name).startswith(_PACKAGE_DIR + os.sep):
                entries.append(tb)
            tb = tb.tb_next
        trimmed = None
        for entry in reversed(entries):
            trimmed = types.TracebackType(trimmed, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
        if trimmed is None:
            return "".join(traceback.format_exception_only(type(error), error))
        return "".join(traceback.format_exception(type(error), error, trimmed))

    def _failed(self, failure: _CellFailure, timed_out: bool) -> NotebookFailed:
        record = self.run_record
        top = self._top_cell if self._top_cell is not None else failure.cell.index
        record.status = "timed_out" if timed_out else "failed"
        record.error = failure.error
        inner = failure.location.path if failure.location.path != self.location.path else None
        text = (f"Timed out after {self.timeout_seconds} seconds (timeout_seconds) while running this cell.\n"
                if timed_out else failure.traceback_text)
        output = failure.record.output.strip()
        if output:
            tail = "\n".join(output.splitlines()[-20:])
            text = text.rstrip() + f"\n\nOutput of the cell (last lines):\n{tail}\n"
        cls = NotebookTimedOut if timed_out else NotebookFailed
        return cls(path=self.location.path, cell_index=top, cell_source=failure.cell.body,
                   traceback_text=text, run=record, error=failure.error, cell_line=failure.cell.line,
                   failed_in=inner)

    def _timed_out_between_cells(self) -> NotebookTimedOut:  # pragma: no cover - see run()
        record = self.run_record
        record.status = "timed_out"
        return NotebookTimedOut(path=self.location.path, cell_index=self._top_cell or 0, cell_source="",
                                traceback_text=f"Timed out after {self.timeout_seconds} seconds (timeout_seconds).",
                                run=record)


def _magic_refusal(name: str) -> str:
    if name in ("!", "sh", "system"):
        return "Shell commands (!cmd, %sh) are not run by mlemu's notebook runtime"
    if name.startswith("%"):
        return f"The cell magic %{name} is not emulated by mlemu's notebook runtime"
    if name == "sql":
        return "%sql works as a cell's first line only (a %sql cell), not inside a Python cell"
    if name == "run":
        return "%run must be the only command of its cell"
    return f"The magic %{name} is not emulated by mlemu's notebook runtime"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
