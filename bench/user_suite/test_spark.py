"""One Spark test: batch scoring with spark_udf into a Unity Catalog table."""
import mlflow


def test_batch_inference(spark, mlemu, model, data):
    X, _ = data
    mlemu.registry.seed_model_version("main.default.batch", model, aliases=["production"], input_example=X.head(2))
    predict = mlflow.pyfunc.spark_udf(spark, "models:/main.default.batch@production")
    df = spark.createDataFrame(X)
    df.withColumn("prediction", predict(*X.columns)).write.mode("overwrite").saveAsTable("main.default.predictions")
    assert len(mlemu.unity_catalog.read_table("main.default.predictions")) == len(X)
