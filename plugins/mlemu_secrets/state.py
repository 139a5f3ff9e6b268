"""Secret scopes and their secrets. Values are never listed, only their keys."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mlemu.server.core.errors import ApiError, already_exists, invalid, not_found

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
MAX_SECRETS_PER_SCOPE = 1000
MAX_VALUE_BYTES = 128 * 1024


class Secrets:
    def __init__(self, ws: "WorkspaceState") -> None:
        self._ws = ws
        self._scopes: dict[str, dict[str, tuple[bytes, int]]] = {}

    def create_scope(self, scope: str) -> None:
        if not _NAME.match(scope or ""):
            raise invalid(f"Scope name '{scope}' is invalid. Names may contain letters, digits, "
                          "'-', '_' and '.', and be at most 128 characters.")
        if scope in self._scopes:
            raise already_exists(f"Scope {scope} already exists!")
        self._scopes[scope] = {}

    def delete_scope(self, scope: str) -> None:
        self._scope(scope)
        del self._scopes[scope]

    def scopes(self) -> list[str]:
        return sorted(self._scopes)

    def put(self, scope: str, key: str, value: bytes) -> None:
        secrets = self._scope(scope)
        if not _NAME.match(key or ""):
            raise invalid(f"Secret key '{key}' is invalid.")
        if len(value) > MAX_VALUE_BYTES:
            raise invalid(f"Secret value exceeds the maximum size of {MAX_VALUE_BYTES} bytes.")
        if key not in secrets and len(secrets) >= MAX_SECRETS_PER_SCOPE:
            raise ApiError("RESOURCE_EXHAUSTED", f"Scope {scope} holds {MAX_SECRETS_PER_SCOPE} secrets.")
        secrets[key] = (value, self._ws.clock.now_ms())

    def get(self, scope: str, key: str) -> bytes:
        secrets = self._scope(scope)
        if key not in secrets:
            raise not_found(f"Failed to get secret {key} for scope {scope}.")
        return secrets[key][0]

    def delete(self, scope: str, key: str) -> None:
        secrets = self._scope(scope)
        if secrets.pop(key, None) is None:
            raise not_found(f"No such secret {key} in scope {scope}.")

    def keys(self, scope: str) -> list[tuple[str, int]]:
        return sorted((k, ts) for k, (_, ts) in self._scope(scope).items())

    def _scope(self, scope: str) -> dict[str, tuple[bytes, int]]:
        if scope not in self._scopes:
            raise not_found(f"Scope {scope} does not exist!")
        return self._scopes[scope]
