"""MLflow traces kept in Unity Catalog: trace locations, the V4 trace API and OTLP span ingest."""
