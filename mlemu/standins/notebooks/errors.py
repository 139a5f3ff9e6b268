"""Errors a notebook run raises, and the ones ``dbutils`` raises inside it.

Messages follow what Databricks prints where it is known (``No input widget named x is
defined``, ``Must pass debugValue when calling get outside of a job context``); the Java
exception types Databricks wraps them in (``Py4JJavaError``) do not exist here, so each has a
Python class of its own, named after the Databricks one.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlemu.standins.notebooks.results import NotebookRun


class NotebookError(Exception):
    """Base of the errors of :mod:`mlemu.notebooks`."""


class NotebookSourceError(NotebookError):
    """The file is not Databricks notebook source (or is in a language mlemu does not run)."""


class NotebookNotFound(NotebookError, FileNotFoundError):
    """No notebook at that path, locally or in the emulated workspace."""


class NotEmulated(NotebookError, NotImplementedError):
    """A Databricks feature the notebook runtime does not emulate (named in the message)."""


class InputWidgetNotDefined(NotebookError, ValueError):
    """``dbutils.widgets.get`` of a widget that was neither created nor passed as a parameter."""


class NoSuchElementException(NotebookError, LookupError):
    """``Option.get()`` of an empty option, or ``apply`` of a missing key (Scala's error)."""


class WidgetError(NotebookError, ValueError):
    """A widget defined with invalid arguments (a default outside its choices...)."""


class FsError(NotebookError, OSError):
    """A ``dbutils.fs`` call the file system refuses (missing file, existing target...)."""


class SecretError(NotebookError, ValueError):
    """A ``dbutils.secrets`` call for a scope or key that does not exist."""


class WorkflowException(NotebookError):
    """What ``dbutils.notebook.run`` raises when the called notebook fails or times out
    (``com.databricks.WorkflowException`` on Databricks). ``run`` is the called notebook's
    partial run; the cause is its :class:`NotebookFailed`."""

    def __init__(self, message: str, run: "NotebookRun | None" = None) -> None:
        super().__init__(message)
        self.run = run


class NotebookFailed(NotebookError):
    """A cell raised. ``str()`` shows the notebook, the failing cell and the traceback of the
    notebook's own code, which is what pytest prints when a test lets it through."""

    def __init__(self, *, path: str, cell_index: int, cell_source: str, traceback_text: str,
                 run: "NotebookRun", error: BaseException | None = None, cell_line: int | None = None,
                 failed_in: str | None = None) -> None:
        self.path = path
        self.cell_index = cell_index
        self.cell_source = cell_source
        self.cell_line = cell_line
        self.traceback_text = traceback_text
        self.run = run
        self.error = error
        #: The notebook whose cell raised, when it is not ``path`` (a notebook included by ``%run``).
        self.failed_in = failed_in
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"cell {self.cell_index + 1}" + (f" (line {self.cell_line})" if self.cell_line else "")
        inner = f", in {self.failed_in} (included by %run)" if self.failed_in else ""
        numbered = "\n".join(f"  {n:>4} | {line}" for n, line in
                             enumerate(self.cell_source.splitlines(), start=self.cell_line or 1))
        return (f"Notebook {self.path} failed in {where}{inner}:\n{numbered}\n\n"
                f"{self.traceback_text.rstrip()}")

    def __reduce__(self) -> Any:  # keep pytest-xdist and pickling of the message working
        return (NotebookError, (str(self),))


class NotebookTimedOut(NotebookFailed):
    """The run took longer than its ``timeout_seconds``."""
