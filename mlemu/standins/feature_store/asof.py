"""The joins of a training set: a LEFT equi-join for plain feature tables and the
point-in-time (as-of) join for time-series tables (``feature-store.md`` §2.4):

* the latest feature row at or before the event (inclusive), even if its values are null;
* with a lookback window, only rows at most that far back (inclusive); zero means an exact
  join on keys and timestamp;
* no match gives nulls; rows are never multiplied (feature keys are unique).

Rows whose event timestamp is null are the caller's business (the default engine drops
them). Everything is ``pandas.merge`` / ``pandas.merge_asof`` on temporary column names.
"""
from __future__ import annotations

import datetime

import numpy as np
import pandas as pd

_ROW, _TS = "__mlemu_row", "__mlemu_ts"


def _key(i: int) -> str:
    return f"__mlemu_k{i}"


def _feature(i: int) -> str:
    return f"__mlemu_f{i}"


def as_timestamps(values: pd.Series) -> pd.Series:
    """Timestamps (dates become midnight), naive UTC, nanoseconds: one comparable type."""
    out = pd.to_datetime(values)
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.astype("datetime64[ns]")


def lookup(left: pd.DataFrame, table: pd.DataFrame, *, primary_keys: list[str], lookup_keys: list[str],
           features: list[str], outputs: list[str], timestamp_key: str | None = None,
           timestamp_lookup_key: str | None = None,
           lookback: datetime.timedelta | None = None) -> pd.DataFrame:
    """The ``outputs`` columns for every row of ``left`` (same index), looked up in ``table``."""
    keys = [_key(i) for i in range(len(primary_keys))]
    right = pd.DataFrame({k: table[pk] for k, pk in zip(keys, primary_keys)})
    for i, f in enumerate(features):
        right[_feature(i)] = table[f].to_numpy() if len(table) else table[f]
    probe = pd.DataFrame({k: left[lk].to_numpy() for k, lk in zip(keys, lookup_keys)})
    probe[_ROW] = np.arange(len(left))
    for k in keys:
        if right[k].dtype != probe[k].dtype:
            try:
                right[k] = right[k].astype(probe[k].dtype)
            except (TypeError, ValueError):
                pass
    if timestamp_key is None:
        joined = probe.merge(right, on=keys, how="left", sort=False)
    else:
        assert timestamp_lookup_key is not None
        right[_TS] = as_timestamps(table[timestamp_key]).to_numpy()
        probe[_TS] = as_timestamps(left[timestamp_lookup_key]).to_numpy()
        right = right[right[_TS].notna()]
        probe = probe[probe[_TS].notna()]
        if lookback is not None and lookback == datetime.timedelta(0):
            joined = probe.merge(right, on=keys + [_TS], how="left", sort=False)
        else:
            joined = pd.merge_asof(probe.sort_values(_TS, kind="stable"), right.sort_values(_TS, kind="stable"),
                                   on=_TS, by=keys, direction="backward", allow_exact_matches=True,
                                   tolerance=pd.Timedelta(lookback) if lookback is not None else None)
    joined = joined.set_index(_ROW).reindex(np.arange(len(left)))
    out = pd.DataFrame({o: joined[_feature(i)].to_numpy() for i, o in enumerate(outputs)}, index=left.index)
    for i, (f, o) in enumerate(zip(features, outputs)):
        if len(out) and out[o].dtype != table[f].dtype and not out[o].isna().any():
            try:
                out[o] = out[o].astype(table[f].dtype)
            except (TypeError, ValueError):
                pass
    return out
