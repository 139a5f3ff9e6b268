"""``dbutils.secrets`` over the Secrets API plugin (``plugins/mlemu_secrets``) of the workspace.

The plugin keeps scopes and secrets as domain state (``ws.secrets``); without it registered
every call says how to add it. Values read here are remembered by the run so its recorded
output shows ``[REDACTED]`` in their place, as Databricks redacts secrets in notebook output.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Callable

from mlemu.server.core.errors import ApiError
from mlemu.standins.notebooks.errors import NotEmulated, SecretError


class SecretScope(namedtuple("SecretScope", ["name"])):
    def getName(self) -> str:
        return self.name


SecretMetadata = namedtuple("SecretMetadata", ["key"])

NO_PLUGIN = ("dbutils.secrets needs the Secrets API, which mlemu ships as a plugin: "
             "pip install ./plugins/mlemu_secrets (or mlemu.server.plugins.register(mlemu_secrets)) "
             "before the workspace is created")


class SecretsUtil:
    """``dbutils.secrets`` of one notebook run; ``seen`` receives every value read."""

    def __init__(self, workspace: Callable[[], Any], seen: Callable[[bytes], None]) -> None:
        self._workspace = workspace
        self._seen = seen

    def _state(self) -> tuple[Any, Any]:
        ws = self._workspace()
        try:
            return ws, ws.secrets
        except AttributeError:
            raise NotEmulated(NO_PLUGIN) from None

    def getBytes(self, scope: str, key: str) -> bytes:
        """The secret's value as bytes."""
        ws, secrets = self._state()
        with ws.lock:
            try:
                value = bytes(secrets.get(scope, key))
            except ApiError:
                raise SecretError(f"Secret does not exist with scope: {scope} and key: {key}") from None
        self._seen(value)
        return value

    def get(self, scope: str, key: str) -> str:
        """The secret's value as a string (UTF-8)."""
        return self.getBytes(scope, key).decode("utf-8")

    def list(self, scope: str) -> list[SecretMetadata]:
        """The keys of a scope's secrets (never their values)."""
        ws, secrets = self._state()
        with ws.lock:
            try:
                return [SecretMetadata(k) for k, _ in secrets.keys(scope)]
            except ApiError:
                raise SecretError(f"Scope {scope} does not exist!") from None

    def listScopes(self) -> list[SecretScope]:
        """Every secret scope of the workspace."""
        ws, secrets = self._state()
        with ws.lock:
            return [SecretScope(s) for s in secrets.scopes()]

    def help(self, method: str = "") -> None:
        print("dbutils.secrets (emulated): get, getBytes, list, listScopes")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotEmulated(f"dbutils.secrets.{name} is not emulated by mlemu (emulated: get, getBytes, "
                          "list, listScopes)")
