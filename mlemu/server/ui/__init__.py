"""The MLflow web UI over an emulated workspace: the UI's static files from the user's own
``mlflow`` wheel, a ``?token=`` login, and the ``/ajax-api/`` view of the REST routes, in
front of a :class:`mlemu.Workspace` (``mlemu serve --ui``, ``mlemu.serve(ws, ui=True)``).

Serving the UI for any workspace is one call: :func:`mlemu.server.ui.server.serve_ui` (a running
server in a thread) or :func:`mlemu.server.ui.server.run` (the CLI: print the login URL, serve until
Ctrl-C).
"""
