"""Training sets: the feature spec built from ``FeatureLookup``s with the checks and
messages of ``create_training_set`` (``feature-store.md`` §2.3, §2.5), and the augmentation
that joins features onto a DataFrame, shared with scoring (``scoring.py``).

The join runs eagerly at ``create_training_set`` on a snapshot of the feature tables (so
join and type errors surface there, as in the real client); ``load_df`` returns it.
"""
from __future__ import annotations

import datetime
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd

from mlemu.standins.feature_store import asof, dtypes, versions
from mlemu.standins.feature_store.lookups import FeatureFunction, FeatureLookup
from mlemu.standins.feature_store.spec import (FeatureColumn, FeatureSpec, FunctionColumn, InputTable, SourceColumn,
                                      decode_default, encode_default)
from mlemu.standins.feature_store.tables import FeatureTables, Keys, as_list

_logger = logging.getLogger("databricks.ml_features")

MAX_FEATURE_FUNCTIONS = 100


@dataclass(frozen=True)
class TableSnapshot:
    """A feature table's data and keys as read when the training set was created."""

    name: str
    table_id: str
    frame: pd.DataFrame
    keys: Keys
    partition_columns: list[str]


class TrainingSet:
    """What ``create_training_set`` returns; users never construct it."""

    def __init__(self, feature_spec: FeatureSpec, df: pd.DataFrame, labels: list[str], result: pd.DataFrame,
                 spark: Any = None) -> None:
        self._feature_spec = feature_spec
        self._df = df
        self._labels = labels
        self._result = result
        self._spark = spark
        self._label_data_types = {k: v.simple for k, v in dtypes.types_of(df[labels]).items()}

    @property
    def feature_spec(self) -> FeatureSpec:
        return self._feature_spec

    def get_output_columns(self) -> list[str]:
        return list(self._result.columns)

    def load_df(self) -> Any:
        """The training DataFrame: source columns, features, labels last (excluded dropped)."""
        from mlemu.standins.feature_store.frames import like_input
        return like_input(self._result.copy(deep=True), self._spark)


def snapshot(tables: FeatureTables, name: str) -> TableSnapshot:
    table = tables.table(name)
    return TableSnapshot(table.full_name, table.id, table.frame, tables.keys_of(table),
                         list(table.partition_columns))


