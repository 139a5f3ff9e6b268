"""Local Spark over the active workspace's Unity Catalog tables (opt-in: ``mlemu[spark]``).

Open-source Spark has no catalog that could serve mlemu's tables under three-part names
(a custom ``CatalogPlugin`` needs Java, Delta's catalog needs jars from Maven), so the bridge
works at the Python API, while :func:`bridge` is active:

* reads: ``spark.table("c.s.t")`` and ``spark.sql(...)``: every ``c.s.t`` (back-quoted or
  not) that names a UC table is replaced by a temporary view made from the table's current
  frame (``spark.createDataFrame``), re-made at each call so that it is never stale;
* Delta tables by path in the emulated DBFS or a volume: ``spark.read.format("delta").load(path)``
  (or ``load(path, format="delta")``) and ``delta.`path``` in ``spark.sql`` read the table's
  latest snapshot (:mod:`mlemu.standins.delta_files`);
* writes: ``df.write.saveAsTable("c.s.t")`` (modes ``errorifexists``/``error``, ``overwrite``,
  ``append``, ``ignore``) and ``df.writeTo("c.s.t")`` (``create``, ``replace``,
  ``createOrReplace``, ``append``, ``overwrite``) collect the DataFrame (``toPandas``) and
  write the UC table. Names with fewer parts go to Spark's own local catalog, unchanged.

Limits: SQL DDL/DML on UC names (``CREATE TABLE c.s.t AS``, ``INSERT INTO c.s.t``) is not
bridged (use the DataFrame writers); a table is copied into Spark at each read (fine for test
data, not for millions of rows); ``partitionBy``/``format``/``option`` are accepted and ignored.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from mlemu.server.core import extras
from mlemu.standins.feature_store import active as active_workspace

_NAME = r"(`[^`]+`|[A-Za-z_][\w-]*)"
LOOPBACK = ("127.0.0.1", "localhost")
THREE_PART = re.compile(rf"(?<![\w.`]){_NAME}\.{_NAME}\.{_NAME}(?![\w`]|\.\w)")


#: The sessions' warehouse directories, kept until exit.
_warehouses: list[tempfile.TemporaryDirectory] = []


def session(master: str = "local[2]", app_name: str = "mlemu") -> Any:
    """A local SparkSession whose Python workers run this interpreter (about 5-10 s to start)."""
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    extras.require("spark", "mlemu's local Spark (mlemu.spark.session)")
    from pyspark.sql import SparkSession

    from mlemu.server.transport import socket_guard

    # Removed at exit (Spark may write managed tables there until the session stops).
    warehouse = tempfile.TemporaryDirectory(prefix="mlemu-spark-warehouse-", ignore_cleanup_errors=True)
    socket_guard.enable(LOOPBACK)  # the JVM gateway, even inside a hermetic workspace
    try:
        spark = _build(SparkSession, master, app_name, warehouse.name)
    finally:
        socket_guard.disable(LOOPBACK)
    _warehouses.append(warehouse)
    return spark


#: The driver JVM's options: a test session runs small jobs and stops, so the client JIT alone
#: (C1) and the serial collector start it and finish its first jobs in about 60 % of the time
#: the defaults take (measured on 2 cores: JVM start plus a first query 25 s -> 15 s).
DRIVER_JAVA_OPTIONS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1"


def _build(SparkSession: Any, master: str, app_name: str, warehouse: str) -> Any:
    return (SparkSession.builder.master(master).appName(app_name)
            .config("spark.driver.extraJavaOptions", DRIVER_JAVA_OPTIONS)
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2").config("spark.default.parallelism", "2")
            .config("spark.driver.memory", "1g").config("spark.sql.session.timeZone", "UTC")
            .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.warehouse.dir", warehouse)
            .config("spark.sql.execution.arrow.pyspark.enabled", "false")
            .getOrCreate())


def _uc() -> Any:
    return active_workspace.workspace().unity_catalog


def _parts(name: str) -> list[str] | None:
    parts = [p.strip("`") for p in THREE_PART.fullmatch(name.strip()).groups()] \
        if THREE_PART.fullmatch(name.strip()) else None
    return parts


def _view_name(parts: list[str]) -> str:
    return "__uc__" + "__".join(re.sub(r"\W", "_", p.lower()) for p in parts)


def _to_spark(spark: Any, full_name: str) -> Any:
    """The table as a Spark DataFrame: with its UC schema when the table declares one (struct,
    array and map columns, e.g. monitor metric tables), else as Spark infers it from pandas with
    the table's narrow numeric types kept (an INT column stays IntegerType, as Spark on
    Databricks reads it: a feature lookup compares key types)."""
    from pyspark.sql.types import StructType

    table = _uc().get_table(full_name)
    frame = _uc().read_table(full_name)
    if frame.empty or table.declared_columns is not None or frame.isna().all().any():
        # (a column of nulls only: Spark cannot infer its type from pandas, the table knows it)
        schema = StructType.fromJson(_struct(full_name))
        integral = [f.dataType.typeName() in ("long", "integer", "short", "byte") for f in schema.fields]
        rows = [tuple(_integral(_plain(v)) if whole else _plain(v) for v, whole in zip(row, integral))
                for row in frame.itertuples(index=False, name=None)]
        return spark.createDataFrame(rows, schema)
    df = spark.createDataFrame(frame)
    narrow = {c.name: t for c in table.columns if (t := _narrow_type(c.type_json)) is not None}
    if narrow:  # pandas' inference widens int32/int16/float32 columns: give back the table's type
        df = df.select(*[df[n].cast(narrow[n]).alias(n) if n in narrow else df[n] for n in df.columns])
    return df


def _narrow_type(type_json: str | None) -> str | None:
    """The Spark type of a column whose UC type is narrower than pandas' inference gives."""
    import json

    if not type_json:
        return None
    kind = json.loads(type_json).get("type")
    return kind if kind in ("integer", "short", "byte", "float") else None


