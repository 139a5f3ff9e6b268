"""One monitor refresh as a computation: the monitored frame (and an optional baseline frame)
in, the rows of ``<table>_profile_metrics`` and ``<table>_drift_metrics`` out.

Rows are grouped by granularity, time window (one window at refresh time for snapshot
profiles), model id (inference logs), and slice: the whole table (``slice_key`` NULL) and
each value of each slicing expression (:mod:`.slicing`, never ``eval``: a boolean expression
slices ``true``/``false``, any other its 100 most frequent values). Each group has one row per column and one
``column_name = ':table'`` row (with model-quality metrics for inference logs). Drift rows
compare a window with the window just before it (``CONSECUTIVE``) and with the baseline
table (``BASELINE``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

import numpy as np

from mlemu.server.core.errors import ApiError
from mlemu.server.services.monitors import slicing, stats, windows

if TYPE_CHECKING:
    import pandas as pd

TABLE = ":table"
MAX_SLICE_VALUES = 100


@dataclass(frozen=True)
class Spec:
    """What a monitor measures (field names as in the ``quality_monitors`` API)."""

    kind: str                               # inference_log | time_series | snapshot
    timestamp_col: str | None = None
    granularities: tuple[str, ...] = ()
    model_id_col: str | None = None
    prediction_col: str | None = None
    label_col: str | None = None
    problem_type: str | None = None         # PROBLEM_TYPE_CLASSIFICATION | PROBLEM_TYPE_REGRESSION
    slicing_exprs: tuple[str, ...] = ()


@dataclass
class Result:
    profile: list[dict[str, Any]] = field(default_factory=list)
    drift: list[dict[str, Any]] = field(default_factory=list)


COMMON = [("window", "struct<start:timestamp,end:timestamp>")]
PROFILE_TAIL = [
    ("slice_key", "string"), ("slice_value", "string"), ("column_name", "string"), ("data_type", "string"),
    ("count", "bigint"), ("num_nulls", "bigint"), ("avg", "double"), ("min", "double"), ("max", "double"),
    ("stddev", "double"), ("median", "double"), ("quantiles", "array<double>"), ("num_zeros", "bigint"),
    ("num_nan", "bigint"), ("distinct_count", "bigint"),
    ("frequent_items", "array<struct<item:string,count:bigint>>"),
    ("min_length", "double"), ("max_length", "double"), ("avg_length", "double"),
    ("non_null_columns", "array<string>"), ("percent_null", "double"), ("percent_zeros", "double"),
    ("percent_nan", "double"), ("percent_distinct", "double"),
]
_SUMMARY = "struct<one_vs_all:map<string,double>,macro:double,weighted:double>"
CLASSIFICATION = [
    ("accuracy_score", "double"), ("precision", _SUMMARY), ("recall", _SUMMARY), ("f1_score", _SUMMARY),
    ("confusion_matrix", "array<struct<prediction:string,label:string,count:bigint>>"),
]
REGRESSION = [
    ("mean_squared_error", "double"), ("root_mean_squared_error", "double"), ("mean_average_error", "double"),
    ("mean_absolute_percentage_error", "double"), ("r2_score", "double"),
]
_TEST = "struct<statistic:double,pvalue:double>"
DRIFT_TAIL = [
    ("slice_key", "string"), ("slice_value", "string"), ("column_name", "string"), ("data_type", "string"),
    ("count_delta", "double"), ("avg_delta", "double"), ("percent_null_delta", "double"),
    ("percent_zeros_delta", "double"), ("percent_distinct_delta", "double"),
    ("non_null_columns_delta", "struct<added:int,missing:int>"),
    ("chi_squared_test", _TEST), ("ks_test", _TEST), ("tv_distance", "double"), ("l_infinity_distance", "double"),
    ("js_distance", "double"), ("wasserstein_distance", "double"), ("population_stability_index", "double"),
]


def profile_schema(spec: Spec, model_type: str = "string") -> list[tuple[str, str]]:
    head = [*COMMON, ("log_type", "string"), ("logging_table_commit_version", "int"),
            ("monitor_version", "bigint"), ("granularity", "string")]
    if spec.kind == "inference_log":
        head.append((spec.model_id_col, model_type))
    tail = list(PROFILE_TAIL)
    if spec.kind == "inference_log":
        tail += CLASSIFICATION if spec.problem_type == "PROBLEM_TYPE_CLASSIFICATION" else REGRESSION
    return head + tail


def drift_schema(spec: Spec, model_type: str = "string") -> list[tuple[str, str]]:
    head = [*COMMON, ("window_cmp", "struct<start:timestamp,end:timestamp>"), ("drift_type", "string"),
            ("granularity", "string"), ("monitor_version", "bigint")]
    if spec.kind == "inference_log":
        head.append((spec.model_id_col, model_type))
    return head + DRIFT_TAIL


# -- columns -------------------------------------------------------------------------------

@dataclass
class _Columns:
    """The monitored columns, converted once: numeric ones as float arrays (NaN = null),
    categorical ones factorized (codes, labels, string lengths)."""

    numeric: dict[str, np.ndarray]
    categorical: dict[str, tuple[np.ndarray, list[str], np.ndarray | None]]
    other: list[str]
    types: dict[str, str]
    labels: dict[str, np.ndarray] = field(default_factory=dict)  # prediction/label columns as text

    @classmethod
    def of(cls, frame: "pd.DataFrame", types: dict[str, str], skip: set[str]) -> "_Columns":
        import pandas as pd
        from pandas.api import types as pt

        numeric, categorical, other = {}, {}, []
        for name in frame.columns:
            if name in skip:
                continue
            col = frame[name]
            if pt.is_bool_dtype(col.dtype):
                categorical[name] = _factorize(col, strings=False)
            elif pt.is_numeric_dtype(col.dtype):
                numeric[name] = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            elif pt.is_datetime64_any_dtype(col.dtype) or _is_complex(col):
                other.append(name)
            else:
                categorical[name] = _factorize(col, strings=True)
        return cls(numeric, categorical, other, types)

    def names(self) -> list[str]:
        return [n for n in self.types if n in self.numeric or n in self.categorical or n in self.other]


def _is_complex(col: "pd.Series") -> bool:
    """MAP / ARRAY / STRUCT values (judged on the first non-null values)."""
    return col.dtype == object and any(isinstance(v, (dict, list, tuple)) for v in col.dropna().head(20))


def _factorize(col: "pd.Series", strings: bool) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    import pandas as pd

    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    labels = [_text(v) for v in uniques]
    lengths = None
    if strings and all(isinstance(v, str) for v in uniques):
        lengths = col.str.len().to_numpy(dtype="float64", na_value=np.nan)
    return np.asarray(codes, dtype=np.int64), labels, lengths


def _column_profile(cols: _Columns, name: str, idx: np.ndarray, frame_rows: int) -> dict[str, Any]:
    rows = len(idx)
    if name in cols.numeric:
        return stats.numeric_profile(cols.numeric[name][idx], rows)
    if name in cols.categorical:
        codes, labels, lengths = cols.categorical[name]
        return stats.categorical_profile(codes[idx], labels, lengths[idx] if lengths is not None else None, rows)
    return {"count": rows}


# -- grouping ------------------------------------------------------------------------------

def _slices(frame: "pd.DataFrame", exprs: tuple[str, ...],
            now_ms: int = 0) -> Iterator[tuple[str | None, str | None, np.ndarray]]:
    """(slice_key, slice_value, row mask) for the whole table and each slice."""
    yield None, None, np.ones(len(frame), dtype=bool)
    for expr in exprs:
        if expr in frame.columns:
            col = frame[expr]
            top = col.dropna().value_counts().head(MAX_SLICE_VALUES)
            for value in sorted(top.index, key=str):
                yield expr, _text(value), (col == value).to_numpy()
        else:
            try:
                values = slicing.evaluate(frame, expr, now_ms=now_ms)
            except ApiError as exc:  # refused at create/update already; a restored monitor may still hold one
                raise ValueError(exc.message) from None
            except ValueError as exc:
                raise ValueError(f"Slicing expression '{expr}' could not be evaluated: {exc}") from None
            if slicing.is_boolean(values):
                flags = values.astype("boolean")
                for value in (True, False):  # a NULL row is in neither slice
                    yield expr, _text(value), (flags == value).fillna(False).to_numpy(dtype=bool)
            else:
                top = values.dropna().value_counts().head(MAX_SLICE_VALUES)
                for value in sorted(top.index, key=str):
                    yield expr, _text(value), (values == value).fillna(False).to_numpy(dtype=bool)


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, (bool, np.bool_)) else str(value)


def _model_groups(frame: "pd.DataFrame", spec: Spec) -> list[tuple[Any, np.ndarray]]:
    if spec.kind != "inference_log" or spec.model_id_col not in frame.columns:
        return [(None, np.ones(len(frame), dtype=bool))]
    col = frame[spec.model_id_col]
    return [(m, (col == m).to_numpy()) for m in sorted(col.dropna().unique(), key=str)]


def _pyvalue(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


# -- the refresh ---------------------------------------------------------------------------

def refresh(frame: "pd.DataFrame", types: dict[str, str], spec: Spec, *, baseline: "pd.DataFrame | None",
            monitor_version: int, commit_version: int, now: "pd.Timestamp") -> Result:
    """Profile and drift rows of ``frame`` (``types``: column name -> SQL type text)."""
    import pandas as pd

    frame = frame.reset_index(drop=True)
    skip = {c for c in (spec.timestamp_col, spec.model_id_col) if c}
    cols = _Columns.of(frame, types, skip)
    base_cols = _Columns.of(baseline.reset_index(drop=True), types, skip) if baseline is not None else None
    result = Result()
    cache: dict = {}
    grans: list[str | None] = list(spec.granularities) if spec.kind != "snapshot" else [None]
    ts = windows.timestamps(frame[spec.timestamp_col]) if spec.kind != "snapshot" else None
    models = _model_groups(frame, spec)
    base_models = dict(_model_groups(baseline, spec)) if baseline is not None else {}
    now_ms = int(now.value // 1_000_000)
    slices = list(_slices(frame, spec.slicing_exprs, now_ms))
    base_slices = ({(k, v): m for k, v, m in _slices(baseline, spec.slicing_exprs, now_ms)}
                   if baseline is not None else {})

    for gran in grans:
        if gran is None:
            starts = pd.Series([now] * len(frame))
        else:
            starts = windows.starts(ts, gran)
        start_values = starts.to_numpy()
        for model, model_mask in models:
            for skey, sval, slice_mask in slices:
                mask = model_mask & slice_mask
                base_idx = None
                if baseline is not None:
                    bmask = base_slices.get((skey, sval))
                    if bmask is not None:
                        bm = base_models.get(model) if model is not None and spec.model_id_col in baseline.columns \
                            else np.ones(len(baseline), dtype=bool)
                        base_idx = np.flatnonzero(bmask & bm) if bm is not None else None
                key = {"granularity": gran, "slice_key": skey, "slice_value": sval}
                if spec.kind == "inference_log":
                    key[spec.model_id_col] = _pyvalue(model)
                base_stats = None
                if base_idx is not None:
                    base_stats = _group_rows(result, baseline, base_cols, spec, base_idx, None, key,
                                             "BASELINE", monitor_version, commit_version)
                previous: tuple[Any, np.ndarray, dict] | None = None
                sel = np.flatnonzero(mask)
                if not len(sel):
                    continue
                for start in np.unique(start_values[sel]):
                    idx = sel[start_values[sel] == start]
                    w_start = pd.Timestamp(start)
                    w_end = w_start if gran is None else windows.end_of(w_start, gran)
                    window = {"start": w_start, "end": w_end}
                    cur = _group_rows(result, frame, cols, spec, idx, window, key, "INPUT",
                                      monitor_version, commit_version)
                    if previous is not None and previous[0]["end"] == w_start:
                        _drift_rows(result, cols, cols, idx, previous[1], cur, previous[2], window,
                                    previous[0], "CONSECUTIVE", key, monitor_version, cache)
                    if base_stats is not None:
                        _drift_rows(result, cols, base_cols, idx, base_idx, cur, base_stats, window,
                                    None, "BASELINE", key, monitor_version, cache)
                    previous = (window, idx, cur)
    return result


def _group_rows(result: Result, frame: "pd.DataFrame", cols: _Columns, spec: Spec, idx: np.ndarray,
                window: dict | None, key: dict, log_type: str, monitor_version: int,
                commit_version: int) -> dict[str, dict[str, Any]]:
    """Append one group's profile rows; return its statistics by column name."""
    head = {"window": window, "log_type": log_type, "logging_table_commit_version": commit_version,
            "monitor_version": monitor_version, **key}
    out: dict[str, dict[str, Any]] = {}
    non_null = []
    for name in cols.names():
        s = _column_profile(cols, name, idx, len(frame))
        out[name] = s
        if s.get("num_nulls", 0) < len(idx) or name in cols.other:
            non_null.append(name)
        result.profile.append({**head, "column_name": name, "data_type": cols.types.get(name), **s})
    table = {"count": len(idx), "non_null_columns": non_null}
    if spec.kind == "inference_log" and spec.prediction_col and spec.label_col \
            and spec.label_col in frame.columns and spec.prediction_col in frame.columns:
        if spec.problem_type == "PROBLEM_TYPE_CLASSIFICATION":
            pred, label = _as_text(cols, frame, spec.prediction_col), _as_text(cols, frame, spec.label_col)
            table.update(stats.classification_quality(pred[idx], label[idx]))
        else:
            pred = frame[spec.prediction_col].to_numpy(dtype="float64", na_value=np.nan)
            label = frame[spec.label_col].to_numpy(dtype="float64", na_value=np.nan)
            table.update(stats.regression_quality(pred[idx], label[idx]))
    out[TABLE] = table
    result.profile.append({**head, "column_name": TABLE, "data_type": None, **table})
    return out


