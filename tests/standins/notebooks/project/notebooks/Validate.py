# Databricks notebook source
# MAGIC %md
# MAGIC # Validate
# MAGIC Reads the model the Train task registered and, when it is good enough, gives it the
# MAGIC environment's alias.

# COMMAND ----------

import os
import sys
notebook_path = '/Workspace/' + os.path.dirname(dbutils.notebook.entry_point.getDbutils().notebook().getContext().notebookPath().get())
%cd $notebook_path
%cd ..
sys.path.append(".")

# COMMAND ----------

dbutils.widgets.text("env", "staging")
dbutils.widgets.text("min_accuracy", "0.8")
dbutils.widgets.text("model_name", "main.default.notebook_classifier")
dbutils.widgets.text("model_version", "")

model_uri = dbutils.jobs.taskValues.get("Train", "model_uri", debugValue="")
if model_uri:
    model_name, model_version = model_uri[len("models:/"):].rsplit("/", 1)
else:
    model_name = dbutils.widgets.get("model_name")
    model_version = dbutils.widgets.get("model_version")
accuracy = dbutils.jobs.taskValues.get("Train", "accuracy", default=0.0, debugValue=1.0)

# COMMAND ----------

from mlflow import MlflowClient
from utils import alias_for

threshold = float(dbutils.widgets.get("min_accuracy"))
if accuracy < threshold:
    dbutils.jobs.taskValues.set("validated", False)
    dbutils.notebook.exit(f"rejected: accuracy {accuracy:.2f} < {threshold}")

alias = alias_for(dbutils.widgets.get("env"))
MlflowClient(registry_uri="databricks-uc").set_registered_model_alias(model_name, alias, model_version)
dbutils.jobs.taskValues.set("validated", True)
dbutils.notebook.exit(alias)
