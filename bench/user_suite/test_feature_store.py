"""Feature store: feature tables, training sets with point-in-time lookups, batch scoring."""
import pandas as pd
import pytest
from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup

T = pd.Timestamp


@pytest.fixture
def features(mlemu, make_feature_table):
    df = pd.DataFrame({"customer_id": [1, 2, 3], "ts": [T("2024-01-01")] * 3,
                       "purchases": [3, 1, 7], "avg_value": [20.0, 90.0, 15.0]})
    make_feature_table("main.features.customers", df, primary_keys="customer_id", timestamp_key="ts")
    return "main.features.customers"


def _labels():
    return pd.DataFrame({"customer_id": [1, 2, 3], "event_ts": [T("2024-02-01")] * 3, "churned": [0, 1, 0]})


@pytest.mark.parametrize("names", [["purchases"], ["avg_value"], ["purchases", "avg_value"]])
def test_training_set_joins_features(features, names):
    fe = FeatureEngineeringClient()
    ts = fe.create_training_set(df=_labels(), label="churned", feature_lookups=[
        FeatureLookup(table_name=features, feature_names=names, lookup_key="customer_id",
                      timestamp_lookup_key="event_ts")])
    df = ts.load_df()
    assert set(names) <= set(df.columns) and len(df) == 3


def test_read_feature_table(features):
    assert len(FeatureEngineeringClient().read_table(name=features)) == 3


def test_write_table_merges(features):
    fe = FeatureEngineeringClient()
    fe.write_table(name=features, df=pd.DataFrame({"customer_id": [4], "ts": [T("2024-01-02")],
                                                   "purchases": [2], "avg_value": [10.0]}), mode="merge")
    assert len(fe.read_table(name=features)) == 4
