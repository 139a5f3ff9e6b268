"""``${...}`` references of a bundle's configuration: ``${var.name}`` (and
``${variables.name.value}``), ``${bundle.target}``, ``${bundle.name}``, ``${bundle.git.*}``,
``${workspace.*}`` (``current_user.userName``, ``current_user.short_name``, ``root_path``,
``file_path``...) and ``${resources.<type>.<key>.<field>}``, as the Databricks CLI resolves them.

A string that is exactly one reference takes the referenced value as it is (a complex
variable's mapping); references inside longer strings are replaced by their text. An unknown
reference is an error naming it.
"""
from __future__ import annotations

import re
from typing import Any, Callable

_REF = re.compile(r"\$\{([a-zA-Z_][\w\-]*(?:\.[\w\-]+|\[\d+\])*)\}")

Lookup = Callable[[list[str]], Any]


class BundleError(Exception):
    """A bundle mlemu cannot load: its message names the file, key or reference at fault."""


class Missing(Exception):
    """A reference whose value is not known yet (a resource not created yet)."""


def parts(path: str) -> list[str]:
    return [p for p in re.split(r"\.|\[(\d+)\]", path) if p]


def has_refs(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value and _REF.search(value) is not None
    if isinstance(value, dict):
        return any(has_refs(v) for v in value.values())
    if isinstance(value, list):
        return any(has_refs(v) for v in value)
    return False


def resolve(value: Any, lookup: Lookup, *, partial: bool = False) -> Any:
    """``value`` with its references replaced. ``partial``: references whose lookup raises
    :class:`Missing` stay as they are (resolved in a later pass)."""
    if isinstance(value, dict):
        return {k: resolve(v, lookup, partial=partial) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, lookup, partial=partial) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _REF.fullmatch(value)
    if whole:
        try:
            return lookup(parts(whole.group(1)))
        except Missing:
            if partial:
                return value
            raise

    def one(m: re.Match[str]) -> str:
        try:
            found = lookup(parts(m.group(1)))
        except Missing:
            if partial:
                return m.group(0)
            raise
        if isinstance(found, (dict, list)):
            raise BundleError(f"${{{m.group(1)}}} is a complex value and cannot be part of the string {value!r}")
        return _text(found)

    return _REF.sub(one, value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def walk(tree: Any, path: list[str]) -> Any:
    """``tree`` at ``path`` (mapping keys and list indexes); :class:`KeyError` when absent."""
    node = tree
    for p in path:
        if isinstance(node, dict) and p in node:
            node = node[p]
        elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            raise KeyError(".".join(path))
    return node
