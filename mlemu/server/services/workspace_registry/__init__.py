"""The workspace model registry (registry URI ``databricks``)."""
