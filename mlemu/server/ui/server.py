"""Serving a workspace with or without its UI: ``mlemu.serve(ws, ui=True)``, ``mlemu serve
--ui``, and one call for any :class:`mlemu.Workspace` (:func:`serve_ui`, :func:`run`)."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from mlemu.server.transport.server import LoopbackServer
from mlemu.server.transport.server import serve as serve_api
from mlemu.server.ui import bundle
from mlemu.server.ui.front import UiFront

if TYPE_CHECKING:
    from mlemu.workspace import Workspace


class UiServer(LoopbackServer):
    """A loopback server answering the workspace's API and its MLflow UI."""

    def __init__(self, workspace: "Workspace", host: str = "127.0.0.1", port: int = 0,
                 **options: Any) -> None:
        super().__init__(UiFront(workspace, bundle.build_dir()), host, port, **options)
        self.ws = workspace

    @property
    def login_url(self) -> str:
        """Opens the UI logged in (the ``?token=`` hop sets the cookie, then redirects to ``/``)."""
        return f"{self.public_url}/?token={quote(self.ws.token)}"


def serve(workspace: "Workspace", host: str = "127.0.0.1", port: int = 0, *, ui: bool = False,
          **options: Any) -> LoopbackServer:
    """Start a loopback server for ``workspace`` in a daemon thread and return it; with
    ``ui=True`` it also serves the MLflow UI (its ``login_url`` opens it)."""
    if ui:
        return serve_ui(workspace, host, port, **options)
    return serve_api(workspace, host, port, **options)


def serve_ui(workspace: "Workspace", host: str = "127.0.0.1", port: int = 0, **options: Any) -> UiServer:
    """The workspace's API and UI on a loopback port, in a daemon thread."""
    server = UiServer(workspace, host, port, **options)
    server.start()
    return server


def run(workspace: "Workspace", host: str = "127.0.0.1", port: int = 0, *, out: TextIO | None = None,
        **options: Any) -> int:
    """Serve ``workspace`` with its UI in this thread until Ctrl-C, after printing the login
    URL and the client environment (``mlemu serve --ui``; ``mlemu ui PATH``)."""
    out = out or sys.stdout
    server = UiServer(workspace, host, port, **options)
    workspace.host = server.public_url
    print(f"export DATABRICKS_HOST={server.public_url}", file=out, flush=True)
    print(f"export DATABRICKS_TOKEN={workspace.token}", file=out, flush=True)
    print(f"# MLflow UI (mlflow {bundle.version()}): {server.login_url}", file=out, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
