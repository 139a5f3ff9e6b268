"""mlflow_artifacts service (being built)."""
