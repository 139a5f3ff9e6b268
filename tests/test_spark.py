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