def create(tables: FeatureTables, df: pd.DataFrame, feature_lookups: Sequence[Any], label: Any,
           exclude_columns: Sequence[str] | None, *, drop_null_timestamps: bool = True,
           spark: Any = None) -> TrainingSet:
    """Validate, build the spec, run the joins: every check happens before any result exists."""
    exclude = list(exclude_columns or [])
    columns = [str(c) for c in df.columns]
    dups = sorted(c for c, n in Counter(columns).items() if n > 1)
    if dups:
        raise ValueError(f"Found duplicate DataFrame column names {dups}.")
    labels = as_list(label)
    dup_labels = sorted(c for c, n in Counter(labels).items() if n > 1)
    if dup_labels:
        raise ValueError(f"Found duplicate label names {dup_labels}.")
    for lab in labels:
        if lab not in columns:
            raise ValueError(f"Label column '{lab}' was not found in DataFrame")
        if lab in exclude:
            raise ValueError(f"Label column '{lab}' cannot be excluded")
    given = list(feature_lookups or [])
    lookups = [f for f in given if isinstance(f, FeatureLookup)]
    udfs = [f for f in given if isinstance(f, FeatureFunction)]
    if len(udfs) > MAX_FEATURE_FUNCTIONS:
        raise ValueError(f"Only {MAX_FEATURE_FUNCTIONS} FeatureFunctions are supported per training set; "
                         f"got {len(udfs)}.")
    snapshots: dict[str, TableSnapshot] = {}
    for fl in given:
        if not isinstance(fl, (FeatureLookup, FeatureFunction)):
            raise ValueError(f"Unexpected feature lookup type {type(fl).__name__}: expected FeatureLookup "
                             "or FeatureFunction.")
        if isinstance(fl, FeatureFunction):
            continue
        full = str(tables.name(fl.table_name))
        if full not in snapshots:
            snapshots[full] = snapshot(tables, fl.table_name)
    features = _explode(tables, lookups, snapshots, columns, fe=tables.fe)
    functions = _on_demand(tables, udfs, columns + [f.name for f in features],
                           {f.name: f.topological_ordering for f in features})
    _check_outputs([f.name for f in features] + [f.name for f in functions], labels, columns)
    lookbacks = _lookbacks(tables, lookups)
    sources = [SourceColumn(c, t.simple) for c, t in dtypes.types_of(df).items() if c not in labels]
    key_columns = ({k for f in features for k in f.lookup_key + f.timestamp_lookup_key}
                   | {c for f in functions for c in f.input_bindings.values()})
    for s in sources:
        if s.name in exclude:
            s.include = False
    sources = [s for s in sources if s.include or s.name in key_columns]
    for f in features:
        if f.name in exclude:
            f.include = False
    features = [f for f in features if f.include or f.name in key_columns]
    for fn in functions:
        if fn.name in exclude:
            fn.include = False
    functions = [f for f in functions if f.include or f.name in key_columns]
    spec = FeatureSpec([*sources, *features, *functions],
                       {name: InputTable(snapshots[name].table_id, lookbacks.get(name)) for name in
                        dict.fromkeys(f.table_name for f in features)},
                       tables.ws.workspace_id, client_version=str(versions.current()))
    augmented = augment(df, spec, snapshots, drop_null_timestamps=drop_null_timestamps,
                        udfs=udf_callables(tables, spec))
    order = spec.model_inputs + labels
    return TrainingSet(spec, df, labels, augmented[order].reset_index(drop=True), spark)


def _explode(tables: FeatureTables, lookups: list[FeatureLookup], snapshots: dict[str, TableSnapshot],
             columns: list[str], *, fe: bool) -> list[FeatureColumn]:
    """One spec column per looked-up feature, with the column-info checks."""
    out: list[FeatureColumn] = []
    available = set(columns)
    for fl in lookups:
        snap = snapshots[str(tables.name(fl.table_name))]
        types = dtypes.types_of(snap.frame)
        if fl.feature_names is None:
            rest = [c for c in types if c not in snap.keys.all]
            names = [c for c in snap.partition_columns if c in rest] + sorted(c for c in rest
                                                                             if c not in snap.partition_columns)
        else:
            names = list(fl.feature_names)
        for name in names:
            if name not in types:
                raise ValueError(f"Unable to find feature '{name}' from feature table '{snap.name}' in "
                                 "Feature Catalog.")
        defaults = fl.default_values
        if defaults and not fe:
            _logger.warning("default_values in FeatureLookup are not supported by FeatureStoreClient and are "
                            "ignored. Use databricks.feature_engineering.FeatureEngineeringClient.")
            defaults = {}
        missing = [k for k in fl.lookup_keys + as_list(fl.timestamp_lookup_key) if k not in available]
        if missing:
            raise ValueError(f"Could not find lookup key columns {', '.join(repr(m) for m in missing)} "
                             "required by FeatureLookups.")
        _check_join(snap, fl, types)
        for name in names:
            output = fl.output_for(name)
            default = defaults.get(output)
            out.append(FeatureColumn(output, snap.name, name, fl.lookup_keys, as_list(fl.timestamp_lookup_key),
                                     types[name].simple, encode_default(default) if default is not None else None,
                                     topological_ordering=1))
        available.update(fl.output_for(n) for n in names)
    _order(out, set(columns))
    return out


