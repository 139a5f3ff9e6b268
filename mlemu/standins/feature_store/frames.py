"""DataFrame in, same kind out: the clients work on pandas; a pyspark DataFrame (optional
extra) is converted on the way in and back on the way out."""
from __future__ import annotations

from typing import Any

import pandas as pd

UNSUPPORTED = "Unsupported DataFrame type {kind}: df must be a pandas or a PySpark DataFrame."


def to_pandas(df: Any) -> tuple[pd.DataFrame, Any]:
    """(pandas frame, spark session to convert back with, or None)."""
    if isinstance(df, pd.DataFrame):
        return df, None
    if type(df).__module__.startswith("pyspark.") and hasattr(df, "toPandas"):
        return df.toPandas(), df.sparkSession
    raise ValueError(UNSUPPORTED.format(kind=type(df).__name__))


def active_spark() -> Any:
    """The active SparkSession when pyspark is in use (a notebook's ``spark``), else None."""
    import sys

    if "pyspark.sql" not in sys.modules:
        return None
    return sys.modules["pyspark.sql"].SparkSession.getActiveSession()


def like_input(frame: pd.DataFrame, spark: Any) -> Any:
    """The result as the kind of frame the caller passed."""
    return frame if spark is None else spark.createDataFrame(frame)