def _integral(value: Any) -> Any:
    """Integer columns that pandas stored as float (because of nulls) back to int."""
    return int(value) if isinstance(value, float) else value


def _plain(value: Any) -> Any:
    """A cell as Spark's converters take it (NaN/NaT -> None, pandas timestamps -> datetime)."""
    import pandas as pd

    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalars and arrays
        return _plain(value.tolist())
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def _struct(full_name: str) -> dict:
    import json
    return {"type": "struct", "fields": [json.loads(c.type_json) for c in _uc().get_table(full_name).columns]}


def _register(spark: Any, parts: list[str]) -> str | None:
    """The temp view standing for UC table ``parts``, or None when UC has no such table."""
    full_name = ".".join(parts)
    if not _uc().table_exists(full_name):
        return None
    view = _view_name(parts)
    _to_spark(spark, full_name).createOrReplaceTempView(view)
    return view


def _write(df: Any, name: str, mode: str) -> None:
    """Write ``df`` to UC table ``name`` with a Spark save mode."""
    from pyspark.errors import AnalysisException  # noqa: F401 (pyspark present: we were called from it)

    uc = _uc()
    mode = (mode or "errorifexists").lower().replace("_", "")
    exists = uc.table_exists(name)
    if exists and mode in ("error", "errorifexists", "default"):
        raise _analysis_error(f"[TABLE_OR_VIEW_ALREADY_EXISTS] Cannot create table or view `{name}` because "
                              "it already exists. SQLSTATE: 42P07")
    if exists and mode == "ignore":
        return
    frame = df.toPandas()
    if exists and mode == "append":
        import pandas as pd
        frame = pd.concat([uc.read_table(name), frame], ignore_index=True)
    uc.put_table(name, frame, mode="overwrite" if exists else "error")


def _analysis_error(message: str) -> Exception:
    from pyspark.errors import AnalysisException
    return AnalysisException(message=message)


class _UCWriterV2:
    """``df.writeTo("c.s.t")`` for a UC table (DataFrameWriterV2's terminal verbs)."""

    def __init__(self, df: Any, name: str) -> None:
        self._df, self._name = df, name

    def using(self, provider: str) -> "_UCWriterV2":
        return self

    def option(self, key: str, value: Any) -> "_UCWriterV2":
        return self

    def options(self, **options: Any) -> "_UCWriterV2":
        return self

    def tableProperty(self, prop: str, value: str) -> "_UCWriterV2":
        return self

    def partitionedBy(self, col: Any, *cols: Any) -> "_UCWriterV2":
        return self

    def clusterBy(self, col: Any, *cols: Any) -> "_UCWriterV2":
        return self

    def create(self) -> None:
        _write(self._df, self._name, "errorifexists")

    def createOrReplace(self) -> None:
        _write(self._df, self._name, "overwrite")

    def replace(self) -> None:
        if not _uc().table_exists(self._name):
            raise _analysis_error(f"[TABLE_OR_VIEW_NOT_FOUND] The table or view `{self._name}` cannot be found. "
                                  "SQLSTATE: 42P01")
        _write(self._df, self._name, "overwrite")

    def append(self) -> None:
        if not _uc().table_exists(self._name):
            raise _analysis_error(f"[TABLE_OR_VIEW_NOT_FOUND] The table or view `{self._name}` cannot be found. "
                                  "SQLSTATE: 42P01")
        _write(self._df, self._name, "append")

    def overwrite(self, condition: Any = None) -> None:
        _write(self._df, self._name, "overwrite")

    def overwritePartitions(self) -> None:
        _write(self._df, self._name, "overwrite")


def _read_delta(spark: Any, path: str) -> Any:
    """The Delta table stored at DBFS/volume ``path``, as a DataFrame (AnalysisException if none)."""
    from mlemu.standins import delta_files

    ws = active_workspace.workspace()
    try:
        with ws.lock:
            return delta_files.read(spark, ws.storage, path)
    except delta_files.DeltaPathError as e:
        raise _analysis_error(str(e)) from None


def _catalog_known(parts: list[str]) -> bool:
    uc = _uc()
    return any(c.name == parts[0].lower() for c in uc.list_catalogs())


