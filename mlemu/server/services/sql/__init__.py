"""Databricks SQL: warehouses, statement execution and SEA sessions over a sqlglot + DuckDB engine."""
