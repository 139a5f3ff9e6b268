"""MLflow tracing: traces stored in experiments, their span data and assessments."""
