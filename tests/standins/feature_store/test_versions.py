"""The clean-room client follows the databricks-feature-engineering release a test asks for
(``@pytest.mark.mlemu(feature_engineering=...)``): what a runtime's release lacks is refused
as that release refuses it; the default is the newest."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

import mlemu
from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup
from mlemu.standins.feature_store import versions

TABLE = "main.default.customer_features"


@pytest.fixture
def table(mlemu, make_feature_table):
    make_feature_table(TABLE, pd.DataFrame({"customer_id": ["c1", "c2"], "spend": [1.0, 2.0]}),
                       primary_keys="customer_id")
    return pd.DataFrame({"customer_id": ["c1", "c3"], "label": [0, 1]})


@pytest.mark.mlemu(feature_engineering="0.10.2")  # 16.4 LTS ML
def test_default_values_need_0_12_1(table):
    with pytest.raises(TypeError, match=r"FeatureLookup\(\) got an unexpected keyword argument "
                                        r"'default_values' \(databricks-feature-engineering 0.10.2; "
                                        r"it was added in 0.12.1\)"):
        FeatureLookup(TABLE, "customer_id", default_values={"spend": 0.0})
    lookup = FeatureLookup(TABLE, "customer_id")  # the rest of the API is there
    ts = FeatureEngineeringClient().create_training_set(df=table, feature_lookups=[lookup], label="label")
    assert ts.load_df()["spend"].isna().tolist() == [False, True]


@pytest.mark.mlemu(feature_engineering="0.12.1")  # 17.3 LTS ML
def test_default_values_from_0_12_1(table):
    lookup = FeatureLookup(TABLE, "customer_id", default_values={"spend": 0.0})
    ts = FeatureEngineeringClient().create_training_set(df=table, feature_lookups=[lookup], label="label")
    assert ts.load_df()["spend"].tolist() == [1.0, 0.0]


@pytest.mark.mlemu(feature_engineering="0.2")  # 14.3 LTS ML
def test_native_join_and_feature_spec_are_later(table):
    fe = FeatureEngineeringClient()
    lookup = FeatureLookup(TABLE, "customer_id")
    with pytest.raises(TypeError, match="'use_spark_native_join'.*added in 0.6.0"):
        fe.create_training_set(df=table, feature_lookups=[lookup], label="label", use_spark_native_join=True)
    with pytest.raises(TypeError, match="'feature_spec'.*added in 0.7.0"):
        fe.create_training_set(df=table, feature_spec="main.default.spec", label="label")


@pytest.mark.mlemu(feature_engineering="0.6")  # 15.4 LTS ML
def test_spec_records_the_followed_release(table):
    fe = FeatureEngineeringClient()
    ts = fe.create_training_set(df=table, feature_lookups=[FeatureLookup(TABLE, "customer_id")],
                                label="label", use_spark_native_join=True)
    assert versions.current() == versions.parse("0.6")
    assert ts.feature_spec.client_version == "0.6"


def test_default_is_the_newest(table):
    assert str(versions.current()) == versions.NEWEST
    FeatureLookup(TABLE, "customer_id", default_values={"spend": 0.0})


def test_emulate_takes_the_option_and_refuses_a_bad_release():
    with mlemu.emulate(feature_engineering="0.6"):
        assert str(versions.current()) == "0.6"
    assert str(versions.current()) == versions.NEWEST
    with pytest.raises(ValueError, match="not a release number"):
        mlemu.emulate(feature_engineering="newest")
    with pytest.raises(ValueError, match="follows databricks-feature-engineering 0.1 to"):
        mlemu.emulate(feature_engineering="1.0")


def test_spec_file_names_the_release(table):
    spec = FeatureEngineeringClient().create_training_set(
        df=table, feature_lookups=[FeatureLookup(TABLE, "customer_id")], label="label").feature_spec
    assert yaml.safe_load(spec.to_yaml())["feature_store_client_version"] == versions.NEWEST
