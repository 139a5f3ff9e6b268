"""The state of one emulated Databricks workspace, behind one lock: identity, ids, clock,
journal, storage, tokens, and each service's state (created on first use).

This layer knows no HTTP, transport or plugin registry: the services whose state it holds
are handed in as factories (:class:`mlemu.Workspace` wires in every registered service).
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping

from mlemu.server.core.clock import Clock
from mlemu.server.core.errors import ApiError
from mlemu.server.core.faults import FaultSet
from mlemu.server.core.ids import IdGenerator
from mlemu.server.core.journal import Journal, JournalSize

if TYPE_CHECKING:
    from mlemu.server.core.storage import Storage

#: A service's state factory: called once per workspace, on first use of ``ws.<name>``.
StateFactory = Callable[["WorkspaceState"], Any]


@dataclass(frozen=True)
class User:
    """The workspace's current user, as SCIM ``Me`` shows it."""

    id: str
    user_name: str
    display_name: str

    @property
    def home(self) -> str:
        return f"/Users/{self.user_name}"


class WorkspaceState:
    """All state of one emulated Databricks workspace (no globals).

    Every service's state is created on first use and reached as an attribute
    (``ws.tracking``, ``ws.workspace_files``...), from the ``state_factories`` given.
    """

    def __init__(self, *, seed: int = 0, workspace_id: str = "1234567890123456",
                 user_name: str = "user@company.com", token: str | None = None,
                 host: str | None = None, artifact_root: str | None = None,
                 secret: bytes | None = None, journal_size: JournalSize = None,
                 state_factories: Mapping[str, StateFactory] | None = None) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.ids = IdGenerator(seed)
        self.clock = Clock()
        self.calls = Journal(journal_size)
        #: Injected failures (:mod:`mlemu.server.core.faults`); ``ws.faults.add(...)``.
        self.faults = FaultSet(seed)
        self.workspace_id = str(workspace_id)
        self.user = User(id=self.ids.numeric(16), user_name=user_name,
                         display_name=user_name.split("@")[0])
        self.token = token or "dapi" + self.ids.hex(32)
        self.tokens: set[str] = {self.token}
        #: Tokens chosen by the caller (not drawn from the seed): still accepted once exposed.
        self._chosen_tokens: set[str] = {token} if token else set()
        #: None in-process; once :meth:`expose` ran, exactly the tokens accepted.
        self._exposed_tokens: set[str] | None = None
        self._derived_secret = secret is None
        self.host = (host or f"https://dbc-{self.workspace_id}.mlemu.invalid").rstrip("/")
        # Signs pre-signed URLs. Derived from the seed by default, so in-process tests see the
        # same URLs on every run; ``mlemu serve`` passes a random one (nothing to guess).
        self.secret: bytes = secret if secret is not None else hashlib.sha256(
            f"mlemu-presign:{seed}:{self.workspace_id}".encode()).digest()
        self.artifact_root = artifact_root
        self.internal_errors: list[str] = []
        self._storage: "Storage | None" = None
        self._state_factories: Mapping[str, StateFactory] = dict(state_factories or {})
        #: Plugin hooks services may call (pluggy's ``HookRelay``; None without a registry).
        self.hooks: Any = None
        #: Bumped by :meth:`note_change` (reads that move state on).
        self.read_changes = 0
        #: Run background work (SQL statements) inside the request that starts it, to its end: a
        #: ``--state-dir`` server sets it, so the state a replay rebuilds does not depend on timing.
        self.inline_work = False

    def __repr__(self) -> str:
        return f"<mlemu.Workspace {self.host} id={self.workspace_id}>"

    def __getattr__(self, name: str) -> Any:
        # Only called for missing attributes: create a service's state on first use.
        factories = self.__dict__.get("_state_factories")
        factory = factories.get(name) if factories else None
        if factory is None:
            raise AttributeError(f"{type(self).__name__!s} has no attribute or service {name!r}")
        with self.lock:
            if name not in self.__dict__:
                self.__dict__[name] = factory(self)
        return self.__dict__[name]

    def note_change(self) -> None:
        """A read (a poll) moved state on: a ``--state-dir`` server must log that request, as
        it logs every write, or a restart would not rebuild what the client saw."""
        self.read_changes += 1

    # -- auth ------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> None:
        """Check a bearer token; refuse before any state is touched."""
        if not authorization:
            raise ApiError("UNAUTHENTICATED",
                           "Credential was not sent or was of an unsupported type for this API.", 401)
        if "," in authorization:  # two Authorization headers, joined by the transport
            raise ApiError("BAD_REQUEST", "More than one Authorization header was sent.", 400)
        scheme, _, token = authorization.partition(" ")
        accepted = self.tokens if self._exposed_tokens is None else self._exposed_tokens
        if scheme.lower() != "bearer" or token.strip() not in accepted:
            # Databricks' answer to a bad token: 403, the number as error_code, and the reason
            # repeated in a header.
            raise ApiError("PERMISSION_DENIED", "Invalid access token.", 403, wire_code=403,
                           headers={"x-databricks-reason-phrase": "Invalid access token."})

    def add_token(self, token: str | None = None) -> str:
        """Issue another valid personal access token (e.g. for a second client): ``token``, or
        one drawn from the seed (random once the workspace is :meth:`expose` d)."""
        if token:
            self._chosen_tokens.add(token)
        elif self._exposed_tokens is not None:
            token = "dapi" + secrets.token_hex(16)
        else:
            token = "dapi" + self.ids.hex(32)
        self.tokens.add(token)
        if self._exposed_tokens is not None:
            self._exposed_tokens.add(token)
        return token

    # -- exposure --------------------------------------------------------------------------
    @property
    def exposed(self) -> bool:
        """Whether :meth:`expose` ran (the workspace is, or was, reachable over a socket)."""
        return self._exposed_tokens is not None

    def expose(self) -> None:
        """Make the workspace safe to reach from other processes; the loopback server calls
        this before it listens. A token or URL-signing secret drawn from the seed is the same
        for everyone who knows the seed (any local process can compute it), so each is replaced
        by a random one, and from then on exactly these tokens are accepted (in-process too):
        :attr:`token`, tokens the caller chose (``Workspace(token=...)``, ``add_token("...")``)
        and tokens :meth:`add_token` issues later; a restored snapshot does not change that.
        A workspace never exposed keeps its deterministic token and secret."""
        if self._exposed_tokens is not None:
            return
        if self.token not in self._chosen_tokens:
            self.token = "dapi" + secrets.token_hex(16)
            self.tokens.add(self.token)
        if self._derived_secret:
            self.secret = secrets.token_bytes(32)
            self._derived_secret = False
        self._exposed_tokens = {self.token} | self._chosen_tokens

    # -- storage ---------------------------------------------------------------------------
    @property
    def storage(self) -> "Storage":
        """Bytes of files, artifacts and DBFS: in memory, or under ``artifact_root``."""
        if self._storage is None:
            from mlemu.server.core.storage import Storage
            with self.lock:
                if self._storage is None:
                    self._storage = Storage(self.clock, self.artifact_root)
        return self._storage
