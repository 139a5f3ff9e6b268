"""Spark against the emulated workspace (opt-in extra; skipped without pyspark or Java).

One SparkSession serves the whole test session (``mlemu_spark_session``); the tests are few
because each Spark job costs a second or more on a small machine.
"""
from __future__ import annotations

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'mlemu[spark]')")
pd = pytest.importorskip("pandas")


def test_seed_batch_inference_section_verbatim(spark, mlemu, trained_model):
    """The seed's "Batch Inference with Spark" section, as written, with the registry's model."""
    import mlflow

    model, X, _ = trained_model
    mlemu.registry.seed_model_version("catalog.schema.my_model", model, aliases=["production"],
                                      input_example=X.head(2))
    df = spark.createDataFrame(X)
    feature_columns = list(X.columns)

    # --- the seed, verbatim -------------------------------------------------------------
    # Load model as Spark UDF
    model_uri = "models:/catalog.schema.my_model@production"
    predict_udf = mlflow.pyfunc.spark_udf(spark, model_uri)

    # Apply to Spark DataFrame
    df_predictions = df.withColumn("prediction", predict_udf(*feature_columns))

    # Save predictions
    df_predictions.write.mode("overwrite").saveAsTable("catalog.schema.predictions")
    # -------------------------------------------------------------------------------------

    saved = mlemu.unity_catalog.read_table("catalog.schema.predictions")
    assert list(saved.columns) == [*feature_columns, "prediction"]
    # The signature's output is a 1-D tensor, so mlflow's UDF returns one-element arrays.
    flat = [p[0] if hasattr(p, "__len__") else p for p in saved["prediction"]]
    assert flat == model.predict(X).tolist()
    # ... and Spark reads the UC table back, by name and in SQL.
    back = spark.table("catalog.schema.predictions").toPandas()
    assert [list(p) for p in back["prediction"]] == [list(p) for p in saved["prediction"]]
    counts = spark.sql("SELECT prediction[0] AS label, COUNT(*) AS n FROM catalog.schema.predictions "
                       "GROUP BY prediction[0] ORDER BY label").toPandas()
    assert counts.set_index("label")["n"].to_dict() == pd.Series(flat).value_counts().to_dict()


def test_uc_tables_read_write_modes_and_feature_store(spark, mlemu):
    from databricks.feature_engineering import FeatureEngineeringClient
    from databricks.sdk import WorkspaceClient
    from pyspark.errors import AnalysisException

    mlemu.unity_catalog.ensure_schema("main.sales")
    mlemu.unity_catalog.put_table("main.sales.orders", pd.DataFrame({"id": [1, 2, 3], "amount": [5.0, 7.5, 1.0]}))
    joined = spark.sql("SELECT o.id, o.amount * 2 AS double_amount FROM `main`.`sales`.`orders` o "
                       "WHERE o.amount > 2 ORDER BY o.id").toPandas()
    assert joined.to_dict("list") == {"id": [1, 2], "double_amount": [10.0, 15.0]}
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_NOT_FOUND"):
        spark.table("main.sales.nope")

    more = spark.createDataFrame(pd.DataFrame({"id": [4], "amount": [2.0]}))
    with pytest.raises(AnalysisException, match="TABLE_OR_VIEW_ALREADY_EXISTS"):
        more.write.saveAsTable("main.sales.orders")
    more.write.mode("append").saveAsTable("main.sales.orders")
    assert mlemu.unity_catalog.read_table("main.sales.orders")["id"].tolist() == [1, 2, 3, 4]
    more.writeTo("main.sales.orders_copy").create()
    more.writeTo("main.sales.orders_copy").append()
    assert len(mlemu.unity_catalog.read_table("main.sales.orders_copy")) == 2
    # The SDK sees what Spark wrote.
    assert [c.name for c in WorkspaceClient().tables.get("main.sales.orders_copy").columns] == ["id", "amount"]

    # The feature-engineering client takes and returns Spark DataFrames.
    fe = FeatureEngineeringClient()
    fe.create_table(name="main.sales.customer_features", primary_keys="id",
                    df=spark.createDataFrame(pd.DataFrame({"id": [1, 2], "spend": [3.0, 4.0]})))
    features = fe.read_table(name="main.sales.customer_features")
    assert type(features).__module__.startswith("pyspark.")
    assert features.toPandas().sort_values("id")["spend"].tolist() == [3.0, 4.0]


