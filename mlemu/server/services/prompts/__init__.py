"""Prompts registered in Unity Catalog (the mlflow 3 prompt registry on a databricks-uc registry URI)."""
