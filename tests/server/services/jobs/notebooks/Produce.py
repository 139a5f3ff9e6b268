# Databricks notebook source
# MAGIC %md
# MAGIC Produces a value for the next task and shows a frame.

# COMMAND ----------

dbutils.widgets.text("size", "3")
dbutils.widgets.text("label", "none")
size = int(dbutils.widgets.get("size"))

# COMMAND ----------

import pandas as pd
frame = pd.DataFrame({"i": range(size)})
display(frame)
dbutils.jobs.taskValues.set("rows", size)
dbutils.jobs.taskValues.set("label", dbutils.widgets.get("label"))
ctx = dbutils.notebook.entry_point.getDbutils().notebook().getContext()
print("path", ctx.notebookPath().get(), "task", ctx.tags().get("taskKey").get())
dbutils.notebook.exit(f"made {size}")
