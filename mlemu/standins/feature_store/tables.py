"""Feature tables: Unity Catalog tables of the workspace with a primary-key constraint
(``PRIMARY KEY(pk..., ts TIMESERIES)``), created, written (merge / overwrite), read and
dropped with the rules and messages of the real clients (``feature-store.md`` §2.1-2.2).

Every write is computed on a copy and swapped in under the workspace lock: a rejected
write changes nothing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import pandas as pd

from mlemu.server.core.errors import ApiError
from mlemu.standins.feature_store import dtypes, names
from mlemu.standins.feature_store.names import TableName

if TYPE_CHECKING:
    from mlemu.server.services.unity_catalog.state import Table, UnityCatalog

_logger = logging.getLogger("databricks.ml_features")

MERGE, OVERWRITE = "merge", "overwrite"
FE_MERGE_ONLY = ("Unsupported mode '{mode}'. 'merge' is the only supported mode. If you want to overwrite a "
                 "table, run SQL 'DELETE FROM <table name>;' to delete all rows, or drop and recreate the "
                 "table before calling this method.")
NOT_A_FEATURE_TABLE = ("Table can't be used as a feature table because it has no primary key constraint "
                       "defined.")


@dataclass
class FeatureTable:
    """What ``get_table`` returns (``ml_features/entities/feature_table.py``)."""

    name: str
    table_id: str
    description: str | None
    primary_keys: list[str]
    partition_columns: list[str]
    features: list[str]
    creation_timestamp: int
    timestamp_keys: list[str] = field(default_factory=list)
    online_stores: list[Any] = field(default_factory=list)
    notebook_producers: list[Any] = field(default_factory=list)
    job_producers: list[Any] = field(default_factory=list)
    table_data_sources: list[Any] = field(default_factory=list)
    path_data_sources: list[Any] = field(default_factory=list)
    custom_data_sources: list[Any] = field(default_factory=list)
    _tags: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._tags)

    @property
    def keys(self) -> list[str]:
        """Deprecated alias of :attr:`primary_keys`."""
        return self.primary_keys


@dataclass(frozen=True)
class Keys:
    """A feature table's keys as stored: primary keys without the timestamp key."""

    primary: list[str]
    timestamp: list[str]

    @property
    def all(self) -> list[str]:
        return self.primary + self.timestamp


