"""Spark SQL types of DuckDB result columns, and Spark's text form of result values.

Databricks reports result columns with Spark's type names (``LONG``, ``DOUBLE``, ``STRING``,
``ARRAY``...) and, in ``JSON_ARRAY`` results, every value as a string (complex values as JSON
text). DuckDB's own types are translated here, so ``SUM`` of integers (DuckDB's ``HUGEINT``)
is a ``LONG`` as in Spark.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SparkType:
    """One result column's type as the statement API reports it."""

    type_name: str          # ColumnInfoTypeName: LONG, DOUBLE, STRING, ARRAY...
    type_text: str          # SQL text: BIGINT, DOUBLE, ARRAY<STRING>...
    precision: int | None = None
    scale: int | None = None


_SCALARS: dict[str, tuple[str, str]] = {
    "boolean": ("BOOLEAN", "BOOLEAN"), "tinyint": ("BYTE", "TINYINT"), "smallint": ("SHORT", "SMALLINT"),
    "integer": ("INT", "INT"), "bigint": ("LONG", "BIGINT"), "hugeint": ("LONG", "BIGINT"),
    "utinyint": ("SHORT", "SMALLINT"), "usmallint": ("INT", "INT"), "uinteger": ("LONG", "BIGINT"),
    "ubigint": ("LONG", "BIGINT"), "uhugeint": ("LONG", "BIGINT"),
    "float": ("FLOAT", "FLOAT"), "double": ("DOUBLE", "DOUBLE"),
    "varchar": ("STRING", "STRING"), "uuid": ("STRING", "STRING"), "json": ("STRING", "STRING"),
    "blob": ("BINARY", "BINARY"), "date": ("DATE", "DATE"),
    "timestamp": ("TIMESTAMP", "TIMESTAMP"), "timestamp with time zone": ("TIMESTAMP", "TIMESTAMP"),
    "timestamp_s": ("TIMESTAMP", "TIMESTAMP"), "timestamp_ms": ("TIMESTAMP", "TIMESTAMP"),
    "timestamp_ns": ("TIMESTAMP", "TIMESTAMP"), "time": ("STRING", "STRING"),
    "interval": ("INTERVAL", "INTERVAL"), "null": ("NULL", "VOID"), '"null"': ("NULL", "VOID"),
}


def spark_type(duck: Any) -> SparkType:
    """The Spark type of a DuckDB ``DuckDBPyType`` (from a cursor's ``description``)."""
    kind = str(getattr(duck, "id", duck)).lower()
    if kind == "decimal":
        children = dict(duck.children)
        p, s = int(children["precision"]), int(children["scale"])
        return SparkType("DECIMAL", f"DECIMAL({p},{s})", p, s)
    if kind in ("list", "array"):
        inner = spark_type(duck.children[0][1])
        return SparkType("ARRAY", f"ARRAY<{inner.type_text}>")
    if kind == "struct":  # Spark's DataType.sql: STRUCT<name: TYPE, ...>, MAP<K, V>
        fields = ", ".join(f"{_quote_if_needed(name)}: {spark_type(t).type_text}" for name, t in duck.children)
        return SparkType("STRUCT", f"STRUCT<{fields}>")
    if kind == "map":
        children = dict(duck.children)
        return SparkType("MAP", f"MAP<{spark_type(children['key']).type_text}, "
                                f"{spark_type(children['value']).type_text}>")
    name, text = _SCALARS.get(kind, ("STRING", "STRING"))
    return SparkType(name, text)


def _quote_if_needed(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else "`" + name.replace("`", "``") + "`"


# -- values ------------------------------------------------------------------------------

def java_double(x: float) -> str:
    """``Double.toString``: plain between 1e-3 and 1e7, else ``1.5E10`` (Spark's cast to string)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(x)
        return text if ("." in text or "e" in text) else text + ".0"
    sign, digits, exponent = decimal.Decimal(repr(x)).as_tuple()
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    power = exponent + len(digits) - 1
    head, tail = mantissa[0], mantissa[1:] or "0"
    return f"{'-' if sign else ''}{head}.{tail}E{power}"


def timestamp_text(value: dt.datetime) -> str:
    """A TIMESTAMP as the JSON_ARRAY format writes it (UTC, ISO 8601, milliseconds)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _json_ready(value: Any) -> Any:
    """A nested value with Spark's JSON forms for its leaves (``to_json`` of a column)."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return java_double(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return timestamp_text(value)
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value) if not isinstance(value, dt.date) else value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def value_text(value: Any) -> str | None:
    """One result value as a JSON_ARRAY cell: a string, or None for SQL NULL."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, str):
        return value
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return timestamp_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_json_ready(value), separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return str(value)
