"""dbfs service (being built)."""