@contextmanager
def bridge() -> Iterator[None]:
    """Patch the pyspark API so UC three-part names read and write the active workspace's
    tables (see the module docstring); restore it on exit."""
    from pyspark.sql import DataFrameReader, DataFrameWriter, SparkSession
    try:  # pyspark 4: the classic (non-Connect) DataFrame implements writeTo
        from pyspark.sql.classic.dataframe import DataFrame
    except ImportError:  # pragma: no cover - pyspark 3
        from pyspark.sql import DataFrame

    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, attr: str, make: Callable[[Any], Any]) -> None:
        original = owner.__dict__[attr]
        saved.append((owner, attr, original))
        setattr(owner, attr, make(original))

    def table(original: Any) -> Any:
        def wrapped(self: Any, tableName: str) -> Any:
            parts = _parts(tableName)
            if parts and _uc().table_exists(".".join(parts)):
                return _to_spark(self, ".".join(parts))
            if parts and _catalog_known(parts):
                raise _analysis_error(f"[TABLE_OR_VIEW_NOT_FOUND] The table or view `{'`.`'.join(parts)}` "
                                      "cannot be found. SQLSTATE: 42P01")
            return original(self, tableName)
        return wrapped

    def sql(original: Any) -> Any:
        def wrapped(self: Any, sqlQuery: str, *args: Any, **kwargs: Any) -> Any:
            from mlemu.standins.delta_files import DELTA_PATH_IN_SQL

            def swap(m: re.Match) -> str:
                parts = [g.strip("`") for g in m.groups()]
                view = _register(self, parts)
                return view if view else m.group(0)

            def delta_path(m: re.Match) -> str:
                view = "__delta__" + re.sub(r"\W", "_", m.group(1))
                _read_delta(self, m.group(1)).createOrReplaceTempView(view)
                return view
            return original(self, THREE_PART.sub(swap, DELTA_PATH_IN_SQL.sub(delta_path, sqlQuery)), *args, **kwargs)
        return wrapped

    def reader_format(original: Any) -> Any:
        def wrapped(self: Any, source: str) -> Any:
            self._mlemu_format = source
            return original(self, source)
        return wrapped

    def reader_load(original: Any) -> Any:
        def wrapped(self: Any, path: Any = None, format: Any = None, schema: Any = None, **options: Any) -> Any:
            fmt = format or getattr(self, "_mlemu_format", None)
            if isinstance(path, str) and str(fmt).lower() == "delta":
                return _read_delta(self._spark, path)
            return original(self, path, format, schema, **options)
        return wrapped

    def mode(original: Any) -> Any:
        def wrapped(self: Any, saveMode: Any) -> Any:
            self._mlemu_mode = saveMode
            return original(self, saveMode)
        return wrapped

    def save_as_table(original: Any) -> Any:
        def wrapped(self: Any, name: str, format: Any = None, mode: Any = None,
                    partitionBy: Any = None, **options: Any) -> None:
            parts = _parts(name)
            if parts and _catalog_known(parts):
                return _write(self._df, ".".join(parts), mode or getattr(self, "_mlemu_mode", None))
            return original(self, name, format, mode, partitionBy, **options)
        return wrapped

    def write_to(original: Any) -> Any:
        def wrapped(self: Any, table: str) -> Any:
            parts = _parts(table)
            if parts and _catalog_known(parts):
                return _UCWriterV2(self, ".".join(parts))
            return original(self, table)
        return wrapped

    global _bridges
    patch(SparkSession, "table", table)
    patch(SparkSession, "sql", sql)
    patch(DataFrameReader, "format", reader_format)
    patch(DataFrameReader, "load", reader_load)
    patch(DataFrameWriter, "mode", mode)
    patch(DataFrameWriter, "saveAsTable", save_as_table)
    patch(DataFrame, "writeTo", write_to)
    _bridges += 1
    try:
        yield
    finally:
        _bridges -= 1
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


_bridges = 0


def bridged() -> bool:
    """Whether a :func:`bridge` is active (the ``spark`` fixture's, or a notebook run's)."""
    return _bridges > 0


@contextmanager
def active(spark: Any) -> Iterator[Any]:
    """Make ``spark`` the active session (what ``SparkSession.getActiveSession()`` and the
    feature-store clients see) and let its loopback sockets (the JVM gateway, result
    streams) through hermetic mode; undo both on exit."""
    from pyspark.sql import SparkSession

    from mlemu.server.transport import socket_guard

    socket_guard.enable(LOOPBACK)
    getter = getattr(SparkSession, "_get_j_spark_session_class", None)  # pyspark >= 4.0
    # pyspark 3.5 (Runtime 14.3-16.4 LTS) reaches org.apache.spark.sql.SparkSession by its short name
    jvm_session = getter(spark._jvm) if getter is not None else spark._jvm.SparkSession
    try:
        SparkSession._activeSession = spark
        jvm_session.setActiveSession(spark._jsparkSession)
        yield spark
    finally:
        SparkSession._activeSession = None
        jvm_session.clearActiveSession()
        socket_guard.disable(LOOPBACK)