def _as_text(cols: _Columns, frame: "pd.DataFrame", name: str) -> np.ndarray:
    """A column as class labels (strings; "" for null), converted once per refresh."""
    memo = cols.labels
    if name not in memo:
        codes, labels, _ = _factorize(frame[name], strings=False)
        memo[name] = np.where(codes >= 0, np.asarray(labels + [""], dtype=object)[codes], "")
    return memo[name]


def _delta(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else float(a) - float(b)


def _sorted(cache: dict, cols: _Columns, name: str, idx: np.ndarray) -> np.ndarray:
    """A group's non-null values of a numeric column, sorted once per refresh."""
    key = (id(cols), name, id(idx))
    if key not in cache:
        x = cols.numeric[name][idx]
        cache[key] = (idx, np.sort(x[~np.isnan(x)]))  # idx kept alive so its id stays unique
    return cache[key][1]


def _drift_rows(result: Result, cols: _Columns, cmp_cols: _Columns, idx: np.ndarray, cmp_idx: np.ndarray,
                cur: dict, cmp: dict, window: dict, window_cmp: dict | None, drift_type: str, key: dict,
                monitor_version: int, cache: dict) -> None:
    head = {"window": window, "window_cmp": window_cmp, "drift_type": drift_type,
            "monitor_version": monitor_version, **key}
    for name in cols.names():
        a, b = cur[name], cmp.get(name)
        if b is None:
            continue
        row: dict[str, Any] = {"column_name": name, "data_type": cols.types.get(name),
                               "count_delta": _delta(a.get("count"), b.get("count")),
                               "avg_delta": _delta(a.get("avg"), b.get("avg")),
                               "percent_null_delta": _delta(a.get("percent_null"), b.get("percent_null")),
                               "percent_zeros_delta": _delta(a.get("percent_zeros"), b.get("percent_zeros")),
                               "percent_distinct_delta": _delta(a.get("percent_distinct"), b.get("percent_distinct"))}
        if name in cols.numeric and name in cmp_cols.numeric:
            row.update(stats.numeric_drift(_sorted(cache, cols, name, idx), _sorted(cache, cmp_cols, name, cmp_idx)))
        elif name in cols.categorical and name in cmp_cols.categorical:
            (codes, labels, _), (cmp_codes, cmp_labels, _) = cols.categorical[name], cmp_cols.categorical[name]
            row.update(stats.categorical_drift(stats.frequencies(codes[idx], labels),
                                               stats.frequencies(cmp_codes[cmp_idx], cmp_labels)))
        result.drift.append({**head, **row})
    a, b = set(cur[TABLE]["non_null_columns"]), set(cmp[TABLE]["non_null_columns"])
    result.drift.append({**head, "column_name": TABLE, "data_type": None,
                         "count_delta": _delta(cur[TABLE]["count"], cmp[TABLE]["count"]),
                         "non_null_columns_delta": {"added": len(a - b), "missing": len(b - a)}})
