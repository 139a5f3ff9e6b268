"""Plugin hooks (pluggy), in the style of pytest's own hook specifications.

A plugin is any module or object with ``@hookimpl`` functions, registered through the
``mlemu`` entry-point group or :func:`mlemu.server.plugins.register`. Built-in services are
plugins too (``mlemu.server.services``).
"""
from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("mlemu")
hookimpl = pluggy.HookimplMarker("mlemu")


@hookspec
def mlemu_services():  # type: ignore[no-untyped-def]
    """Return a list of :class:`mlemu.server.plugins.Service` to add to every workspace.

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


@hookspec
def mlemu_workspace_seeded(workspace, spec, entities):  # type: ignore[no-untyped-def]
    """Called after :meth:`mlemu.toolkit.builders.Builders.seed` created what a seeding file describes:
    ``spec`` is the file's mapping, ``entities`` what was made, by kind."""


@hookspec
def mlemu_request_seen(workspace, method, path, operation, status):  # type: ignore[no-untyped-def]
    """Called after the workspace answered a request (both transports), with the journal
    operation name and the HTTP status: count, log or assert on traffic from a plugin."""


@hookspec
def mlemu_model_loaded(workspace, endpoint_name, entity_name, entity_version):  # type: ignore[no-untyped-def]
    """Called when a serving endpoint has loaded a served entity's model."""


@hookspec
def mlemu_model_predicted(workspace, endpoint_name, entity_name, status):  # type: ignore[no-untyped-def]
    """Called after a served entity answered an invocation, with the HTTP status."""


@hookspec
def mlemu_job_task_runners():  # type: ignore[no-untyped-def]
    """Return ``{task kind: runner}`` for job tasks that run client code (``notebook_task``,
    ``spark_python_task``...): a runner takes a :class:`mlemu.server.services.jobs.tasks.TaskInvocation`
    and returns a ``TaskResult`` (or raises ``TaskFailed``). ``mlemu.standins.job_tasks``
    implements it; the first plugin naming a kind wins."""
