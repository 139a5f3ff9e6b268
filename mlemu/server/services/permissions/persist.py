"""The permissions service's state as data (exports and ``--state-dir`` checkpoints,
docs/persistence.md).

Schema (``permissions``)::

    {"grants": [{"object_type": segment, "object_id": id, "grants": [Grant...]}]}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import dump_as, field, load_as
from mlemu.server.services.permissions.state import Grant, Permissions

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "permissions"


def dump(state: Permissions) -> dict[str, Any]:
    return {"grants": [{"object_type": t, "object_id": i, "grants": dump_as(list[Grant], g)}
                       for (t, i), g in state._grants.items()]}


def load(ws: "WorkspaceState", data: Any) -> Permissions:
    state = Permissions(ws)
    for n, raw in enumerate(field(data, "grants", list, WHERE)):
        where = f"{WHERE}.grants[{n}]"
        key = (field(raw, "object_type", str, where), field(raw, "object_id", str, where))
        state._grants[key] = load_as(list[Grant], field(raw, "grants", list, where), f"{where}.grants")
    return state
