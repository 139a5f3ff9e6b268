"""``create_training_set``: column order, labels, ``exclude_columns``, ``feature_names=None``,
every validation error (``feature-store.md`` §2.3), and the differences between the clients."""
from __future__ import annotations

import datetime
import logging

import pandas as pd
import pytest

from tests.standins.feature_store.conftest import TABLE, oracle_labels

PRODUCTS = "catalog.schema.products"


@pytest.fixture
def tables(oracle_table, make_feature_table):
    make_feature_table(PRODUCTS, pd.DataFrame({"product_id": [1, 2], "price": [9.5, 20.0],
                                               "category": ["a", "b"], "stock": [3, 4]}),
                       primary_keys="product_id")


@pytest.fixture
def fe(tables):
    from databricks.feature_engineering import FeatureEngineeringClient
    return FeatureEngineeringClient()


@pytest.fixture
def fs(tables):
    from databricks.feature_store import FeatureStoreClient
    return FeatureStoreClient()


def labels() -> pd.DataFrame:
    return pd.DataFrame({"product_id": [2, 1, 3], "qty": [1, 2, 3], "y": [0.5, 1.5, 2.5]})


def lookup(**kwargs):
    from databricks.feature_engineering import FeatureLookup
    return FeatureLookup(table_name=PRODUCTS, lookup_key="product_id", **kwargs)


def test_all_features_labels_last_and_excludes(fe):
    ts = fe.create_training_set(df=labels(), feature_lookups=[lookup()], label="y", exclude_columns=["qty", "zz"])
    df = ts.load_df()
    # feature_names=None: every non-key column, alphabetically; unknown excludes are ignored
    assert list(df.columns) == ["product_id", "category", "price", "stock", "y"]
    assert df["price"].tolist()[:2] == [20.0, 9.5] and pd.isna(df["price"].iloc[2])
    assert ts.get_output_columns() == list(df.columns)
    assert [c.name for c in ts.feature_spec.columns] == ["product_id", "category", "price", "stock"]


def test_excluded_lookup_keys_stay_in_the_spec(fe):
    ts = fe.create_training_set(df=labels(), feature_lookups=[lookup(feature_names="price")], label=["y"],
                                exclude_columns=["product_id"])
    assert list(ts.load_df().columns) == ["qty", "price", "y"]
    assert [(c.name, c.include) for c in ts.feature_spec.columns] == [
        ("product_id", False), ("qty", True), ("price", True)]


def test_no_label(fe):
    ts = fe.create_training_set(df=labels(), feature_lookups=[lookup(feature_names="price")], label=None)
    assert list(ts.load_df().columns) == ["product_id", "qty", "y", "price"]


@pytest.mark.parametrize("make, message", [
    (lambda: dict(df=pd.concat([labels(), labels()[["y"]]], axis=1), label="y"),
     r"^Found duplicate DataFrame column names \['y'\].$"),
    (lambda: dict(df=labels(), label="nope"), r"^Label column 'nope' was not found in DataFrame$"),
    (lambda: dict(df=labels(), label="y", exclude_columns=["y"]), r"^Label column 'y' cannot be excluded$"),
    (lambda: dict(df=labels(), label="y", feature_lookups=[lookup(feature_names=["nope"])]),
     r"^Unable to find feature 'nope' from feature table 'catalog.schema.products' in Feature Catalog.$"),
    (lambda: dict(df=labels(), label="y", feature_lookups=[lookup(feature_names="price"),
                                                           lookup(feature_names="price")]),
     r"^Found duplicate feature output names \['price'\].$"),
    (lambda: dict(df=labels(), label="y", feature_lookups=[lookup(feature_names="price",
                                                                  rename_outputs={"price": "y"})]),
     r"^Feature cannot have same output name as label 'y'.$"),
    (lambda: dict(df=labels(), label="y", feature_lookups=[lookup(feature_names="price",
                                                                  rename_outputs={"price": "qty"})]),
     r"^DataFrame contains column names that match feature output names specified in FeatureLookups: 'qty'. "
     r"Either remove these columns from the DataFrame or FeatureLookups.$"),
    (lambda: dict(df=labels().drop(columns=["product_id"]), label="y", feature_lookups=[lookup()]),
     r"^Could not find lookup key columns 'product_id' required by FeatureLookups.$"),
    (lambda: dict(df=labels().astype({"product_id": "int32"}), label="y", feature_lookups=[lookup()]),
     r"^Unable to join feature table 'catalog.schema.products' because primary key 'product_id' has type 'LONG' "
     r"but corresponding lookup key 'product_id' has type 'INTEGER' in DataFrame.$"),
    (lambda: dict(df=labels().assign(ts=pd.Timestamp("2024-01-01")), label="y",
                  feature_lookups=[lookup(timestamp_lookup_key="ts")]),
     r"^Unable to join feature table 'catalog.schema.products' because number of timestamp keys \(\[\]\) does not "
     r"match number of timestamp lookup keys \(\['ts'\]\).$"),
    (lambda: dict(df=labels().assign(k2=1), label="y",
                  feature_lookups=[lookup_keys(["product_id", "k2"])]),
     r"^Unable to join feature table 'catalog.schema.products' because number of primary keys"),
])
def test_validation_errors(fe, make, message):
    args = {"feature_lookups": [lookup()], **make()}
    with pytest.raises(ValueError, match=message):
        fe.create_training_set(**args)


def lookup_keys(keys):
    from databricks.feature_engineering import FeatureLookup
    return FeatureLookup(table_name=PRODUCTS, lookup_key=keys)


