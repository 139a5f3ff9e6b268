"""MLflow artifact credentials and listings; ``locations.artifact_storage`` maps artifact URIs to storage."""
