"""A Service: one emulated Databricks service as the plugin registry sees it (its routes, a
factory for its per-workspace state, and how that state is saved as data)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from mlemu.server.wire.routing import RouteTable

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState


@dataclass(frozen=True)
class Service:
    """One emulated Databricks service: its routes, and a factory for its per-workspace
    state (reached as ``workspace.<name>``; created on first use)."""

    name: str
    routes: RouteTable
    state: Callable[["WorkspaceState"], Any] | None = None
    description: str = ""
    #: How the state becomes data and back for exports and ``--state-dir`` (a module with
    #: ``dump(state)`` and ``load(ws, data)``: :class:`mlemu.server.core.persist.Persister`).
    persist: Any = None
