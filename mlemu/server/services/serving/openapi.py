"""``GET /api/2.0/serving-endpoints/{name}/openapi``: an OpenAPI 3.1 description of an
endpoint's invocation paths, with the request columns taken from each served model version's
signature (as Databricks generates it for custom models) [emu: a reduced document]."""
from __future__ import annotations

import json
from typing import Any, Callable

_JSON_TYPES = {"double": "number", "float": "number", "long": "integer", "integer": "integer",
               "boolean": "boolean", "string": "string", "binary": "string", "datetime": "string"}


def document(endpoint_name: str, entities: list[tuple[str, list[dict[str, Any]] | None]],
             host: str) -> dict[str, Any]:
    """``entities``: (served entity name, signature input columns or None)."""
    paths: dict[str, Any] = {}
    for name, inputs in entities:
        paths[f"/served-models/{name}/invocations"] = {"post": _operation(name, inputs)}
    if entities:
        paths["/invocations"] = {"post": _operation(entities[0][0], entities[0][1])}
    return {"openapi": "3.1.0",
            "info": {"title": endpoint_name, "version": "2"},
            "servers": [{"url": f"{host}/serving-endpoints/{endpoint_name}"}],
            "paths": paths}


def signature_inputs(read_mlmodel: Callable[[], dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The ``inputs`` column specs of an MLmodel's signature, or None."""
    try:
        sig = (read_mlmodel() or {}).get("signature") or {}
        inputs = sig.get("inputs")
        return json.loads(inputs) if isinstance(inputs, str) else None
    except Exception:  # an unreadable signature: describe the endpoint without columns
        return None


def _operation(name: str, inputs: list[dict[str, Any]] | None) -> dict[str, Any]:
    record: dict[str, Any] = {"type": "object"}
    if inputs:
        record["properties"] = {c.get("name", f"col{i}"): {"type": _JSON_TYPES.get(c.get("type"), "string")}
                                for i, c in enumerate(inputs)}
        record["required"] = [c["name"] for c in inputs if c.get("name") and c.get("required", True)]
    schema = {"type": "object", "properties": {
        "dataframe_records": {"type": "array", "items": record},
        "dataframe_split": {"type": "object", "properties": {
            "columns": {"type": "array", "items": {"type": "string"}},
            "data": {"type": "array", "items": {"type": "array"}}}},
        "instances": {"type": "array"}, "inputs": {}, "params": {"type": "object"}}}
    return {"operationId": f"{name}-invocations",
            "requestBody": {"content": {"application/json": {"schema": schema}}},
            "responses": {"200": {"description": "Successful operation", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"predictions": {}}}}}}}}
