"""Spark SQL type text -> the UC column description (``type_name``, ``type_json``) of the
metric tables' columns, so their schemas are declared in one place as SQL text."""
from __future__ import annotations

import json
from typing import Any

from mlemu.server.services.unity_catalog.state import Column

_PRIMITIVE = {"string": ("STRING", "string"), "int": ("INT", "integer"), "bigint": ("LONG", "long"),
              "double": ("DOUBLE", "double"), "float": ("FLOAT", "float"), "boolean": ("BOOLEAN", "boolean"),
              "date": ("DATE", "date"), "timestamp": ("TIMESTAMP", "timestamp")}


def _split_top(text: str) -> list[str]:
    """Split ``a:int,b:struct<x:int,y:int>`` at top-level commas."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "<"
        depth -= ch == ">"
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def spark_type(text: str) -> Any:
    """The Spark JSON type of a SQL type text (``array<double>``, ``struct<a:int>``...)."""
    text = text.strip()
    if text in _PRIMITIVE:
        return _PRIMITIVE[text][1]
    head, _, inner = text.partition("<")
    inner = inner[:-1]
    if head == "array":
        return {"type": "array", "elementType": spark_type(inner), "containsNull": True}
    if head == "map":
        key, value = _split_top(inner)
        return {"type": "map", "keyType": spark_type(key), "valueType": spark_type(value),
                "valueContainsNull": True}
    if head == "struct":
        fields = []
        for f in _split_top(inner):
            name, _, ftype = f.partition(":")
            fields.append({"name": name, "type": spark_type(ftype), "nullable": True, "metadata": {}})
        return {"type": "struct", "fields": fields}
    raise ValueError(f"unsupported type text {text!r}")


def type_name(text: str) -> str:
    text = text.strip()
    if text in _PRIMITIVE:
        return _PRIMITIVE[text][0]
    return text.partition("<")[0].upper()


def columns(schema: list[tuple[str, str]]) -> list[Column]:
    """UC columns of ``[(name, sql type text), ...]``."""
    return [Column(name, type_name(text), text,
                   json.dumps({"name": name, "type": spark_type(text), "nullable": True, "metadata": {}}), i)
            for i, (name, text) in enumerate(schema)]
