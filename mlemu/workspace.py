"""``mlemu.Workspace``: a workspace's state wired to every registered service, the routing
app that answers for it, and the in-process transport (``start``/``stop``, ``with ws:``).

This is the composition root: it sits above core state, the wire layer, the plugin
registry and the transports, none of which import it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu import plugins
from mlemu.core.workspace import User, WorkspaceState
from mlemu.transport import inprocess

if TYPE_CHECKING:
    from mlemu.wire.app import App

__all__ = ["Workspace", "User"]


class Workspace(WorkspaceState):
    """One emulated Databricks workspace.

    State is per instance (no globals). Requests reach it in-process (:meth:`start`, or
    ``with ws:``) or through a loopback server (:func:`mlemu.serve`).
    """

    def __init__(self, **kwargs: Any) -> None:
        self.app: "App" = plugins.app()
        factories = {name: s.state for name, s in plugins.services().items() if s.state is not None}
        super().__init__(state_factories=factories, **kwargs)
        self.hooks = plugins.manager().hook
        self.hooks.mlemu_workspace_created(workspace=self)

    # -- in-process transport --------------------------------------------------------------
    def start(self, hermetic: bool = True, allow_hosts: tuple[str, ...] = ()) -> "Workspace":
        """Answer requests to :attr:`host` in-process (patches ``requests``); ``hermetic``
        blocks every other connection but to ``allow_hosts`` (``"name"`` or ``"name:port"``)."""
        inprocess.activate(self, hermetic=hermetic, allow_hosts=tuple(allow_hosts))
        return self

    def stop(self) -> None:
        inprocess.deactivate(self)

    def __enter__(self) -> "Workspace":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test views ------------------------------------------------------------------------
    def traces(self, experiment_id: str | None = None) -> list[Any]:
        """The MLflow traces kept in this workspace, oldest first, with their decoded spans and
        assessments (:mod:`mlemu.services.tracing.views`): those of one experiment, or all of
        them including the traces kept in Unity Catalog locations."""
        from mlemu.services.tracing.views import trace_views
        uc = self.tracing_uc.with_spans() if experiment_id is None else []
        return trace_views(self.tracing, experiment_id, uc)

    def handle(self, method: str, path: str, query_string: str = "",
               headers: dict[str, str] | None = None, body: bytes = b"",
               base_url: str | None = None, raise_internal: bool = False) -> tuple[int, dict[str, str], bytes]:
        """Answer one request directly (what both transports call). ``headers`` may use
        any case; the app sees lower-case names."""
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        return self.app.handle(self, method, path, query_string, hdrs, body,
                               base_url or self.host, raise_internal)
