# Databricks notebook source
# MAGIC %md
# MAGIC # ModelValidation
# MAGIC Scores the new version on the labelled customers (features looked up from the feature
# MAGIC table) and gates the deployment on its accuracy.

# COMMAND ----------

dbutils.widgets.text("labels_table", "ml.churn.labels", "Labels table")
dbutils.widgets.dropdown("run_mode", "enabled", ["disabled", "dry_run", "enabled"], "Run mode")
dbutils.widgets.text("accuracy_threshold", "0.8", "Lowest accuracy deployed")
run_mode = dbutils.widgets.get("run_mode")
threshold = float(dbutils.widgets.get("accuracy_threshold"))

model_uri = dbutils.jobs.taskValues.get("Train", "model_uri", debugValue="models:/ml.churn.churn_classifier/1")
model_name = dbutils.jobs.taskValues.get("Train", "model_name", debugValue="ml.churn.churn_classifier")
model_version = dbutils.jobs.taskValues.get("Train", "model_version", debugValue=1)

# COMMAND ----------

if run_mode == "disabled":
    dbutils.jobs.taskValues.set("validation_passed", True)
    dbutils.notebook.exit("validation disabled")

# COMMAND ----------

import mlflow
import pandas as pd
from databricks.feature_engineering import FeatureEngineeringClient

mlflow.set_registry_uri("databricks-uc")
fe = FeatureEngineeringClient()
labels = fe.read_table(name=dbutils.widgets.get("labels_table"))
scored = fe.score_batch(model_uri=model_uri, df=labels.drop(columns=["churned"]))
accuracy = float((scored["prediction"].astype(int).to_numpy() == labels["churned"].to_numpy()).mean())
metrics = pd.DataFrame({"metric": ["accuracy"], "value": [accuracy], "threshold": [threshold]})
display(metrics)

# COMMAND ----------

# DBTITLE 1,Validation gate
passed = accuracy >= threshold
client = mlflow.MlflowClient()
client.set_model_version_tag(model_name, str(model_version), "model_validation_status",
                             "PASSED" if passed else "FAILED")
dbutils.jobs.taskValues.set("validation_passed", bool(passed))
if not passed and run_mode == "enabled":
    raise Exception(f"Model validation failed: accuracy {accuracy:.2f} is below {threshold:.2f}")
if not passed:
    print(f"dry run: accuracy {accuracy:.2f} is below {threshold:.2f}; deploying anyway")
dbutils.notebook.exit(f"accuracy={accuracy:.2f}")