def as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class FeatureTables:
    """Feature tables of one workspace, for one client (``fe=True``: FeatureEngineeringClient)."""

    def __init__(self, ws: Any, *, fe: bool) -> None:
        self.ws = ws
        self.fe = fe

    @property
    def uc(self) -> "UnityCatalog":
        return self.ws.unity_catalog

    # -- names -----------------------------------------------------------------------------
    def name(self, name: str) -> TableName:
        return names.resolve_for_fe(name) if self.fe else names.resolve(name)

    def _require_schema(self, full: TableName) -> None:
        """The Spark session's view: a missing catalog or database is a ``ValueError``."""
        if not full.is_uc and full.schema == names.CURRENT_SCHEMA:
            self.uc.ensure_schema(f"{full.catalog}.{full.schema}")  # always there on Databricks
        try:
            self.uc.get_catalog(full.catalog)
        except ApiError:
            raise ValueError(f"Catalog '{full.catalog}' does not exist in the metastore.") from None
        try:
            self.uc.require_schema(full.catalog, full.schema)
        except ApiError:
            raise ValueError(f"Database '{full.schema}' does not exist in catalog '{full.catalog}'.") from None

    def table(self, name: str) -> "Table":
        """The UC table of a feature table; ValueError if missing or without a PK constraint."""
        full = self.name(name)
        self._require_schema(full)
        if not self.uc.table_exists(str(full)):
            raise ValueError(f"Feature table '{full}' does not exist.")
        table = self.uc.get_table(str(full))
        if table.primary_key is None:
            raise ValueError(NOT_A_FEATURE_TABLE)
        return table

    # -- create ----------------------------------------------------------------------------
    def create(self, name: str, primary_keys: str | Sequence[str], df: pd.DataFrame | None, *,
               timestamp_keys: list[str], partition_columns: str | Sequence[str] | None = None,
               schema: pd.DataFrame | None = None, description: str | None = None,
               tags: dict[str, str] | None = None) -> FeatureTable:
        """``create_table``: validate, create empty with constraints, tag, overwrite with ``df``;
        on any failure nothing is left behind. An existing table is returned unchanged."""
        full = self.name(name)
        with self.ws.lock:
            self._require_schema(full)
            if self.uc.table_exists(str(full)):
                existing = self.uc.get_table(str(full))
                if existing.primary_key is None:
                    raise ValueError(f"Data table {full} already exists. Use a different name.")
                return self.get(name)
            keys = self._keys(as_list(primary_keys), timestamp_keys)
            partitions = as_list(partition_columns)
            template = self._template(df, schema)
            for column in keys.all + partitions:
                if column not in template.columns:
                    raise ValueError("The provided DataFrame or schema must contain all specified primary "
                                     f"keys. Schema {list(template.columns)} is missing column '{column}'")
            for column, t in dtypes.types_of(template).items():
                if t.simple not in dtypes.SUPPORTED:
                    raise ValueError(f"Unsupported data type for column '{column}': {dtypes.spark_class(t)}. "
                                     f"Supported types are {sorted(dtypes.SUPPORTED)}.")
            empty = template.iloc[0:0].copy()
            self.uc.put_table(str(full), empty, comment=description)
            try:
                self.uc.set_primary_key(str(full), keys.all, timeseries=keys.timestamp, not_null=full.is_uc)
                table = self.uc.get_table(str(full))
                table.partition_columns = partitions
                for k, v in (tags or {}).items():
                    self.uc.set_table_tag(str(full), k, v)
                if df is not None:
                    self.write(name, df, OVERWRITE, _internal=True)
            except BaseException:
                self.uc.delete_table(str(full))
                raise
            return self.get(name)

    def register(self, name: str, primary_keys: list[str], timestamp_keys: list[str],
                 description: str | None, tags: dict[str, str] | None) -> FeatureTable:
        """``register_table``: an existing table gets the key constraint; its rows must be
        unique (and, in UC, non-null) on the keys."""
        full = self.name(name)
        with self.ws.lock:
            self._require_schema(full)
            if not self.uc.table_exists(str(full)):
                raise ValueError(f"Table '{full}' does not exist.")
            table = self.uc.get_table(str(full))
            if table.primary_key is not None:
                raise ValueError(f"Feature table '{full}' already exists.")
            keys = self._keys(primary_keys, timestamp_keys)
            for column in keys.all:
                if column not in table.frame.columns:
                    raise ValueError("The provided DataFrame or schema must contain all specified primary keys. "
                                     f"Schema {list(table.frame.columns)} is missing column '{column}'")
            if table.frame.duplicated(subset=keys.all).any():
                raise ValueError(f"Non-unique rows detected in input dataframe for key combination {keys.all}.")
            if full.is_uc:
                for k in keys.all:
                    if table.frame[k].isna().any():
                        raise ValueError(f"[DELTA_NOT_NULL_CONSTRAINT_VIOLATED] NOT NULL constraint violated "
                                         f"for column: {k}.")
            self.uc.set_primary_key(str(full), keys.all, timeseries=keys.timestamp, not_null=full.is_uc)
            if description is not None:
                table.comment = description
            for k, v in (tags or {}).items():
                self.uc.set_table_tag(str(full), k, v)
            return self.get(name)

    def _keys(self, primary: list[str], timestamp: list[str]) -> Keys:
        for label, keys in (("primary_keys", primary), ("timestamp_keys", timestamp)):
            seen: set[str] = set()
            for k in keys:
                if k in seen:
                    raise ValueError(f"Found duplicated key '{k}' in {label}. {label} must be unique.")
                seen.add(k)
        if len(timestamp) > 1:
            raise ValueError("Setting multiple timeseries keys is not supported.")
        for ts in timestamp:
            if ts not in primary:
                if self.fe:
                    raise ValueError(f"Timeseries column '{ts}' is not in primary_keys. "
                                     "Timeseries columns must be primary keys.")
                _logger.warning(f"Timestamp key '{ts}' is not included in primary keys. Timestamp keys "
                                "are required to be part of primary keys; it is added to the primary key "
                                "constraint.")
        rest = [k for k in primary if k not in timestamp]
        if not rest:
            raise ValueError("Non-timestamp keys must be provided as primary keys: at least one primary "
                             "key that is not a timestamp key is required.")
        return Keys(rest, list(timestamp))

    @staticmethod
    def _template(df: pd.DataFrame | None, schema: pd.DataFrame | None) -> pd.DataFrame:
        if df is None and schema is None:
            raise ValueError("Either schema or df must be provided to create a feature table.")
        if df is not None and schema is not None and set(df.columns) != set(schema.columns):
            raise ValueError("The provided DataFrame and schema must have the same fields. "
                             f"DataFrame: {list(df.columns)}, schema: {list(schema.columns)}.")
        return schema if schema is not None else df  # type: ignore[return-value]

    # -- write -----------------------------------------------------------------------------
    def write(self, name: str, df: pd.DataFrame, mode: str = MERGE, *, _internal: bool = False) -> None:
        """``write_table``: validate everything, compute the new frame, swap it in."""
        if self.fe and not _internal and mode != MERGE:
            raise ValueError(FE_MERGE_ONLY.format(mode=mode))
        normalized = mode.strip().lower() if isinstance(mode, str) else mode
        if normalized not in (OVERWRITE, MERGE):
            raise ValueError(f"Unsupported mode '{mode}'. Use one of ['overwrite', 'merge'].")
        with self.ws.lock:
            table = self.table(name)
            keys = self.keys_of(table)
            current = table.frame
            self._check_write(table, keys, current, df)
            new = (_overwrite(current, df) if normalized == OVERWRITE else _merge(current, df, keys.all))
            self.uc.put_table(table.full_name, new, mode="overwrite")

    def _check_write(self, table: "Table", keys: Keys, current: pd.DataFrame, df: pd.DataFrame) -> None:
        lowered: dict[str, str] = {}
        for c in df.columns:
            if str(c).lower() in lowered:
                raise ValueError(f"The provided DataFrame has columns '{lowered[str(c).lower()]}' and '{c}' "
                                 "that differ only by case. Column names must be case-insensitive unique.")
            lowered[str(c).lower()] = str(c)
        table_lower = {str(c).lower(): str(c) for c in current.columns}
        for c in df.columns:
            match = table_lower.get(str(c).lower())
            if match is not None and match != c:
                raise ValueError(f"The provided DataFrame column '{c}' differs only by case from the feature "
                                 f"table column '{match}'. Column names are case-insensitive.")
        have, want = dtypes.types_of(df), dtypes.types_of(current)
        required = keys.all + list(table.partition_columns)
        bad = [k for k in required if k not in have or have[k].simple != want[k].simple]
        if bad:
            expected = ", ".join(f"'{k}' ({want[k].simple})" for k in required)
            got = ", ".join(f"'{k}' ({have[k].simple})" if k in have else f"'{k}' (missing)" for k in bad)
            raise ValueError("The provided DataFrame must contain all specified primary key columns and have "
                             f"the same type. Expected columns {expected}; got {got}.")
        if keys.timestamp:
            missing = [c for c in current.columns if c not in df.columns]
            if missing:
                raise ValueError("Feature table has a timestamp column. When calling write_table the provided "
                                 "DataFrame must contain all the feature columns. Could not find column(s) "
                                 f"{', '.join(repr(m) for m in missing)}.")
        for c, t in have.items():
            if c in want and not dtypes.can_write(t, want[c]) and not dtypes.all_null(df, c):
                raise ValueError(
                    "FeatureStoreClient uses Delta APIs. The schema of the new DataFrame is incompatible with "
                    f"existing Delta table. Saw AnalysisException: Failed to merge fields '{c}' and '{c}'. "
                    f"Failed to merge incompatible data types {dtypes.spark_class(want[c])} and "
                    f"{dtypes.spark_class(t)}")
            if c not in want and t.simple not in dtypes.SUPPORTED:
                raise ValueError(f"Unsupported data type for column '{c}': {dtypes.spark_class(t)}.")
        if len(df) and df.duplicated(subset=keys.all).any():
            raise ValueError(f"Non-unique rows detected in input dataframe for key combination {keys.all}.")
        for k in sorted(table.not_null, key=keys.all.index):
            if df[k].isna().any():
                raise ValueError(f"[DELTA_NOT_NULL_CONSTRAINT_VIOLATED] NOT NULL constraint violated for "
                                 f"column: {k}.")
        for ts in keys.timestamp:
            if ts not in table.not_null and df[ts].isna().any():
                _logger.warning("DataFrame has null values in timestamp key column.")

    # -- read / get / drop / tags ----------------------------------------------------------
    def read(self, name: str, as_of_delta_timestamp: Any = None) -> pd.DataFrame:
        with self.ws.lock:
            table = self.table(name)
            if as_of_delta_timestamp is None:
                return table.frame.copy(deep=True)
            when = pd.Timestamp(as_of_delta_timestamp)
            when = when.tz_localize("UTC") if when.tzinfo is None else when
            try:
                return self.uc.read_table_as_of(table.full_name, int(when.value // 1_000_000))
            except ApiError as e:
                raise ValueError(e.message) from None

    def get(self, name: str) -> FeatureTable:
        with self.ws.lock:
            table = self.table(name)
            keys = self.keys_of(table)
            return FeatureTable(
                name=table.full_name, table_id=table.id, description=table.comment,
                primary_keys=keys.all, partition_columns=list(table.partition_columns),
                features=[str(c) for c in table.frame.columns], creation_timestamp=table.audit.created_at,
                timestamp_keys=list(keys.timestamp), _tags=dict(table.tags))

    def drop(self, name: str) -> None:
        with self.ws.lock:
            self.uc.delete_table(self.table(name).full_name)

    def set_tag(self, name: str, key: str, value: str) -> None:
        with self.ws.lock:
            self.uc.set_table_tag(self.table(name).full_name, key, value)

    def delete_tag(self, name: str, key: str) -> None:
        with self.ws.lock:
            self.uc.unset_table_tag(self.table(name).full_name, key)

    @staticmethod
    def keys_of(table: "Table") -> Keys:
        pk = table.primary_key
        assert pk is not None
        ts = list(pk.timeseries_columns)
        return Keys([c for c in pk.child_columns if c not in ts], ts)


# -- the two write modes, on copies --------------------------------------------------------

def _with_columns(frame: pd.DataFrame, template: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``template``'s columns it lacks, all null (Delta ``mergeSchema``)."""
    out = frame.copy()
    for c in template.columns:
        if c not in out.columns:
            out[c] = _nulls(template[c], len(out), out.index)
    return out


def _nulls(like: pd.Series, n: int, index: pd.Index) -> pd.Series:
    """A column of ``n`` nulls keeping ``like``'s type where pandas can (nullable ints)."""
    dtype = like.dtype
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        dtype = {"b": "boolean"}.get(dtype.kind, f"Int{dtype.itemsize * 8}")
    return pd.Series(pd.array([None] * n, dtype=dtype), index=index)


def _cast_like(frame: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """Cast written columns to the table's column types (Delta writes cast safely)."""
    out = frame.copy()
    for c in out.columns:
        if c in table.columns and out[c].dtype != table[c].dtype:
            if out[c].isna().all():  # NullType merges into the table's type
                out[c] = _nulls(table[c], len(out), out.index)
                continue
            try:
                out[c] = out[c].astype(table[c].dtype)
            except (TypeError, ValueError):
                pass  # nulls in an int column: keep the frame's own (nullable) dtype
    return out


def _overwrite(current: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """All rows replaced; the schema is the union (old columns stay, full of nulls)."""
    rows = _cast_like(df.reset_index(drop=True), current)
    out = _with_columns(rows, current)
    return out[list(current.columns) + [c for c in rows.columns if c not in current.columns]]


def _merge(current: pd.DataFrame, df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Delta MERGE on ``keys``: matched rows take every column ``df`` has, other columns keep
    their value; unmatched rows are inserted with nulls in the columns ``df`` lacks."""
    columns = list(current.columns) + [c for c in df.columns if c not in current.columns]
    base = _with_columns(current.reset_index(drop=True), df)[columns]
    rows = _cast_like(df.reset_index(drop=True), base)
    if base.empty:
        return _with_columns(rows, base)[columns]
    base_keys = pd.MultiIndex.from_frame(base[keys])
    row_keys = pd.MultiIndex.from_frame(rows[keys])
    at = base_keys.get_indexer(row_keys)
    matched, fresh = at >= 0, at < 0
    updated = base.copy()
    if matched.any():
        for c in rows.columns:
            incoming = rows.loc[matched, c]
            column = updated[c]
            if incoming.isna().all():  # NullType: the column keeps its type, made nullable
                column = column.astype(_nulls(column, 0, pd.RangeIndex(0)).dtype)
                column.iloc[at[matched]] = None
            else:
                common = pd.concat([column.iloc[:0], incoming.iloc[:0]]).dtype  # pandas' own promotion
                column = column.astype(common)  # a copy: the table's frame is never written in place
                column.iloc[at[matched]] = incoming.astype(common).to_numpy()
            updated[c] = column
    inserted = _with_columns(rows.loc[fresh], base)[columns]
    out = pd.concat([updated, inserted], ignore_index=True) if fresh.any() else updated
    return _cast_like(out, base)
