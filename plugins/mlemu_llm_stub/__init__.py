"""mlemu plugin: answers for served entities mlemu cannot run locally (foundation models such
as ``system.ai.*`` and external models), in the OpenAI-compatible shapes Databricks serves:
chat (``messages``), completions (``prompt``) and embeddings (``input``).

By default it echoes: a chat answer repeats the last user message, a completion repeats the
prompt, an embedding is a deterministic vector of the input's hash. Canned answers replace
the echo for one endpoint:

    import mlemu.server.plugins, mlemu_llm_stub
    mlemu.server.plugins.register(mlemu_llm_stub)
    mlemu_llm_stub.canned(ws, "chat-endpoint", "Paris is the capital of France.")
"""
from __future__ import annotations

import hashlib
from typing import Any

from mlemu.server.hookspecs import hookimpl

EMBEDDING_SIZE = 8


def canned(workspace: Any, endpoint_name: str, text: str) -> None:
    """Make ``endpoint_name`` answer ``text`` to every chat or completion request."""
    workspace.__dict__.setdefault("_llm_stub_canned", {})[endpoint_name] = text


@hookimpl
def mlemu_serving_invoke(workspace, endpoint_name, entity, request):  # type: ignore[no-untyped-def]
    model = entity.get("entity_name") or (entity.get("external_model") or {}).get("name") or entity["name"]
    text = workspace.__dict__.get("_llm_stub_canned", {}).get(endpoint_name)
    created = workspace.clock.now_ms() // 1000
    rid = f"chatcmpl-{workspace.ids.hex(24)}"
    if "messages" in request:
        users = [m.get("content", "") for m in request["messages"] if m.get("role") == "user"]
        content = text if text is not None else (users[-1] if users else "")
        return {"id": rid, "object": "chat.completion", "created": created, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}],
                "usage": _usage(" ".join(users), content)}
    if "prompt" in request:
        prompt = request["prompt"] if isinstance(request["prompt"], str) else " ".join(request["prompt"])
        content = text if text is not None else prompt
        return {"id": rid, "object": "text_completion", "created": created, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop", "text": content}],
                "usage": _usage(prompt, content)}
    if "input" in request:
        inputs = request["input"] if isinstance(request["input"], list) else [request["input"]]
        return {"object": "list", "model": model,
                "data": [{"object": "embedding", "index": i, "embedding": _vector(str(x))}
                         for i, x in enumerate(inputs)],
                "usage": _usage(" ".join(map(str, inputs)), "")}
    return None


def _usage(prompt: str, completion: str) -> dict[str, int]:
    p, c = len(prompt.split()), len(completion.split())
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _vector(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 255.0, 6) for b in digest[:EMBEDDING_SIZE]]
