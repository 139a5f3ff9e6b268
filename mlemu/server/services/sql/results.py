"""What a statement answers (:class:`QueryResult`), the session it runs in (:class:`Context`)
and a statement planned to run outside the workspace lock (:class:`Prepared`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from mlemu.server.services.sql.types import SparkType

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "default"
STRING = SparkType("STRING", "STRING")
LONG = SparkType("LONG", "BIGINT")
BOOLEAN = SparkType("BOOLEAN", "BOOLEAN")


@dataclass
class Context:
    """The current catalog and schema of a session (``USE CATALOG`` / ``USE SCHEMA`` change them)."""

    catalog: str = DEFAULT_CATALOG
    schema: str = DEFAULT_SCHEMA


@dataclass
class QueryResult:
    """Columns (name, Spark type) and rows (tuples of Python values)."""

    columns: list[tuple[str, SparkType]] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)



#: The tables a statement reads, by the view name it uses: (frame, declared UC columns or None).
Snapshot = dict[str, tuple["pd.DataFrame", "list[Any] | None"]]


@dataclass
class Prepared:
    """A planned statement: either its answer already, or DuckDB SQL over a snapshot."""

    answer: QueryResult | None = None
    sql: str | None = None
    views: Snapshot = field(default_factory=dict)
    #: The rows are wanted as a DataFrame (writes) rather than tuples.
    as_frame: bool = False
    #: ``DESCRIBE <query>``: the answer is the query's columns, not its rows.
    describe: bool = False
    #: Under the lock: DuckDB's output -> the statement's answer (writes UC tables).
    finish: Callable[[Any], QueryResult] | None = None
