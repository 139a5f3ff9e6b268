"""The point-in-time join reproduces the real engine's output (``data/out_pit.txt``) exactly,
through ``FeatureEngineeringClient.create_training_set(...).load_df()``."""
from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from tests.standins.feature_store.conftest import TABLE, oracle_labels

ORACLE = Path(__file__).parent / "data" / "out_pit.txt"


def oracle_blocks() -> dict[str, str]:
    """Title -> the printed table, from the real engine's log."""
    blocks: dict[str, str] = {}
    title, lines = None, []
    for line in ORACLE.read_text().splitlines():
        if line.startswith("--- "):
            if title and lines:
                blocks[title] = "\n".join(lines)
            title, lines = line[4:].split(" columns=")[0], []
            if ":" in title:  # an error line, not a table
                title = None
        elif title and line and not line.startswith("[Stage"):
            lines.append(line)
        elif title and lines:
            blocks[title], title, lines = "\n".join(lines), None, []
    if title and lines:
        blocks[title] = "\n".join(lines)
    return blocks


CASES = {
    "asof default (native=False)": {},
    "asof default (native=True)": {"native": True},
    "lookback 4 days (native=False)": {"lookback_window": datetime.timedelta(days=4)},
    "lookback 4 days (native=True)": {"lookback_window": datetime.timedelta(days=4), "native": True},
    "lookback 0 (exact) (native=False)": {"lookback_window": datetime.timedelta(0)},
    "default_value orders=0 (native=False)": {"default_values": {"orders": 0}},
    "default_value orders=0 (native=True)": {"default_values": {"orders": 0}, "native": True},
}


def test_oracle_has_every_case():
    assert set(oracle_blocks()) == set(CASES)


@pytest.mark.parametrize("title", sorted(CASES))
def test_point_in_time_join_matches_the_real_engine(oracle_table, title):
    from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup

    options = dict(CASES[title])
    native = options.pop("native", False)
    fe = FeatureEngineeringClient()
    lookup = FeatureLookup(table_name=TABLE, lookup_key="customer_id", timestamp_lookup_key="event_timestamp",
                           feature_names=["total_spend", "n_orders"], rename_outputs={"n_orders": "orders"},
                           **options)
    ts = fe.create_training_set(df=oracle_labels(), feature_lookups=[lookup], label="is_churned",
                                exclude_columns=["customer_id"], use_spark_native_join=native)
    df = ts.load_df()
    assert list(df.columns) == ["event_timestamp", "row_id", "total_spend", "orders", "is_churned"]
    printed = df.sort_values("row_id").to_string(index=False)
    assert printed == oracle_blocks()[title]


def test_no_timestamp_lookup_key_on_a_time_series_table(oracle_table):
    from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup

    with pytest.raises(ValueError) as err:
        FeatureEngineeringClient().create_training_set(
            df=oracle_labels(), label="is_churned",
            feature_lookups=[FeatureLookup(table_name=TABLE, lookup_key="customer_id")])
    expected = ORACLE.read_text().split("--- no timestamp_lookup_key on TS table: ValueError: ")[1].splitlines()[0]
    assert str(err.value) == expected
