"""Plugin hooks (pluggy), in the style of pytest's own hook specifications.

A plugin is any module or object with ``@hookimpl`` functions, registered through the
``mlemu`` entry-point group or :func:`mlemu.plugins.register`. Built-in services are
plugins too (``mlemu.services``).
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("mlemu")
hookimpl = pluggy.HookimplMarker("mlemu")


@hookspec
def mlemu_services():  # type: ignore[no-untyped-def]
    """Return a list of :class:`mlemu.plugins.Service` to add to every workspace.

    Called once per process, when the app is first built.
    """


@hookspec
def mlemu_workspace_created(workspace):  # type: ignore[no-untyped-def]
    """Called after a :class:`mlemu.Workspace` is constructed: seed state here."""


@hookspec(firstresult=True)
def mlemu_serving_invoke(workspace, endpoint_name, entity, request):  # type: ignore[no-untyped-def]
    """Answer an invocation of a served entity mlemu cannot run itself (an external or
    foundation model): return the JSON answer as a dict, or None to pass.

    ``entity`` is ``{"name", "entity_name", "entity_version", "external_model"}``;
    ``request`` the parsed JSON body (``messages``, ``prompt``, ``input``...).
    """