def test_monitor_metric_tables_in_spark_sql(spark, mlemu):
    """A monitor's metric tables (struct, array and map columns) read with their UC schema,
    and the seed's drift query shape in Spark SQL over them."""
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.catalog import MonitorTimeSeries

    from tests.server.services.monitors.conftest import inference_log

    frame = inference_log()
    mlemu.unity_catalog.ensure_schema("ml.monitoring")
    mlemu.unity_catalog.put_table("ml.monitoring.events", frame)
    mlemu.unity_catalog.put_table("ml.monitoring.events_baseline", frame[frame.ts < "2024-03-02"])
    mlemu.clock.freeze(int(pd.Timestamp("2024-03-04").timestamp() * 1000))
    WorkspaceClient().quality_monitors.create(
        "ml.monitoring.events", output_schema_name="ml.monitoring", assets_dir="/a",
        baseline_table_name="ml.monitoring.events_baseline",
        time_series=MonitorTimeSeries(timestamp_col="ts", granularities=["1 day"]))
    drift = spark.sql("""
        SELECT cur.column_name AS feature_name,
               AVG(cur.avg - base.avg) AS mean_drift,
               AVG(cur.stddev - base.stddev) AS std_drift
        FROM ml.monitoring.events_profile_metrics cur
        JOIN ml.monitoring.events_profile_metrics base
          ON base.column_name = cur.column_name AND base.log_type = 'BASELINE' AND base.slice_key IS NULL
        WHERE cur.log_type = 'INPUT' AND cur.slice_key IS NULL
          AND cur.window.end >= TIMESTAMP '2024-03-04' - INTERVAL 7 DAYS
        GROUP BY cur.column_name
        HAVING ABS(mean_drift) > 0.1
    """).toPandas()
    day = frame.assign(day=frame.ts.dt.normalize()).groupby("day")
    expected = (day.amount.mean() - frame[frame.ts < "2024-03-02"].amount.mean()).mean()
    assert "amount" in set(drift.feature_name)
    assert drift.set_index("feature_name").loc["amount", "mean_drift"] == pytest.approx(expected)
    ks = spark.sql("SELECT ks_test.pvalue AS p FROM ml.monitoring.events_drift_metrics "
                   "WHERE drift_type = 'CONSECUTIVE' AND column_name = 'amount' AND slice_key IS NULL "
                   "ORDER BY window.start").toPandas()
    assert len(ks) == 2 and ks.p.iloc[-1] < 0.01


@pytest.mark.mlemu(virtual_time=True)
def test_spark_jobs_do_not_move_virtual_time(spark, mlemu):
    """py4j's client-server thread sleeps in a loop; under virtual time only the test's own
    sleeps move the workspace clock (before: spark.range(10).count() moved it by days)."""
    mlemu.clock.freeze(1_700_000_000_000)
    assert spark.range(10).count() == 10
    assert mlemu.clock.now_ms() == 1_700_000_000_000


