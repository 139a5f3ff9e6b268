"""Shared data of the feature store tests: the as-of join oracle's case
(``data/out_pit.txt`` is the real join engine's output on it)."""
from __future__ import annotations

import pandas as pd
import pytest

TABLE = "catalog.schema.customer_features"


def ts(text: str | None) -> pd.Timestamp:
    return pd.Timestamp(text) if text else pd.NaT


def oracle_features() -> pd.DataFrame:
    """c1 has a NULL total_spend at 01-10 (not skipped), c3 a NULL n_orders."""
    return pd.DataFrame({
        "customer_id": ["c1", "c1", "c2", "c3"],
        "feature_timestamp": [ts("2024-01-05"), ts("2024-01-10"), ts("2024-01-03"), ts("2024-01-01")],
        "total_spend": [50.0, None, 7.0, 1.0],
        "n_orders": [5.0, 9.0, 2.0, None],
    })


def oracle_labels() -> pd.DataFrame:
    """Row 7 has no event timestamp; row 8 repeats row 1; c9 is unknown."""
    return pd.DataFrame({
        "customer_id": ["c1", "c1", "c1", "c1", "c2", "c9", "c3", "c1", "c1"],
        "event_timestamp": [ts("2023-12-31"), ts("2024-01-05"), ts("2024-01-07"), ts("2024-01-11"),
                            ts("2024-01-20"), ts("2024-01-05"), ts("2024-01-02"), None, ts("2024-01-05")],
        "row_id": list(range(9)),
        "is_churned": [0, 1, 0, 1, 0, 1, 0, 1, 1],
    })


@pytest.fixture
def oracle_table(mlemu, make_feature_table):
    """The oracle's feature table in the emulated workspace."""
    return make_feature_table(TABLE, oracle_features(), primary_keys="customer_id",
                              timestamp_key="feature_timestamp")
