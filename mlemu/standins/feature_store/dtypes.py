"""Spark types of pandas columns, as the real clients compare and record them.

One mapping (:func:`mlemu.server.services.unity_catalog.state.columns_of`) decides each column's
type; this module reads it as Spark names: the simple string (``bigint``, written into
``feature_spec.yaml``) and the ``DataType`` name (``LONG``, in join error messages).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlemu.server.services.unity_catalog.state import columns_of

if TYPE_CHECKING:
    import pandas as pd

#: Top-level types a feature table may hold (``data_type.py`` of the real clients).
SUPPORTED = frozenset({"int", "float", "boolean", "string", "double", "bigint", "timestamp",
                       "date", "smallint", "array", "map", "binary", "decimal", "struct"})
_INTEGERS = ("tinyint", "smallint", "int", "bigint")
_MLFLOW = {"string": "string", "bigint": "long", "int": "integer", "smallint": "integer",
           "tinyint": "integer", "double": "double", "float": "float", "boolean": "boolean",
           "timestamp": "datetime", "date": "datetime", "binary": "binary"}


@dataclass(frozen=True)
class SparkType:
    simple: str  # simpleString: bigint, int, double, string, timestamp
    json: str    # DataType.typeName: long, integer, double, string, timestamp

    @property
    def upper(self) -> str:
        """As the join errors print it: LONG, INTEGER, STRING."""
        return self.json.upper()

    @property
    def mlflow(self) -> str:
        """The mlflow signature type (``mlflow.types.DataType``) of this column."""
        return _MLFLOW.get(self.simple, "string")


def types_of(frame: "pd.DataFrame") -> dict[str, SparkType]:
    """Column name -> Spark type, in column order."""
    return {c.name: SparkType(c.type_text, json.loads(c.type_json)["type"]) for c in columns_of(frame)}


def all_null(frame: "pd.DataFrame", column: str) -> bool:
    """A column with no value at all (Spark would type it NullType, which merges into anything)."""
    return bool(frame[column].isna().all())


def can_write(src: SparkType, dst: SparkType) -> bool:
    """Delta's safe casts on write: same type, integer widening, float to double, integers to
    floating point."""
    if src.simple == dst.simple:
        return True
    if src.simple in _INTEGERS and dst.simple in _INTEGERS:
        return _INTEGERS.index(src.simple) <= _INTEGERS.index(dst.simple)
    if src.simple in _INTEGERS + ("float",) and dst.simple in ("float", "double"):
        return not (src.simple == "bigint" and dst.simple == "float")
    return False


def spark_class(t: SparkType) -> str:
    """``LongType``-style name, as Delta's schema errors print it."""
    names = {"bigint": "LongType", "int": "IntegerType", "smallint": "ShortType", "tinyint": "ByteType",
             "double": "DoubleType", "float": "FloatType", "boolean": "BooleanType",
             "string": "StringType", "timestamp": "TimestampType", "date": "DateType"}
    return names.get(t.simple, t.simple)


def mlflow_type(simple: str) -> str:
    """The mlflow signature type of a Spark simple type name."""
    return _MLFLOW.get(simple, "string")


_PANDAS = {"long": "int64", "integer": "int32", "short": "int16", "byte": "int8", "double": "float64",
           "float": "float32", "string": "object", "boolean": "bool", "timestamp": "datetime64[ns]",
           "date": "datetime64[ns]"}


def empty_frame(schema: "object") -> "pd.DataFrame":
    """A typed empty frame from a schema: a pandas frame (its dtypes), or a pyspark
    ``StructType`` (anything with ``fields`` of ``name`` / ``dataType.typeName()``)."""
    import pandas as pd

    if isinstance(schema, pd.DataFrame):
        return schema.iloc[0:0].copy()
    fields = getattr(schema, "fields", None)
    if fields is None:
        raise ValueError(f"Unsupported schema type {type(schema).__name__}: pass a pyspark StructType or a "
                         "pandas DataFrame whose dtypes give the schema.")
    return pd.DataFrame({f.name: pd.Series(dtype=_PANDAS.get(f.dataType.typeName(), "object"))
                         for f in fields})


_SQL = {"DOUBLE": "double", "FLOAT": "float", "BIGINT": "bigint", "LONG": "bigint", "INT": "int",
        "INTEGER": "int", "SMALLINT": "smallint", "SHORT": "smallint", "TINYINT": "tinyint", "BYTE": "tinyint",
        "STRING": "string", "BOOLEAN": "boolean", "TIMESTAMP": "timestamp", "DATE": "date", "BINARY": "binary"}
_SIMPLE_TO_PANDAS = {"double": "float64", "float": "float32", "bigint": "Int64", "int": "Int32",
                     "smallint": "Int16", "tinyint": "Int8", "boolean": "boolean", "string": "object",
                     "timestamp": "datetime64[ns]", "date": "datetime64[ns]"}


def from_sql(type_text: str) -> str:
    """A UC function's SQL return type (``DOUBLE``, ``BIGINT``) as a Spark simple type name."""
    return _SQL.get(type_text.strip().upper(), type_text.strip().lower())


def pandas_dtype(simple: str) -> str:
    """The pandas dtype holding values of a Spark simple type, nulls included."""
    return _SIMPLE_TO_PANDAS.get(simple, "object")
