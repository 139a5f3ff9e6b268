"""Feature tables as UC tables of the workspace: create / write (merge, overwrite) / read /
get / drop / tags, with each rule's error (``feature-store.md`` §2.1-2.2). A rejected write
leaves the table unchanged."""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from databricks.sdk import WorkspaceClient

T = pd.Timestamp
NAME = "main.default.customer_features"


@pytest.fixture
def fe(mlemu):
    from databricks.feature_engineering import FeatureEngineeringClient
    return FeatureEngineeringClient()


@pytest.fixture
def fs(mlemu):
    from databricks.feature_store import FeatureStoreClient
    return FeatureStoreClient()


def features() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 2], "ts": [T("2024-01-01"), T("2024-01-01")],
                         "spend": [10.0, 20.0], "orders": [1, 2]})


def plain() -> pd.DataFrame:
    return pd.DataFrame({"id": [1, 2, 3], "a": [1.0, 2.0, 3.0], "b": ["x", "y", "z"]})


# -- create ------------------------------------------------------------------------------

def test_create_shows_keys_through_the_sdk(fe, mlemu):
    table = fe.create_table(name=NAME, primary_keys=["customer_id", "ts"], timeseries_column="ts",
                            df=features(), description="Customer features", tags={"team": "ml"})
    assert table.primary_keys == ["customer_id", "ts"] and table.timestamp_keys == ["ts"]
    assert table.features == ["customer_id", "ts", "spend", "orders"]
    assert table.description == "Customer features" and table.tags == {"team": "ml"}
    info = WorkspaceClient().tables.get(NAME)
    pk = info.table_constraints[0].primary_key_constraint
    assert (pk.name, pk.child_columns, pk.timeseries_columns) == ("customer_features_pk", ["customer_id", "ts"],
                                                                  ["ts"])
    assert [(c.name, c.nullable) for c in info.columns] == [("customer_id", False), ("ts", False),
                                                             ("spend", True), ("orders", True)]
    assert info.comment == "Customer features" and info.table_id == table.table_id
    listed = [t.name for t in WorkspaceClient().tables.list(catalog_name="main", schema_name="default")]
    assert listed == ["customer_features"]
    pd.testing.assert_frame_equal(fe.read_table(name=NAME), features())


def test_create_from_a_schema_then_write(fe):
    schema = features().iloc[0:0]
    fe.create_table(name=NAME, primary_keys=["customer_id", "ts"], timeseries_column="ts", schema=schema)
    assert fe.read_table(name=NAME).empty
    fe.write_table(name=NAME, df=features())
    pd.testing.assert_frame_equal(fe.read_table(name=NAME), features())


def test_partition_columns_show_in_the_sdk(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain(), partition_columns="b")
    assert fe.get_table(name=NAME).partition_columns == ["b"]
    cols = WorkspaceClient().tables.get(NAME).columns
    assert [c.partition_index for c in cols] == [None, None, 0]