def _on_demand(tables: FeatureTables, udfs: list[FeatureFunction], available: list[str],
               levels: dict[str, int]) -> list[FunctionColumn]:
    """One spec column per FeatureFunction: the UDF must exist and every parameter be bound
    to an available column."""
    out: list[FunctionColumn] = []
    for ff in udfs:
        function = _function(tables, ff.udf_name)
        params = [p for p, _ in function.params]
        unbound = [p for p in params if p not in ff.input_bindings]
        unknown = [p for p in ff.input_bindings if p not in params]
        if unbound or unknown:
            raise ValueError(f"FeatureFunction '{ff.udf_name}' input_bindings must bind exactly the function's "
                             f"parameters {params}; unbound: {unbound}, unknown: {unknown}.")
        missing = [c for c in ff.input_bindings.values() if c not in available]
        if missing:
            raise ValueError(f"Could not find input binding columns {', '.join(repr(m) for m in missing)} "
                             "required by FeatureFunctions.")
        level = 1 + max((levels.get(c, 0) for c in ff.input_bindings.values()), default=0)
        out.append(FunctionColumn(ff.output_name, ff.udf_name, {p: ff.input_bindings[p] for p in params},
                                  dtypes.from_sql(function.returns), topological_ordering=level))
    return out


def _function(tables: FeatureTables, name: str) -> Any:
    from mlemu.server.core.errors import ApiError
    try:
        return tables.uc.functions.get(name)
    except ApiError as e:
        raise ValueError(e.message) from None


def udf_callables(tables: FeatureTables, spec: FeatureSpec) -> dict[str, Any]:
    """The Python callables of the spec's UDFs, from the workspace's UC functions."""
    return {f.udf_name: _function(tables, f.udf_name).callable() for f in spec.functions}


def _check_outputs(outputs: list[str], labels: list[str], columns: list[str]) -> None:
    dups = sorted(o for o, n in Counter(outputs).items() if n > 1)
    if dups:
        raise ValueError(f"Found duplicate feature output names {dups}.")
    for lab in labels:
        if lab in outputs:
            raise ValueError(f"Feature cannot have same output name as label '{lab}'.")
    clash = [o for o in outputs if o in columns]
    if clash:
        raise ValueError("DataFrame contains column names that match feature output names specified in "
                         f"FeatureLookups: {', '.join(repr(c) for c in clash)}. Either remove these columns "
                         "from the DataFrame or FeatureLookups.")


def _check_join(snap: TableSnapshot, fl: FeatureLookup, types: dict[str, dtypes.SparkType]) -> None:
    ts_lookup = as_list(fl.timestamp_lookup_key)
    if len(fl.lookup_keys) != len(snap.keys.primary):
        raise ValueError(f"Unable to join feature table '{snap.name}' because number of primary keys "
                         f"({snap.keys.primary}) does not match number of lookup keys ({fl.lookup_keys}).")
    if len(ts_lookup) != len(snap.keys.timestamp):
        raise ValueError(f"Unable to join feature table '{snap.name}' because number of timestamp keys "
                         f"({snap.keys.timestamp}) does not match number of timestamp lookup keys ({ts_lookup}).")


def check_key_types(snap: TableSnapshot, feature: FeatureColumn, df: pd.DataFrame) -> None:
    """Lookup keys must have the primary keys' Spark types (int is not long)."""
    table_types = dtypes.types_of(snap.frame[snap.keys.primary])
    df_types = dtypes.types_of(df[[k for k in feature.lookup_key if k in df.columns]])
    for pk, lk in zip(snap.keys.primary, feature.lookup_key):
        if lk not in df_types:
            raise ValueError(f"Unable to join feature table '{snap.name}' because lookup key '{lk}' not found "
                             "in DataFrame.")
        if table_types[pk].json != df_types[lk].json:
            raise ValueError(f"Unable to join feature table '{snap.name}' because primary key '{pk}' has type "
                             f"'{table_types[pk].upper}' but corresponding lookup key '{lk}' has type "
                             f"'{df_types[lk].upper}' in DataFrame.")


def _order(features: list[FeatureColumn], sources: set[str]) -> None:
    """``topological_ordering``: 1 for lookups keyed by source columns, deeper for chains."""
    level = {s: 0 for s in sources}
    for f in features:
        f.topological_ordering = 1 + max((level.get(k, 0) for k in f.lookup_key + f.timestamp_lookup_key),
                                         default=0)
        level[f.name] = f.topological_ordering


