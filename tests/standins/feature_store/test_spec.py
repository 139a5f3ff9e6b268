"""``feature_spec.yaml`` is written in the real client's layout (golden file
``data/feature_spec.yaml``, produced by the real client) and read back."""
from __future__ import annotations

from pathlib import Path

from mlemu.standins.feature_store.spec import FeatureColumn, FeatureSpec, InputTable, SourceColumn

GOLDEN = (Path(__file__).parent / "data" / "feature_spec.yaml").read_text()


def golden_spec() -> FeatureSpec:
    table = "catalog.schema.customer_features"
    return FeatureSpec(
        [SourceColumn("customer_id", "string", include=False), SourceColumn("event_timestamp", "timestamp"),
         FeatureColumn("total_spend", table, "total_spend", ["customer_id"], ["event_timestamp"], "double"),
         FeatureColumn("orders_30d", table, "n_orders", ["customer_id"], ["event_timestamp"], "bigint",
                       default_value="0")],
        {table: InputTable("a1b2c3", 2592000.0)}, "1234567890")


def test_spec_yaml_is_byte_identical_to_the_real_clients():
    assert golden_spec().to_yaml() == GOLDEN


def test_spec_yaml_round_trips():
    assert FeatureSpec.from_yaml(GOLDEN) == golden_spec()
