"""``display()``, ``displayHTML()`` and ``DataFrame.display()`` inside a notebook run: each call
is rendered as text and recorded on the run (:class:`~.results.DisplayOutput`).

Tables keep the frame as pandas (a Spark DataFrame is collected, as Databricks collects what
it shows): at most the first 10,000 rows, as Databricks' display shows. ``DataFrame.display``
exists on Databricks for Spark and pandas frames; here it is added to both classes for the
duration of a run and removed afterwards.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from mlemu.standins.notebooks.results import DisplayOutput

#: Rows Databricks' display shows of a table.
MAX_ROWS = 10_000
#: Rows of a table written into ``DisplayOutput.text`` (the frame keeps all MAX_ROWS).
TEXT_ROWS = 50


class Display:
    """The display functions of one run; ``record`` receives each output."""

    def __init__(self, record: Callable[[DisplayOutput], None]) -> None:
        self._record = record

    def display(self, input: Any = None, *args: Any, **kwargs: Any) -> None:
        """Render ``input`` (a pandas or Spark DataFrame, a list of rows, a figure, any value)."""
        if input is None:
            return
        self._record(render(input))

    def displayHTML(self, html: Any) -> None:
        """Record an HTML fragment (as text: the HTML itself)."""
        self._record(DisplayOutput("html", str(html)))


def render(value: Any) -> DisplayOutput:
    frame, truncated = _as_frame(value)
    if frame is not None:
        return DisplayOutput("table", _frame_text(frame, truncated), frame, truncated=truncated)
    if _is_figure(value):
        return DisplayOutput("figure", repr(value))
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        try:
            return DisplayOutput("html", str(html()))
        except Exception:  # a broken _repr_html_ must not fail the cell: show the value as text
            pass
    return DisplayOutput("text", str(value))


def _as_frame(value: Any) -> tuple[Any, bool]:
    """(pandas frame of at most MAX_ROWS rows, truncated) or (None, False)."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return value.head(MAX_ROWS).copy(), len(value) > MAX_ROWS
    if pd is not None and isinstance(value, pd.Series):
        return value.head(MAX_ROWS).to_frame(), len(value) > MAX_ROWS
    if _is_spark_frame(value):
        pdf = value.limit(MAX_ROWS + 1).toPandas()
        return pdf.head(MAX_ROWS), len(pdf) > MAX_ROWS
    if isinstance(value, list) and value and all(_row_like(r) for r in value):
        import pandas

        rows = [r.asDict() if hasattr(r, "asDict") else (r._asdict() if hasattr(r, "_asdict") else r)
                for r in value[:MAX_ROWS]]
        return pandas.DataFrame(rows), len(value) > MAX_ROWS
    return None, False


def _row_like(value: Any) -> bool:
    return isinstance(value, dict) or hasattr(value, "asDict") or hasattr(value, "_asdict")


def _is_spark_frame(value: Any) -> bool:
    if sys.modules.get("pyspark.sql") is None:
        return False
    from pyspark.sql import DataFrame
    return isinstance(value, DataFrame)


def _is_figure(value: Any) -> bool:
    module = type(value).__module__ or ""
    return module.startswith(("matplotlib.figure", "plotly.graph_objs"))


def _frame_text(frame: Any, truncated: bool) -> str:
    text = frame.to_string(max_rows=TEXT_ROWS, max_colwidth=80)
    if truncated:
        text += f"\n[Truncated: showing the first {MAX_ROWS} rows]"
    return text


@contextmanager
def frame_methods(display: Display) -> Iterator[Callable[[], None]]:
    """Add ``display()`` to pandas' DataFrame class and, once pyspark is imported, Spark's;
    yields a function that adds it to classes imported since (the runtime calls it before
    each cell and when the notebook's Spark session starts); removes them all on exit."""
    added: list[tuple[type, Any]] = []
    closed = False

    def method(self: Any) -> None:
        display.display(self)

    def ensure() -> None:
        if closed:
            return
        for owner in _frame_classes():
            if any(owner is o for o, _ in added):
                continue
            added.append((owner, owner.__dict__.get("display")))
            owner.display = method  # type: ignore[attr-defined]

    ensure()
    try:
        yield ensure
    finally:
        closed = True
        for owner, previous in reversed(added):
            if previous is None:
                try:
                    delattr(owner, "display")
                except AttributeError:
                    pass
            else:
                owner.display = previous  # type: ignore[attr-defined]


def _frame_classes() -> list[type]:
    import pandas as pd

    classes: list[type] = [pd.DataFrame]
    if sys.modules.get("pyspark.sql") is not None:
        from pyspark.sql import DataFrame
        classes.append(DataFrame)
        try:  # pyspark 4: the classic (non-Connect) DataFrame is a subclass
            from pyspark.sql.classic.dataframe import DataFrame as Classic
            classes.append(Classic)
        except ImportError:  # pragma: no cover - pyspark 3
            pass
    return classes
