"""What a notebook run leaves for the test to assert on: its cells, displays, task values,
exit value and log."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Cell statuses. ``exited``: the cell called ``dbutils.notebook.exit``; ``skipped``: not run
#: (after an exit or a failure).
SUCCESS, FAILED, EXITED, SKIPPED = "success", "failed", "exited", "skipped"


@dataclass
class DisplayOutput:
    """One ``display()`` / ``displayHTML()`` / ``%sql`` result. ``kind``: ``table`` (``frame`` is
    a pandas DataFrame of at most 10,000 rows, ``truncated`` when there were more), ``html``,
    ``figure``, or ``text``; ``text`` is how it reads in a log."""

    kind: str
    text: str
    frame: Any = None
    cell_index: int | None = None
    truncated: bool = False

    def __str__(self) -> str:
        return self.text


@dataclass
class Cell:
    """One cell of the notebook as it ran. ``kind``: ``python``, ``sql``, ``md``, ``run``, ``pip``,
    ``fs``, ``restart_python``, ``sh``...; ``output`` what it printed (stdout and stderr, and
    the value of a last bare expression); ``included``: the cells of a ``%run`` notebook."""

    index: int
    kind: str
    source: str
    status: str = SKIPPED
    output: str = ""
    title: str | None = None
    line: int = 1
    notebook: str = ""
    included: list["Cell"] = field(default_factory=list)


@dataclass
class NotebookRun:
    """The outcome of :func:`mlemu.notebooks.run`."""

    path: str
    parameters: dict[str, str]
    cells: list[Cell] = field(default_factory=list)
    displays: list[DisplayOutput] = field(default_factory=list)
    task_values: dict[str, Any] = field(default_factory=dict)
    exit_value: str | None = None
    log: list[str] = field(default_factory=list)
    #: ``success``, ``failed`` or ``timed_out`` once the run is over.
    status: str = "running"
    error: BaseException | None = None
    #: The runs of the notebooks this one ran with ``dbutils.notebook.run``, in order.
    children: list["NotebookRun"] = field(default_factory=list)

    @property
    def output(self) -> str:
        """Everything the cells printed, in order."""
        return "".join(c.output for c in _walk(self.cells))

    def tables(self) -> list[Any]:
        """The frames of the ``table`` displays, in order."""
        return [d.frame for d in self.displays if d.kind == "table"]


def _walk(cells: list[Cell]) -> list[Cell]:
    out: list[Cell] = []
    for cell in cells:
        out.append(cell)
        out.extend(_walk(cell.included))
    return out
