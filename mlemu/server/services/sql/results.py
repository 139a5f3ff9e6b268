"""What a statement answers (:class:`QueryResult`) and the session it runs in (:class:`Context`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlemu.server.services.sql.types import SparkType

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

