# Databricks notebook source
# MAGIC %md
# MAGIC # Train
# MAGIC Builds the training set from the labels and the customer feature table, fits a churn
# MAGIC classifier, logs it packaged with its feature lookups and registers it in Unity Catalog.
# MAGIC The new version is handed to the next tasks as task values.

# COMMAND ----------

# DBTITLE 1,Parameters
dbutils.widgets.dropdown("env", "dev", ["dev", "test", "staging", "prod"], "Environment")
dbutils.widgets.text("experiment_name", "/Shared/churn-experiment", "Experiment")
dbutils.widgets.text("model_name", "ml.churn.churn_classifier", "Model (catalog.schema.name)")
dbutils.widgets.text("labels_table", "ml.churn.labels", "Labels table")
dbutils.widgets.text("features_table", "ml.churn.customer_features", "Feature table")
dbutils.widgets.text("regularization", "1.0", "Inverse regularization strength C")

model_name = dbutils.widgets.get("model_name")
features_table = dbutils.widgets.get("features_table")

# COMMAND ----------

import mlflow
from databricks.feature_engineering import FeatureEngineeringClient, FeatureLookup

mlflow.set_registry_uri("databricks-uc")
mlflow.set_experiment(dbutils.widgets.get("experiment_name"))
fe = FeatureEngineeringClient()
labels = fe.read_table(name=dbutils.widgets.get("labels_table"))
display(labels)

# COMMAND ----------

# DBTITLE 1,Training set with feature lookups
training_set = fe.create_training_set(
    df=labels,
    feature_lookups=[FeatureLookup(table_name=features_table,
                                   feature_names=["total_purchases", "avg_order_value"],
                                   lookup_key="customer_id")],
    label="churned",
    exclude_columns=["customer_id"])
training_df = training_set.load_df()

# COMMAND ----------

# DBTITLE 1,Fit, log and register
from sklearn.linear_model import LogisticRegression

X, y = training_df.drop(columns=["churned"]), training_df["churned"]
with mlflow.start_run(run_name="train") as run:
    C = float(dbutils.widgets.get("regularization"))
    model = LogisticRegression(C=C).fit(X, y)
    mlflow.log_param("C", C)
    mlflow.log_metric("train_accuracy", float((model.predict(X) == y).mean()))
    fe.log_model(model=model, artifact_path="model", flavor=mlflow.sklearn,
                 training_set=training_set, registered_model_name=model_name,
                 pip_requirements=["scikit-learn"])

# COMMAND ----------

# DBTITLE 1,Hand the new version to the next tasks
versions = mlflow.MlflowClient().search_model_versions(f"name='{model_name}'")
model_version = max(int(v.version) for v in versions)
model_uri = f"models:/{model_name}/{model_version}"
dbutils.jobs.taskValues.set("model_uri", model_uri)
dbutils.jobs.taskValues.set("model_name", model_name)
dbutils.jobs.taskValues.set("model_version", model_version)
dbutils.jobs.taskValues.set("run_id", run.info.run_id)
dbutils.notebook.exit(model_uri)
