"""MLflow tracking service: experiments, runs, metrics and logged models (``ws.tracking``)."""
