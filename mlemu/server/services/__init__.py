"""Built-in services, one package per Databricks service, each with:

* ``state.py``  - domain state and rules (no HTTP),
* ``wire.py``   - pydantic request models and response shapes (when the service has them),
* ``routes.py`` - the RouteTable mapping (method, path) to handlers, and ``SERVICE``.

They are registered like any third-party plugin, through the ``mlemu_services`` hook.
"""
from __future__ import annotations

import importlib

from mlemu.server.hookspecs import hookimpl

BUILTIN = (
    "iam",               # /.well-known/databricks-config, SCIM Me
    "workspace_files",   # /api/2.0/workspace/*
    "tracking",          # /api/2.0/mlflow/experiments|runs|metrics|logged-models
    "mlflow_artifacts",  # /api/2.0/mlflow/artifacts/*, logged-model artifact credentials
    "files",             # /api/2.0/fs/* and presigned URLs
    "dbfs",              # /api/2.0/dbfs/*, /dbfs/<path>
    "unity_catalog",     # /api/2.1/unity-catalog/catalogs|schemas|tables
    "registry",          # /api/2.0/mlflow/unity-catalog/*, /api/2.1/unity-catalog/models
    "serving",           # /api/2.0/serving-endpoints/*, /serving-endpoints/<name>/invocations
    "workspace_registry",  # /api/2.0/mlflow/registered-models|model-versions|transition-requests/*
    "permissions",       # /api/2.0/permissions/<object type>/<id>
    "ui",                # /graphql, /get-artifact, /ajax-api/... paths only the MLflow web UI calls
    "monitors",          # /api/2.1/unity-catalog/tables/<name>/monitor, /api/data-quality/v1/monitors
    "tracing",           # /api/{2,3}.0/mlflow/traces/* (traces in experiments, assessments)
    "prompts",           # /api/2.0/mlflow/unity-catalog/prompts|prompt-versions/*
    "tracing_uc",        # /api/4.0|5.0/mlflow/traces|tracing/*, /api/2.0/otel/v1/traces
    "sql",               # /api/2.0/sql/warehouses|statements|sessions
    "jobs",              # /api/2.2|2.1|2.0/jobs/* (Lakeflow Jobs)
)


@hookimpl
def mlemu_services():  # type: ignore[no-untyped-def]
    return [importlib.import_module(f"mlemu.server.services.{name}.routes").SERVICE for name in BUILTIN]
