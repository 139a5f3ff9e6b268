"""Example mlemu plugin: a per-workspace traffic log from the observation hooks.

``mlemu_request_seen`` counts every answered request by operation and status,
``mlemu_model_loaded`` / ``mlemu_model_predicted`` record what serving endpoints loaded and
answered, ``mlemu_workspace_seeded`` remembers what a seeding file made. Read it back with
``traffic(ws)``::

    from mlemu_traffic_log import traffic
    assert traffic(mlemu).requests["tracking.runs.log-batch", 200] == 3
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from mlemu.server.hookspecs import hookimpl


@dataclass
class Traffic:
    requests: Counter = field(default_factory=Counter)      # (operation, status) -> count
    models_loaded: list[tuple[Any, Any, Any]] = field(default_factory=list)
    predictions: list[tuple[Any, Any, int]] = field(default_factory=list)
    seeded: list[dict[str, int]] = field(default_factory=list)


def traffic(workspace: Any) -> Traffic:
    """The traffic log of ``workspace`` (created on first use)."""
    return workspace.__dict__.setdefault("_traffic_log", Traffic())


@hookimpl
def mlemu_workspace_created(workspace):  # type: ignore[no-untyped-def]
    traffic(workspace)


@hookimpl
def mlemu_request_seen(workspace, method, path, operation, status):  # type: ignore[no-untyped-def]
    traffic(workspace).requests[operation, status] += 1


@hookimpl
def mlemu_model_loaded(workspace, endpoint_name, entity_name, entity_version):  # type: ignore[no-untyped-def]
    traffic(workspace).models_loaded.append((endpoint_name, entity_name, entity_version))


@hookimpl
def mlemu_model_predicted(workspace, endpoint_name, entity_name, status):  # type: ignore[no-untyped-def]
    traffic(workspace).predictions.append((endpoint_name, entity_name, status))


@hookimpl
def mlemu_workspace_seeded(workspace, spec, entities):  # type: ignore[no-untyped-def]
    traffic(workspace).seeded.append({kind: len(made) for kind, made in entities.items() if made})
