# Databricks notebook source
# MAGIC %md
# MAGIC # ModelDeployment
# MAGIC Makes the validated version the champion and serves it.

# COMMAND ----------

dbutils.widgets.text("env", "dev", "Environment")
dbutils.widgets.text("serving_endpoint", "", "Serving endpoint (empty: none)")
model_name = dbutils.jobs.taskValues.get("Train", "model_name", debugValue="ml.churn.churn_classifier")
model_version = str(dbutils.jobs.taskValues.get("Train", "model_version", debugValue=1))

# COMMAND ----------

import mlflow

client = mlflow.MlflowClient(registry_uri="databricks-uc")
client.set_registered_model_alias(model_name, "champion", model_version)

# COMMAND ----------

# DBTITLE 1,Serve the champion
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

endpoint = dbutils.widgets.get("serving_endpoint")
if endpoint:
    w = WorkspaceClient()
    entity = ServedEntityInput(entity_name=model_name, entity_version=model_version,
                               workload_size="Small", scale_to_zero_enabled=True)
    if endpoint in [e.name for e in w.serving_endpoints.list()]:
        w.serving_endpoints.update_config_and_wait(endpoint, served_entities=[entity])
    else:
        w.serving_endpoints.create_and_wait(name=endpoint, config=EndpointCoreConfigInput(
            name=endpoint, served_entities=[entity]))
dbutils.notebook.exit(f"champion={model_version}")
