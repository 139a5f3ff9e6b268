"""Client-side stand-ins: Python where a Databricks client has no HTTP path to emulate. The
feature engineering clients (``feature_store``), local Spark over the workspace's tables
(``spark``) and a DB-API connection to its SQL engine (``sql``). They work on the active
workspace's domain state; ``import mlemu`` reaches them as ``mlemu.sql``, ``mlemu.feature_store``
and ``mlemu.spark``."""
