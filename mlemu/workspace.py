"""``mlemu.Workspace``: a workspace's state wired to every registered service, the routing
app that answers for it, and the in-process transport (``start``/``stop``, ``with ws:``).

This is the composition root: it sits above core state, the wire layer, the plugin
registry and the transports, none of which import it.
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from mlemu.server import plugins
import mlemu.standins.job_tasks as job_tasks
from mlemu.toolkit import control, persistence, virtual_clock
from mlemu.server.core.faults import ConnectionDropped, Fault
from mlemu.server.core.journal import Call, LazyJson, check_operation
from mlemu.server.core.workspace import User, WorkspaceState
from mlemu.server.transport import LowerCaseHeaders, inprocess

if TYPE_CHECKING:
    from mlemu.toolkit.persistence import Snapshot
    from mlemu.server.wire.app import App

__all__ = ["Workspace", "User"]


def _register_builtin_plugins() -> None:
    """The client-side stand-ins the server finds through hooks (the job task runners), as
    plugins of every workspace: registered here, not by entry point, so a checkout that was
    never installed (or installed before they existed) runs job tasks too."""
    manager = plugins.manager()
    if not manager.is_registered(job_tasks):
        plugins.register(job_tasks, name="mlemu.standins.job_tasks")


class Workspace(WorkspaceState):
    """One emulated Databricks workspace.

    State is per instance (no globals). Requests reach it in-process (:meth:`start`, or
    ``with ws:``) or through a loopback server (:func:`mlemu.serve`).
    """

    def __init__(self, **kwargs: Any) -> None:
        _register_builtin_plugins()
        self.app: "App" = plugins.app()
        factories = {name: s.state for name, s in plugins.services().items() if s.state is not None}
        super().__init__(state_factories=factories, **kwargs)
        self.hooks = plugins.manager().hook
        self.calls.known_operations = self.operations
        self.faults.validate = self._check_operation
        #: Snapshots the control plane took (``POST /__mlemu__/snapshots``), by id.
        self.snapshots: dict[str, "Snapshot"] = {}
        #: Where ``POST /__mlemu__/export`` may write (``mlemu serve --export-dir``); None refuses.
        self.export_dir: str | None = None
        self.hooks.mlemu_workspace_created(workspace=self)
        self._init_kwargs = dict(kwargs)  # what reset() rebuilds from (a snapshot here costs every test)

    # -- operations and faults -------------------------------------------------------------
    def operations(self) -> frozenset[str]:
        """Every journal operation name a route of this workspace has (plus ``unknown``)."""
        ops = self.__dict__.get("_operations")
        if ops is None:
            ops = self.__dict__["_operations"] = frozenset(r.operation for r in self.app.routes) | {"unknown"}
        return ops

    def _check_operation(self, operation: str) -> None:
        check_operation(operation, self.operations())

    def inject_fault(self, operation: str | None = None, **options: Any) -> Fault:
        """Make matching requests fail: ``ws.inject_fault("tracking.runs.log_batch", status=429,
        retry_after=0, times=2)``. Options: ``path``, ``method``, ``status``, ``error_code``,
        ``message``, ``retry_after``, ``delay``, ``drop``, ``times``, ``fraction``
        (see :mod:`mlemu.server.core.faults`)."""
        return self.faults.add(operation, **options)

    # -- snapshots and exports -------------------------------------------------------------
    def snapshot(self) -> "Snapshot":
        """The whole state now (services, files and artifacts, ids, clock), to :meth:`restore`."""
        return persistence.snapshot(self, share=True)

    def restore(self, snap: "Snapshot") -> None:
        """Put the workspace back to ``snap`` (the journal and fault rules stay as they are)."""
        persistence.restore(self, snap)

    def reset(self) -> None:
        """Back to the state right after construction (plugins' ``mlemu_workspace_created``
        seeding included); the journal, faults and control-plane snapshots are cleared."""
        persistence.restore(self, persistence.snapshot(type(self)(**self._init_kwargs)))
        self.calls.clear()
        self.faults.clear()
        self.snapshots.clear()

    def export(self, path: str | os.PathLike[str]) -> str:
        """Write the workspace to ``path`` (docs/persistence.md); :meth:`load` reads it back."""
        return persistence.export(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **kwargs: Any) -> "Workspace":
        """A workspace with the state of the export at ``path``. ``kwargs`` (e.g. ``token``,
        ``artifact_root``) go to the constructor; its identity comes from the export. An old
        (pickle) or malformed file raises :class:`mlemu.toolkit.persistence.UnreadableExport`."""
        archive = persistence.read_export(path)  # refuses pickles and malformed files
        ident = archive.manifest["workspace"]
        kwargs.setdefault("workspace_id", ident["workspace_id"])
        kwargs.setdefault("user_name", ident["user_name"])
        kwargs.setdefault("seed", ident.get("seed") or 0)
        kwargs.setdefault("host", ident.get("host"))
        ws = cls(**kwargs)
        persistence.restore_data(ws, archive)
        if kwargs.get("token"):  # a token asked for is accepted beside the export's own
            ws.tokens.add(ws.token)
        return ws

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
        assessments (:mod:`mlemu.server.services.tracing.views`): those of one experiment, or all of
        them including the traces kept in Unity Catalog locations."""
        from mlemu.server.services.tracing.views import trace_views
        uc = self.tracing_uc.with_spans() if experiment_id is None else []
        return trace_views(self.tracing, experiment_id, uc)

    def handle(self, method: str, path: str, query_string: str = "",
               headers: dict[str, str] | None = None, body: bytes = b"",
               base_url: str | None = None, raise_internal: bool = False) -> tuple[int, dict[str, str], bytes]:
        """Answer one request directly (what both transports call). ``headers`` may use
        any case; the app sees lower-case names. ``raise_internal`` is the in-process
        transport's call: its caller waits, so job runs the request started run here, before
        the answer returns (the loopback server's runs go to a worker thread)."""
        fixed = self.app.fixed.get(path)
        if (fixed is not None and method == "GET" and not query_string and not self.faults
                and not self.calls.keeps(fixed.operation) and not self.hooks.mlemu_request_seen.get_hookimpls()):
            # The SDK's probe, half of all requests: what the app would answer, without a request.
            return self.app.fixed_answer(self, fixed, base_url or self.host)
        if headers.__class__ is LowerCaseHeaders:  # the in-process transport lower-cased them
            hdrs: dict[str, str] = headers  # type: ignore[assignment]
        else:
            hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        if path.startswith(control.PREFIX):
            return control.handle(self, method.upper(), path, query_string, hdrs, body)
        if self.faults:
            answer = self._apply_fault(method.upper(), path, query_string, body)
            if answer is not None:
                return answer
        answer = self.app.handle(self, method, path, query_string, hdrs, body,
                                 base_url or self.host, raise_internal)
        jobs = self.__dict__.get("jobs")
        if jobs is not None:  # job runs this request started: here in-process, else on a worker
            jobs.after_request(base_url or self.host, inline=raise_internal)
        seen = self.hooks.mlemu_request_seen
        if seen.get_hookimpls():
            seen(workspace=self, method=method.upper(), path=path,
                 operation=self._operation_of(method.upper(), path), status=answer[0])
        return answer

    def _operation_of(self, method: str, path: str) -> str:
        try:
            return self.app.match(method, path)[0].operation
        except Exception:  # no route: the journal says "unknown" too
            return "unknown"

    def _apply_fault(self, method: str, path: str, query_string: str,
                     body: bytes) -> tuple[int, dict[str, str], bytes] | None:
        """Fire the fault this request picks, if any: sleep, then drop the connection or
        answer its error (journalled like any answer); None lets the request through."""
        operation = self._operation_of(method, path)
        fault = self.faults.pick(method, path, operation)
        if fault is None:
            return None
        if fault.delay:
            virtual_clock.sleep_on(self.clock, fault.delay)  # instant under virtual time
        if not fault.drop and fault.status is None:
            return None
        request: Any = LazyJson(body) if body[:1] in (b"{", b"[") else None
        if fault.drop:
            self.calls.record(Call(method, path, operation, request, 0, None))
            raise ConnectionDropped(f"mlemu dropped the connection of {method} {path} (a fault rule)")
        error = fault.error_body()
        self.calls.record(Call(method, path, operation, request, int(fault.status or 500), error))
        headers = {"content-type": "application/json", "x-databricks-org-id": self.workspace_id,
                   **fault.headers()}
        return int(fault.status or 500), headers, json.dumps(error).encode()