def _lookbacks(tables: FeatureTables, lookups: list[FeatureLookup]) -> dict[str, float | None]:
    """One lookback window per feature table (seconds), or the real client's errors."""
    seen: dict[str, list[datetime.timedelta | None]] = {}
    for fl in lookups:
        seen.setdefault(str(tables.name(fl.table_name)), []).append(fl.lookback_window)
    out: dict[str, float | None] = {}
    for name, windows in seen.items():
        distinct = set(windows)
        if len(distinct) > 1 and None in distinct:
            raise ValueError("lookback_window values must be consistently defined per feature table: "
                             f"'{name}' has FeatureLookups with and without lookback_window.")
        if len(distinct) > 1:
            raise ValueError("Only one value for lookback_window can be defined per feature table: "
                             f"'{name}' has {sorted(w.total_seconds() for w in distinct if w is not None)} seconds.")
        window = windows[0]
        out[name] = window.total_seconds() if window is not None else None
    return out


def augment(df: pd.DataFrame, spec: FeatureSpec, snapshots: dict[str, TableSnapshot], *,
            drop_null_timestamps: bool = True, keep_present: bool = False,
            udfs: dict[str, Any] | None = None) -> pd.DataFrame:
    """``df`` with every feature of ``spec`` joined on; ``keep_present``: a feature whose output
    column ``df`` already has keeps the caller's values (scoring's override)."""
    result = df.reset_index(drop=True)  # a new frame: the caller's is never modified
    groups: dict[tuple[Any, ...], list[FeatureColumn]] = {}
    for f in sorted(spec.features, key=lambda f: f.topological_ordering):
        if keep_present and f.name in result.columns:
            continue
        key = (f.table_name, tuple(f.lookup_key), tuple(f.timestamp_lookup_key), f.topological_ordering)
        groups.setdefault(key, []).append(f)
    dropped = pd.Series(False, index=result.index)
    for (table_name, lookup_key, ts_lookup, _), feats in groups.items():
        snap = snapshots[table_name]
        check_key_types(snap, feats[0], result)
        lookback = spec.lookback(table_name)
        joined = asof.lookup(
            result, snap.frame, primary_keys=snap.keys.primary, lookup_keys=list(lookup_key),
            features=[f.feature_name for f in feats], outputs=[f.name for f in feats],
            timestamp_key=snap.keys.timestamp[0] if snap.keys.timestamp else None,
            timestamp_lookup_key=ts_lookup[0] if ts_lookup else None,
            lookback=datetime.timedelta(seconds=lookback) if lookback is not None else None)
        for column in joined.columns:
            result[column] = joined[column]
        if ts_lookup and drop_null_timestamps and lookback != 0:  # lookback 0 is a plain equi-join
            dropped |= result[ts_lookup[0]].isna()
    for fn in sorted(spec.functions, key=lambda f: f.topological_ordering):
        if keep_present and fn.name in result.columns:
            continue
        result[fn.name] = _call(udfs[fn.udf_name], result, fn)
    for f in spec.features:
        if f.default_value is not None and f.name in result.columns:
            value = decode_default(f.default_value, f.data_type)
            try:
                result[f.name] = result[f.name].fillna(value)
            except (TypeError, ValueError):
                pass  # as Spark's fillna: a default that does not fit the column is ignored
    return result[~dropped]


def _call(function: Any, frame: pd.DataFrame, column: FunctionColumn) -> pd.Series:
    """The UDF row by row, nulls passed as None (as Spark passes them to a Python UDF)."""
    args = [frame[c].astype(object).where(frame[c].notna(), None) for c in column.input_bindings.values()]
    values = [function(*row) for row in zip(*args)] if args else [function() for _ in range(len(frame))]
    return pd.Series(values, index=frame.index, dtype=dtypes.pandas_dtype(column.data_type))
