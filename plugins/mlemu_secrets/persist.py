"""Secret scopes as data, so exports and ``mlemu serve --state-dir`` keep them
(docs/persistence.md): ``{"scopes": {scope: [[key, base64 value, last updated ms]...]}}``.
Exports are written 0600: they hold the values."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import decode_bytes, encode_bytes, field, load_as
from mlemu_secrets.state import Secrets

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState


def dump(state: Secrets) -> dict[str, Any]:
    return {"scopes": {scope: [[k, encode_bytes(v), ts] for k, (v, ts) in secrets.items()]
                       for scope, secrets in state._scopes.items()}}


def load(ws: "WorkspaceState", data: Any) -> Secrets:
    state = Secrets(ws)
    for scope, entries in field(data, "scopes", dict, "secrets").items():
        where = f"secrets.scopes[{scope}]"
        rows = load_as(list[tuple[str, str, int]], entries, where)
        state._scopes[scope] = {k: (decode_bytes(v, where), ts) for k, v, ts in rows}
    return state
