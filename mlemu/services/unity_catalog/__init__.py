"""unity_catalog service (being built)."""
