# Databricks notebook source
# MAGIC %md
# MAGIC # MetricViolationCheck
# MAGIC A monitoring query over the predictions table: when the predicted churn rate passes the
# MAGIC threshold, the condition task that follows starts the training job again.

# COMMAND ----------

dbutils.widgets.text("table_name_under_monitor", "ml.churn.predictions", "Monitored table")
dbutils.widgets.text("churn_rate_threshold", "0.5", "Highest acceptable churn rate")
table = dbutils.widgets.get("table_name_under_monitor")
threshold = float(dbutils.widgets.get("churn_rate_threshold"))

# COMMAND ----------

from databricks.sdk import WorkspaceClient

w = WorkspaceClient()
warehouse = next(iter(w.warehouses.list())).id
answer = w.statement_execution.execute_statement(
    warehouse_id=warehouse,
    statement=f"SELECT avg(prediction) AS churn_rate, count(*) AS n FROM {table}")
churn_rate, n = answer.result.data_array[0]
churn_rate = float(churn_rate)
print(f"churn rate {churn_rate:.2f} over {n} predictions (threshold {threshold:.2f})")

# COMMAND ----------

is_metric_violated = churn_rate > threshold
dbutils.jobs.taskValues.set("is_metric_violated", is_metric_violated)
dbutils.jobs.taskValues.set("churn_rate", churn_rate)
