# Databricks notebook source
# MAGIC %md
# MAGIC # Train
# MAGIC Fits a classifier on the project's data, logs it to MLflow and registers it in Unity Catalog.
# MAGIC The registered model's URI is left as a task value for the validation task.

# COMMAND ----------

# MAGIC %load_ext autoreload
# MAGIC %autoreload 2

# COMMAND ----------

import os
notebook_path = '/Workspace/' + os.path.dirname(dbutils.notebook.entry_point.getDbutils().notebook().getContext().notebookPath().get())
%cd $notebook_path

# COMMAND ----------

# MAGIC %pip install -r ../requirements.txt

# COMMAND ----------

dbutils.library.restartPython()

# COMMAND ----------

# DBTITLE 1,Parameters
dbutils.widgets.dropdown("env", "staging", ["staging", "prod"], "Environment")
dbutils.widgets.text("experiment_name", "/Shared/notebook-tests-train", "Experiment")
dbutils.widgets.text("model_name", "main.default.notebook_classifier", "Model")
env = dbutils.widgets.get("env")
experiment_name = dbutils.widgets.get("experiment_name")
model_name = dbutils.widgets.get("model_name")

# COMMAND ----------

import sys
sys.path.append("..")
from utils import training_frame

X, y = training_frame()
display(X.head(3))

# COMMAND ----------

# DBTITLE 1,Fit, log and register
import mlflow
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

mlflow.set_registry_uri("databricks-uc")
mlflow.set_experiment(experiment_name)
mlflow.start_run()
model = LogisticRegression().fit(X, y)
accuracy = float(model.score(X, y))
mlflow.log_param("env", env)
mlflow.log_metric("accuracy", accuracy)
info = mlflow.sklearn.log_model(model, "model", signature=infer_signature(X, model.predict(X)),
                                registered_model_name=model_name)

# COMMAND ----------

from mlflow import MlflowClient

version = max(int(v.version) for v in MlflowClient().search_model_versions(f"name='{model_name}'"))
model_uri = f"models:/{model_name}/{version}"
dbutils.jobs.taskValues.set("model_uri", model_uri)
dbutils.jobs.taskValues.set("model_version", version)
dbutils.jobs.taskValues.set("accuracy", accuracy)
dbutils.notebook.exit(model_uri)
