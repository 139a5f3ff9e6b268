"""tracking service (being built)."""
