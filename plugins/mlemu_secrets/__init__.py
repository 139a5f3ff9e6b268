"""Example mlemu plugin: the Databricks Secrets API (scopes and secrets)."""
from __future__ import annotations

from mlemu.server.hookspecs import hookimpl


@hookimpl
def mlemu_services():  # type: ignore[no-untyped-def]
    from mlemu_secrets.routes import SERVICE
    return [SERVICE]
