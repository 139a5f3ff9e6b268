# Databricks notebook source
# MAGIC %md
# MAGIC # BatchInference
# MAGIC Scores the customers of the input table with the champion (features looked up from the
# MAGIC feature table by the packaged model) and appends the predictions to the output table.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment")
dbutils.widgets.text("input_table_name", "ml.churn.scoring_input", "Input table")
dbutils.widgets.text("output_table_name", "ml.churn.predictions", "Output table")
dbutils.widgets.text("model_name", "ml.churn.churn_classifier", "Model")
output = dbutils.widgets.get("output_table_name")

# COMMAND ----------

import mlflow
from databricks.feature_engineering import FeatureEngineeringClient

mlflow.set_registry_uri("databricks-uc")
model_uri = f"models:/{dbutils.widgets.get('model_name')}@champion"
version = mlflow.MlflowClient().get_model_version_by_alias(dbutils.widgets.get("model_name"), "champion").version
fe = FeatureEngineeringClient()
customers = fe.read_table(name=dbutils.widgets.get("input_table_name"))
predictions = fe.score_batch(model_uri=model_uri, df=customers)[["customer_id", "prediction"]]
display(predictions)

# COMMAND ----------

# DBTITLE 1,Append to the output table
from databricks.sdk import WorkspaceClient

w = WorkspaceClient()
warehouse = next(iter(w.warehouses.list())).id
w.statement_execution.execute_statement(warehouse_id=warehouse, statement=(
    f"CREATE TABLE IF NOT EXISTS {output} (customer_id BIGINT, prediction DOUBLE, model_version STRING)"))
rows = ", ".join(f"({int(r.customer_id)}, {float(r.prediction)}, '{int(version)}')"
                 for r in predictions.itertuples())
w.statement_execution.execute_statement(warehouse_id=warehouse, statement=f"INSERT INTO {output} VALUES {rows}")
dbutils.notebook.exit(f"scored {len(predictions)}")