def test_existing_table_is_a_no_op(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    other = plain().assign(a=[9.0, 9.0, 9.0])
    again = fe.create_table(name=NAME, primary_keys="id", df=other)
    assert again.primary_keys == ["id"]
    pd.testing.assert_frame_equal(fe.read_table(name=NAME), plain())


def test_fe_needs_the_timestamp_key_in_primary_keys(fe, mlemu):
    with pytest.raises(ValueError, match=r"^Timeseries column 'ts' is not in primary_keys. Timeseries columns "
                                         r"must be primary keys.$"):
        fe.create_table(name=NAME, primary_keys=["customer_id"], timestamp_keys=["ts"], df=features())
    assert not mlemu.unity_catalog.table_exists(NAME)


def test_legacy_client_only_warns_and_stores_the_same_keys(fs, caplog):
    with caplog.at_level(logging.WARNING):
        table = fs.create_table(name=NAME, primary_keys=["customer_id"], timestamp_keys=["ts"], df=features())
    assert "Timestamp key 'ts' is not included in primary keys" in caplog.text
    assert table.primary_keys == ["customer_id", "ts"] and table.timestamp_keys == ["ts"]


@pytest.mark.parametrize("kwargs, message", [
    ({"primary_keys": ["id", "id"]}, r"^Found duplicated key 'id' in primary_keys"),
    ({"primary_keys": ["id", "ts"], "timestamp_keys": ["ts", "ts2"]},
     r"^Setting multiple timeseries keys is not supported.$"),
    ({"primary_keys": ["ts"], "timeseries_column": "ts"}, r"^Non-timestamp keys must be provided"),
    ({"primary_keys": ["nope"]}, r"^The provided DataFrame or schema must contain all specified primary keys. "
                                 r"Schema \['id', 'ts', 'a'\] is missing column 'nope'$"),
])
def test_create_rules(fe, mlemu, kwargs, message):
    df = pd.DataFrame({"id": [1], "ts": [T("2024-01-01")], "a": [1.0]})
    with pytest.raises(ValueError, match=message):
        fe.create_table(name=NAME, df=df, **kwargs)
    assert not mlemu.unity_catalog.table_exists(NAME)


def test_fe_refuses_hive_metastore_names(fe):
    for name in ("customer_features", "default.customer_features", "hive_metastore.default.t"):
        with pytest.raises(ValueError, match=r"^FeatureEngineeringClient only supports feature tables in Unity "
                                             r"Catalog. For feature tables in hive metastore, use "
                                             r"databricks.feature_store.FeatureStoreClient.$"):
            fe.create_table(name=name, primary_keys="id", df=plain())


def test_legacy_client_puts_two_level_names_in_the_hive_metastore(fs, mlemu):
    table = fs.create_table("default.t", "id", plain())
    assert table.name == "hive_metastore.default.t"
    assert [c.nullable for c in WorkspaceClient().tables.get("hive_metastore.default.t").columns] == [True] * 3
    with pytest.raises(ValueError, match=r"^Database 'nope' does not exist in catalog 'hive_metastore'.$"):
        fs.create_table("nope.t", "id", plain())


@pytest.mark.parametrize("name", ["a b.c.d", "a/b", "a.b.c.d"])
def test_malformed_names(fs, name):
    with pytest.raises(ValueError, match="must have the form <catalog>.<schema>.<table>"):
        fs.create_table(name, "id", plain())


def test_unsupported_type_removes_the_half_made_table(fe, mlemu):
    df = plain().assign(small=np.array([1, 2, 3], dtype="int8"))
    with pytest.raises(ValueError, match=r"^Unsupported data type for column 'small': ByteType"):
        fe.create_table(name=NAME, primary_keys="id", df=df)
    assert not mlemu.unity_catalog.table_exists(NAME)


def test_null_key_on_create_leaves_no_table(fe, mlemu):
    df = plain().assign(id=[1.0, None, 3.0])
    with pytest.raises(ValueError, match=r"NOT NULL constraint violated for column: id.$"):
        fe.create_table(name=NAME, primary_keys="id", df=df)
    assert not mlemu.unity_catalog.table_exists(NAME)


# -- write -------------------------------------------------------------------------------

def test_merge_upserts_on_keys(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    fe.write_table(name=NAME, df=pd.DataFrame({"id": [2, 4], "a": [20.0, 40.0]}), mode="merge")
    out = fe.read_table(name=NAME)
    # id 2: a updated, b kept (absent from df); id 4 inserted with b null; ids 1 and 3 untouched
    assert out["id"].tolist() == [1, 2, 3, 4]
    assert out["a"].tolist() == [1.0, 20.0, 3.0, 40.0]
    assert out["b"].tolist()[:3] == ["x", "y", "z"] and pd.isna(out["b"].iloc[3])


def test_merge_adds_new_columns(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    fe.write_table(name=NAME, df=pd.DataFrame({"id": [3], "c": [True]}))
    out = fe.read_table(name=NAME)
    assert list(out.columns) == ["id", "a", "b", "c"]
    assert out["c"].tolist()[2] is True or out["c"].tolist()[2] == True  # noqa: E712
    assert out["c"].isna().tolist() == [True, True, False]
    info = WorkspaceClient().tables.get(NAME)
    assert [c.type_text for c in info.columns] == ["bigint", "double", "string", "boolean"]


def test_merge_appends_history_on_time_series_tables(fe):
    fe.create_table(name=NAME, primary_keys=["customer_id", "ts"], timeseries_column="ts", df=features())
    later = features().assign(ts=T("2024-02-01"), spend=[11.0, 21.0])
    fe.write_table(name=NAME, df=later)
    out = fe.read_table(name=NAME)
    assert len(out) == 4 and out["spend"].tolist() == [10.0, 20.0, 11.0, 21.0]


def test_overwrite_keeps_the_union_schema(fs):
    fs.create_table(NAME, "id", plain())
    fs.write_table(NAME, pd.DataFrame({"id": [7], "a": [7.0], "c": ["new"]}), mode=" OverWrite ")
    out = fs.read_table(NAME)
    assert list(out.columns) == ["id", "a", "b", "c"]
    assert out["id"].tolist() == [7] and pd.isna(out["b"].iloc[0]) and out["c"].tolist() == ["new"]


def test_fe_writes_merge_only(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    with pytest.raises(ValueError) as err:
        fe.write_table(name=NAME, df=plain(), mode="overwrite")
    assert str(err.value) == (
        "Unsupported mode 'overwrite'. 'merge' is the only supported mode. If you want to overwrite a table, run "
        "SQL 'DELETE FROM <table name>;' to delete all rows, or drop and recreate the table before calling this "
        "method.")


def _rejected(client_write, read, df, message):
    before = read()
    with pytest.raises(ValueError, match=message):
        client_write(df)
    pd.testing.assert_frame_equal(read(), before)


@pytest.mark.parametrize("df, message", [
    (pd.DataFrame({"customer_id": [1, 1], "ts": [T("2024-03-01")] * 2, "spend": [1.0, 2.0], "orders": [1, 1]}),
     r"^Non-unique rows detected in input dataframe for key combination \['customer_id', 'ts'\].$"),
    (pd.DataFrame({"customer_id": [1.5], "ts": [T("2024-03-01")], "spend": [1.0], "orders": [1]}),
     r"^The provided DataFrame must contain all specified primary key columns and have the same type"),
    (pd.DataFrame({"customer_id": [1], "spend": [1.0], "orders": [1]}),
     r"^The provided DataFrame must contain all specified primary key columns and have the same type"),
    (pd.DataFrame({"customer_id": [1], "ts": [T("2024-03-01")], "spend": [1.0]}),
     r"^Feature table has a timestamp column. When calling write_table the provided DataFrame must contain all "
     r"the feature columns. Could not find column\(s\) 'orders'.$"),
    (pd.DataFrame({"customer_id": [1], "ts": [T("2024-03-01")], "spend": ["lots"], "orders": [1]}),
     r"^FeatureStoreClient uses Delta APIs. The schema of the new DataFrame is incompatible with existing Delta "
     r"table. Saw AnalysisException: Failed to merge fields 'spend' and 'spend'"),
    (pd.DataFrame({"customer_id": [1], "ts": [T("2024-03-01")], "spend": [1.0], "orders": [1], "SPEND": [2.0]}),
     r"differ only by case"),
    (pd.DataFrame({"customer_id": [1], "ts": [T("2024-03-01")], "Spend": [1.0], "orders": [1], "spend": [1.0]}),
     r"differ"),
    (pd.DataFrame({"customer_id": [1], "ts": [None], "spend": [1.0], "orders": [1]}).astype({"ts": "datetime64[ns]"}),
     r"NOT NULL constraint violated for column: ts.$"),
])
def test_rejected_writes_change_nothing(fe, df, message):
    fe.create_table(name=NAME, primary_keys=["customer_id", "ts"], timeseries_column="ts", df=features())
    _rejected(lambda d: fe.write_table(name=NAME, df=d), lambda: fe.read_table(name=NAME), df, message)


def test_writes_cast_safely_to_the_table_type(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    fe.write_table(name=NAME, df=pd.DataFrame({"id": [1], "a": np.array([5], "int32")}))
    out = fe.read_table(name=NAME)
    assert out["a"].dtype == np.float64 and out["a"].tolist() == [5.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="have the same type"):  # key types must match by name
        fe.write_table(name=NAME, df=pd.DataFrame({"id": np.array([1], dtype="int32"), "a": [1.0]}))


def test_hive_tables_allow_null_timestamps_with_a_warning(fs, caplog):
    fs.create_table("default.t", ["customer_id"], features(), timestamp_keys="ts")
    with caplog.at_level(logging.WARNING):
        fs.write_table("default.t", features().assign(customer_id=[3, 4], ts=[None, None]).astype(
            {"ts": "datetime64[ns]"}))
    assert "DataFrame has null values in timestamp key column." in caplog.text
    assert len(fs.read_table("default.t")) == 4


# -- get / drop / tags -------------------------------------------------------------------

def test_missing_and_non_feature_tables(fe, mlemu):
    with pytest.raises(ValueError, match=r"^Feature table 'main.default.nope' does not exist.$"):
        fe.get_table(name="main.default.nope")
    with pytest.raises(ValueError, match=r"^Feature table 'main.default.nope' does not exist.$"):
        fe.drop_table(name="main.default.nope")
    mlemu.unity_catalog.put_table("main.default.plain", plain())
    with pytest.raises(ValueError, match=r"^Table can't be used as a feature table because it has no primary key "
                                         r"constraint defined.$"):
        fe.drop_table(name="main.default.plain")
    assert mlemu.unity_catalog.table_exists("main.default.plain")


def test_drop_removes_the_uc_table(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    fe.drop_table(name=NAME)
    assert WorkspaceClient().tables.exists(NAME).table_exists is False


def test_tags_for_each_client(fe, fs):
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    fe.set_feature_table_tag(name=NAME, key="owner", value="ml")
    fs.set_feature_table_tag(table_name=NAME, key="pii", value="")
    assert fe.get_table(name=NAME).tags == {"owner": "ml", "pii": ""}
    fs.delete_feature_table_tag(table_name=NAME, key="owner")
    fe.delete_feature_table_tag(name=NAME, key="absent")
    assert fs.get_table(NAME).tags == {"pii": ""}


def test_register_table_makes_an_existing_table_a_feature_table(fs, mlemu):
    mlemu.unity_catalog.put_table("main.default.plain", plain())
    table = fs.register_table(delta_table="main.default.plain", primary_keys="id", description="now features")
    assert table.primary_keys == ["id"] and table.description == "now features"
    mlemu.unity_catalog.put_table("main.default.dups", pd.DataFrame({"id": [1, 1]}))
    with pytest.raises(ValueError, match="Non-unique rows detected"):
        fs.register_table(delta_table="main.default.dups", primary_keys="id")


def test_read_table_options(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    with pytest.raises(TypeError):
        fe.read_table(name=NAME, version=3)


def test_read_table_as_of_delta_timestamp(fe, mlemu):
    mlemu.clock.freeze(1_704_067_200_000)  # 2024-01-01 00:00:00 UTC
    fe.create_table(name=NAME, primary_keys="id", df=plain())
    mlemu.clock.advance(3600)
    fe.write_table(name=NAME, df=pd.DataFrame({"id": [1], "a": [100.0]}))
    mlemu.clock.advance(3600)
    assert fe.read_table(name=NAME, as_of_delta_timestamp="2024-01-01 00:30:00")["a"].tolist() == [1.0, 2.0, 3.0]
    assert fe.read_table(name=NAME, as_of_delta_timestamp="2024-01-01 01:00:00")["a"].tolist() == [100.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"^The provided timestamp \(2023-12-31 00:00:00.000\) is before the "
                                         r"earliest version available to this table \(2024-01-01 00:00:00.000\)"):
        fe.read_table(name=NAME, as_of_delta_timestamp="2023-12-31")
    with pytest.raises(ValueError, match=r"is after the latest version available to this table "
                                         r"\(2024-01-01 01:00:00.000\)"):
        fe.read_table(name=NAME, as_of_delta_timestamp="2025-01-01")


def test_writing_nulls_keeps_an_integer_column_bigint(fe):
    fe.create_table(name=NAME, primary_keys="id", df=plain().assign(n=[1, 2, 3]))
    fe.write_table(name=NAME, df=pd.DataFrame({"id": [2, 4], "n": [None, None]}))
    out = fe.read_table(name=NAME)
    assert out["n"].isna().tolist() == [False, True, False, True] and out["n"].tolist()[0] == 1
    assert WorkspaceClient().tables.get(NAME).columns[-1].type_text == "bigint"


def test_create_from_a_spark_style_schema(fe):
    """A pyspark ``StructType`` (duck-typed here: pyspark is an optional extra)."""
    from types import SimpleNamespace as NS

    def field(name, type_name):
        return NS(name=name, dataType=NS(typeName=lambda: type_name))
    schema = NS(fields=[field("id", "long"), field("ts", "timestamp"), field("x", "double"), field("s", "string")])
    table = fe.create_table(name=NAME, primary_keys=["id", "ts"], timeseries_column="ts", schema=schema)
    assert table.features == ["id", "ts", "x", "s"]
    assert [c.type_text for c in WorkspaceClient().tables.get(NAME).columns] == ["bigint", "timestamp", "double",
                                                                               "string"]
    with pytest.raises(ValueError, match="must have the same fields"):
        fe.create_table(name="main.default.other", primary_keys="id", df=plain(), schema=schema)
