"""registry service (being built)."""
