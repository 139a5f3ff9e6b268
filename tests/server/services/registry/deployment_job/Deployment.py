# Databricks notebook source
dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_version", "")

# COMMAND ----------

from mlflow import MlflowClient

MlflowClient(registry_uri="databricks-uc").set_registered_model_alias(
    dbutils.widgets.get("model_name"), "champion", dbutils.widgets.get("model_version"))
dbutils.notebook.exit("deployed")