def test_lookback_window_must_be_consistent_per_table(fe):
    from databricks.feature_engineering import FeatureLookup

    def fl(name, window):
        return FeatureLookup(table_name=TABLE, lookup_key="customer_id", timestamp_lookup_key="event_timestamp",
                             feature_names=[name], lookback_window=window)
    day = datetime.timedelta(days=1)
    with pytest.raises(ValueError, match="^lookback_window values must be consistently defined per feature table"):
        fe.create_training_set(df=oracle_labels(), label="is_churned",
                               feature_lookups=[fl("total_spend", day), fl("n_orders", None)])
    with pytest.raises(ValueError, match="^Only one value for lookback_window can be defined per feature table"):
        fe.create_training_set(df=oracle_labels(), label="is_churned",
                               feature_lookups=[fl("total_spend", day), fl("n_orders", 2 * day)])


def test_chained_lookups(fe, make_feature_table):
    make_feature_table("catalog.schema.categories", pd.DataFrame({"category": ["a", "b"], "margin": [0.1, 0.2]}),
                       primary_keys="category")
    from databricks.feature_engineering import FeatureLookup
    ts = fe.create_training_set(df=labels(), label="y", feature_lookups=[
        lookup(feature_names="category"),
        FeatureLookup(table_name="catalog.schema.categories", lookup_key="category", feature_names="margin")])
    assert ts.load_df()["margin"].tolist()[:2] == [0.2, 0.1]
    assert [c.topological_ordering for c in ts.feature_spec.features] == [1, 2]


def test_fe_applies_defaults_the_legacy_client_ignores_them(fe, fs, caplog):
    from databricks.feature_store import FeatureLookup as LegacyLookup

    kwargs = dict(feature_names="price", default_values={"price": 0.0})
    with_defaults = fe.create_training_set(df=labels(), feature_lookups=[lookup(**kwargs)], label="y").load_df()
    assert with_defaults["price"].tolist() == [20.0, 9.5, 0.0]
    with caplog.at_level(logging.WARNING):
        legacy = fs.create_training_set(labels(), [LegacyLookup(PRODUCTS, "product_id", **kwargs)], "y").load_df()
    assert pd.isna(legacy["price"].iloc[2]) and "default_values" in caplog.text


def test_rejected_training_set_changes_nothing(fe, mlemu):
    before = {t.name: t.frame.copy() for t in mlemu.unity_catalog.list_tables("catalog", "schema")}
    with pytest.raises(ValueError):
        fe.create_training_set(df=labels(), feature_lookups=[lookup(feature_names="nope")], label="y")
    after = {t.name: t.frame for t in mlemu.unity_catalog.list_tables("catalog", "schema")}
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name])


@pytest.fixture
def udf(mlemu):
    """A UC Python UDF, as ``CREATE FUNCTION ... LANGUAGE PYTHON AS $$ ... $$`` would make it."""
    return mlemu.unity_catalog.functions.create(
        "catalog.schema.total_cost", params=[("price", "DOUBLE"), ("qty", "BIGINT")], returns="DOUBLE",
        body="return None if price is None else price * qty")


def test_feature_functions_compute_on_demand_features(fe, udf):
    from databricks.feature_engineering import FeatureFunction

    ts = fe.create_training_set(df=labels(), label="y", feature_lookups=[
        lookup(feature_names="price"),
        FeatureFunction(udf_name="catalog.schema.total_cost", input_bindings={"price": "price", "qty": "qty"},
                        output_name="cost")])
    df = ts.load_df()
    assert list(df.columns) == ["product_id", "qty", "price", "cost", "y"]
    assert df["cost"].tolist()[:2] == [20.0, 19.0] and pd.isna(df["cost"].iloc[2])
    fn = ts.feature_spec.functions[0]
    assert (fn.udf_name, fn.input_bindings, fn.data_type, fn.topological_ordering) == (
        "catalog.schema.total_cost", {"price": "price", "qty": "qty"}, "double", 2)
    assert "source: on_demand_feature" in ts.feature_spec.to_yaml()
    assert "input_functions:\n- catalog.schema.total_cost: {}" in ts.feature_spec.to_yaml()


def test_feature_function_errors(fe, udf):
    from databricks.feature_engineering import FeatureFunction

    with pytest.raises(ValueError, match="catalog.schema.nope' does not exist"):
        fe.create_training_set(df=labels(), label="y",
                               feature_lookups=[FeatureFunction(udf_name="catalog.schema.nope")])
    with pytest.raises(ValueError, match="input_bindings must bind exactly"):
        fe.create_training_set(df=labels(), label="y", feature_lookups=[
            FeatureFunction(udf_name="catalog.schema.total_cost", input_bindings={"price": "qty"})])
    with pytest.raises(ValueError,
                       match="^Could not find input binding columns 'price' required by FeatureFunctions.$"):
        fe.create_training_set(df=labels(), label="y", feature_lookups=[
            FeatureFunction(udf_name="catalog.schema.total_cost", input_bindings={"price": "price", "qty": "qty"})])


def test_exactly_one_source_of_features(fe):
    with pytest.raises(ValueError, match="Exactly one of"):
        fe.create_training_set(df=labels(), label="y")


def test_the_callers_frame_is_never_modified(fe):
    df = labels()
    before = df.copy()
    fe.create_training_set(df=df, feature_lookups=[lookup()], label="y").load_df()
    pd.testing.assert_frame_equal(df, before)
