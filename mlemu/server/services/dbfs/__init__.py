"""DBFS: the JSON API (``/api/2.0/dbfs``) and the legacy raw proxy (``/dbfs/<path>``)."""
