"""files service (being built)."""
