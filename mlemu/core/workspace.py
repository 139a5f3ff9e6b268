"""The Workspace: all state of one emulated Databricks workspace, behind one lock."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlemu.core.clock import Clock
from mlemu.core.errors import ApiError
from mlemu.core.ids import IdGenerator
from mlemu.core.journal import Journal

if TYPE_CHECKING:
    from mlemu.core.storage import Storage
    from mlemu.wire.app import App


@dataclass(frozen=True)
class User:
    """The workspace's current user, as SCIM ``Me`` shows it."""

    id: str
    user_name: str
    display_name: str

    @property
    def home(self) -> str:
        return f"/Users/{self.user_name}"


class Workspace:
    """One emulated Databricks workspace.

    State is per instance (no globals): every service's state is created on first use and
    reached as an attribute (``ws.tracking``, ``ws.workspace_files``...). Requests reach it
    in-process (:meth:`start`) or through a loopback server (:func:`mlemu.serve`).
    """

    def __init__(self, *, seed: int = 0, workspace_id: str = "1234567890123456",
                 user_name: str = "user@company.com", token: str | None = None,
                 host: str | None = None, artifact_root: str | None = None) -> None:
        self.lock = threading.RLock()
        self.ids = IdGenerator(seed)
        self.clock = Clock()
        self.calls = Journal()
        self.workspace_id = str(workspace_id)
        self.user = User(id=self.ids.numeric(16), user_name=user_name,
                         display_name=user_name.split("@")[0])
        self.token = token or "dapi" + self.ids.hex(32)
        self.tokens: set[str] = {self.token}
        self.host = (host or f"https://dbc-{self.workspace_id}.mlemu.invalid").rstrip("/")
        self.artifact_root = artifact_root
        self.internal_errors: list[str] = []
        self._storage: "Storage | None" = None
        from mlemu import plugins
        self.app: "App" = plugins.app()
        self._service_names = plugins._services
        plugins.manager().hook.mlemu_workspace_created(workspace=self)

    def __repr__(self) -> str:
        return f"<mlemu.Workspace {self.host} id={self.workspace_id}>"

    def __getattr__(self, name: str) -> Any:
        # Only called for missing attributes: create a service's state on first use.
        services = self.__dict__.get("_service_names")
        service = services.get(name) if services else None
        if service is None or service.state is None:
            raise AttributeError(f"{type(self).__name__!s} has no attribute or service {name!r}")
        with self.lock:
            if name not in self.__dict__:
                self.__dict__[name] = service.state(self)
        return self.__dict__[name]

    # -- auth ------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> None:
        """Check a bearer token; refuse before any state is touched."""
        if not authorization:
            raise ApiError("UNAUTHENTICATED",
                           "Credential was not sent or was of an unsupported type for this API.", 401)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.tokens:
            raise ApiError("PERMISSION_DENIED", "Invalid access token.", 403)

    def add_token(self, token: str | None = None) -> str:
        """Issue another valid personal access token (e.g. for a second client)."""
        token = token or "dapi" + self.ids.hex(32)
        self.tokens.add(token)
        return token

    # -- storage ---------------------------------------------------------------------------
    @property
    def storage(self) -> "Storage":
        """Bytes of files, artifacts and DBFS: in memory, or under ``artifact_root``."""
        if self._storage is None:
            from mlemu.core.storage import Storage
            with self.lock:
                if self._storage is None:
                    self._storage = Storage(self.clock, self.artifact_root)
        return self._storage

    # -- in-process transport --------------------------------------------------------------
    def start(self, hermetic: bool = True) -> "Workspace":
        """Answer requests to :attr:`host` in-process (patches ``requests``)."""
        from mlemu.transport import inprocess
        inprocess.activate(self, hermetic=hermetic)
        return self

    def stop(self) -> None:
        from mlemu.transport import inprocess
        inprocess.deactivate(self)

    def __enter__(self) -> "Workspace":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def handle(self, method: str, path: str, query_string: str = "",
               headers: dict[str, str] | None = None, body: bytes = b"",
               base_url: str | None = None, raise_internal: bool = False) -> tuple[int, dict[str, str], bytes]:
        """Answer one request directly (what both transports call)."""
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        return self.app.handle(self, method, path, query_string, hdrs, body,
                               base_url or self.host, raise_internal)
