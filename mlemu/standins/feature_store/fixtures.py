"""One-line test helpers: seed a feature table without going through a client.

    make_feature_table(ws, "main.default.customer_features", df,
                       primary_keys="customer_id", timestamp_key="ts")
"""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from mlemu.standins.feature_store.tables import FeatureTable, FeatureTables, as_list


def make_feature_table(ws: Any, name: str, df: pd.DataFrame, *, primary_keys: str | Sequence[str],
                       timestamp_key: str | None = None, description: str | None = None,
                       tags: dict[str, str] | None = None) -> FeatureTable:
    """Create the schema if needed and a feature table holding ``df`` (the
    FeatureEngineeringClient's rules: keys unique and non-null)."""
    tables = FeatureTables(ws, fe=False)
    full = tables.name(name)
    ws.unity_catalog.ensure_schema(f"{full.catalog}.{full.schema}")
    keys = as_list(primary_keys) + ([timestamp_key] if timestamp_key and timestamp_key not in
                                     as_list(primary_keys) else [])
    return tables.create(name, keys, df, timestamp_keys=as_list(timestamp_key), description=description,
                         tags=tags)
