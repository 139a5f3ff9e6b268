"""Client-side stand-ins: Python where a Databricks client has no HTTP path to emulate. The
feature engineering clients (``feature_store``), local Spark over the workspace's tables
(``spark``), a DB-API connection to its SQL engine (``sql``) and the notebook runtime with
``dbutils`` (``notebooks``). They work on the active workspace's domain state; ``import mlemu``
reaches them as ``mlemu.sql``, ``mlemu.feature_store``, ``mlemu.spark`` and ``mlemu.notebooks``."""
