"""Unity Catalog prompts as data (exports and ``--state-dir`` checkpoints, docs/persistence.md).

Schema (``prompts``)::

    {"prompts": [Prompt (its versions as {"<number>": PromptVersion})...]}
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlemu.server.core.persist import StateDataError, dump_as, field, load_as
from mlemu.server.services.prompts.state import Prompt, Prompts

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

WHERE = "prompts"


def dump(state: Prompts) -> dict[str, Any]:
    return {"prompts": dump_as(list[Prompt], list(state._prompts.values()))}


def load(ws: "WorkspaceState", data: Any) -> Prompts:
    state = Prompts(ws)
    for p in load_as(list[Prompt], field(data, "prompts", list, WHERE), f"{WHERE}.prompts"):
        key = (p.catalog, p.schema, p.name)
        if key in state._prompts:
            raise StateDataError(WHERE, f"prompt {p.full_name} appears twice")
        state._prompts[key] = p
    return state