def test_the_driver_jvm_runs_with_the_quick_start_options(spark):
    """The session's JVM starts with C1 only and the serial collector (a test's jobs are small:
    both start Spark and finish its first queries in about 60 % of the defaults' time)."""
    args = list(spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    assert "-XX:TieredStopAtLevel=1" in args and "-XX:+UseSerialGC" in args


def _delta_commit(*actions: dict) -> bytes:
    import json
    return "\n".join(json.dumps(a) for a in actions).encode()


def _parquet(frame) -> bytes:
    import io
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def test_delta_tables_by_dbfs_path(spark, mlemu):
    """A Delta table uploaded to DBFS (parquet files and a JSON log) reads by path, through the
    reader and as ``delta.`path``` in SQL, at its latest snapshot (removed files left out)."""
    import io

    from databricks.sdk import WorkspaceClient
    from pyspark.errors import AnalysisException

    w = WorkspaceClient()
    root = "/datasets/rides"
    w.dbfs.upload(f"{root}/a.parquet", io.BytesIO(_parquet(pd.DataFrame({"km": [1.5, 2.0]}))))
    w.dbfs.upload(f"{root}/b.parquet", io.BytesIO(_parquet(pd.DataFrame({"km": [9.0]}))))
    w.dbfs.upload(f"{root}/c.parquet", io.BytesIO(_parquet(pd.DataFrame({"km": [4.0]}))))
    meta = {"metaData": {"id": "t", "format": {"provider": "parquet"}, "partitionColumns": [],
                         "schemaString": "{}", "configuration": {}}}
    w.dbfs.upload(f"{root}/_delta_log/00000000000000000000.json", io.BytesIO(_delta_commit(
        {"protocol": {"minReaderVersion": 1, "minWriterVersion": 2}}, meta,
        {"add": {"path": "a.parquet"}}, {"add": {"path": "b.parquet"}})))
    w.dbfs.upload(f"{root}/_delta_log/00000000000000000001.json", io.BytesIO(_delta_commit(
        {"remove": {"path": "b.parquet"}}, {"add": {"path": "c.parquet"}})))

    by_reader = spark.read.format("delta").load(root)
    assert sorted(r.km for r in by_reader.collect()) == [1.5, 2.0, 4.0]
    assert spark.read.load(f"dbfs:{root}", format="delta").count() == 3
    total = spark.sql(f"SELECT sum(km) AS s FROM delta.`dbfs:{root}` WHERE km > 1.6").collect()[0].s
    assert total == 6.0

    w.dbfs.upload("/datasets/plain/x.parquet", io.BytesIO(_parquet(pd.DataFrame({"km": [1.0]}))))
    with pytest.raises(AnalysisException, match=r"DELTA_MISSING_DELTA_TABLE.*dbfs:/datasets/plain"):
        spark.read.format("delta").load("/datasets/plain")
    with pytest.raises(AnalysisException, match=r"PATH_NOT_FOUND.*dbfs:/datasets/none"):
        spark.sql("SELECT * FROM delta.`/datasets/none`")


def test_uc_column_types_survive_the_bridge(spark, mlemu, make_catalog, make_schema, make_table):
    """An INT column reads as IntegerType (not pandas' inference, LONG), so a feature lookup
    that compares key types accepts a table written with INT keys."""
    make_schema(make_catalog("typed"), "s")
    make_table("typed.s.trips", pd.DataFrame({"zip": pd.array([10001, 10002], dtype="int32"),
                                              "km": [1.5, 2.5]}))
    types = dict(spark.table("typed.s.trips").dtypes)
    assert types == {"zip": "int", "km": "double"}
    assert dict(spark.sql("SELECT zip FROM typed.s.trips").dtypes) == {"zip": "int"}


def test_a_column_of_nulls_reads_with_its_table_type(spark, mlemu, make_catalog, make_schema, make_table):
    """Spark cannot infer a type from nulls only; the table's column type is used (as a
    monitor's profile metrics table has ``slice_key`` null on its whole-table rows)."""
    make_schema(make_catalog("nulls"), "s")
    make_table("nulls.s.metrics", pd.DataFrame({"slice_key": pd.Series([None, None], dtype="string"),
                                                "rmse": [1.0, 3.0]}))
    rows = spark.sql("SELECT count(*) AS n, max(rmse) AS m FROM nulls.s.metrics WHERE slice_key IS NULL").collect()
    assert (rows[0].n, rows[0].m) == (2, 3.0)
    assert dict(spark.table("nulls.s.metrics").dtypes)["slice_key"] == "string"
