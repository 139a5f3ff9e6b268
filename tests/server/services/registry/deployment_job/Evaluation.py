# Databricks notebook source
# MAGIC %md
# MAGIC Evaluation: score the new version on a small held-out frame and record the accuracy on the version.

# COMMAND ----------

dbutils.widgets.text("model_name", "")
dbutils.widgets.text("model_version", "")
model_name = dbutils.widgets.get("model_name")
model_version = dbutils.widgets.get("model_version")

# COMMAND ----------

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

mlflow.set_registry_uri("databricks-uc")
rng = np.random.default_rng(1)
X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["feature1", "feature2", "feature3"])
y = (X["feature1"] + X["feature2"] > 0).astype(int)
model = mlflow.pyfunc.load_model(f"models:/{model_name}/{model_version}")
accuracy = float((model.predict(X) == y).mean())
MlflowClient().set_model_version_tag(model_name, model_version, "accuracy", f"{accuracy:.3f}")
dbutils.jobs.taskValues.set("accuracy", accuracy)
if accuracy < 0.7:
    raise Exception(f"accuracy {accuracy:.3f} is below 0.7")
