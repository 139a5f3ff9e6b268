# Databricks notebook source
# MAGIC %md
# MAGIC Approval: the version must carry the tag named after this task, set to "Approved".

# COMMAND ----------

dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_version", "")
dbutils.widgets.text("approval_tag_name", "")

# COMMAND ----------

from mlflow import MlflowClient

tags = MlflowClient(registry_uri="databricks-uc").get_model_version(
    dbutils.widgets.get("model_name"), dbutils.widgets.get("model_version")).tags
if tags.get(dbutils.widgets.get("approval_tag_name"), "").lower() != "approved":
    raise Exception("Model version not approved for deployment")
