# Databricks notebook source
dbutils.widgets.text("greeting", "")
dbutils.widgets.text("who", "nobody")
dbutils.widgets.text("extra", "")

# COMMAND ----------

message = f"{dbutils.widgets.get('greeting')} {dbutils.widgets.get('who')} {dbutils.widgets.get('extra')}".strip()
dbutils.jobs.taskValues.set("message", message)
dbutils.notebook.exit(message)
