"""Request bodies as JSON with the REST front end's checks (depth, lone surrogates, bad UTF-8):
in ``core`` because both the REST routes (``wire``) and the control plane (``toolkit``) parse
bodies this way, and the toolkit may not import the wire layer."""
from __future__ import annotations

import json
import re
from typing import Any

from mlemu.server.core.errors import ApiError

#: Deepest JSON nesting accepted. Request bodies of the Databricks APIs nest a few levels;
#: deeper input would only exhaust the interpreter's recursion limit further down.
MAX_JSON_DEPTH = 100
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_decode = json.JSONDecoder().decode  # json.loads' own decoder, settings as its defaults


def parse_json(body: bytes) -> Any:
    """A request body parsed as JSON, or a 400 BAD_REQUEST naming what is wrong with it."""
    try:
        if body[:1] == b"{" and body[1:2] != b"\x00":
            # What json.loads(bytes) does for an object in UTF-8 (its encoding detection reads
            # the first bytes), without the detection and call layers.
            value = _decode(body.decode("utf-8", "surrogatepass"))
        else:
            value = json.loads(body)
    except RecursionError:
        raise bad_json(f"nesting deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:  # also bad UTF-8 and integers over 4,300 digits
        raise bad_json(str(e)[:200]) from None
    check_json_tree(value, check_strings=_SURROGATE_ESCAPE.search(body) is not None,
                    may_be_deep=body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH)
    return value


def check_json_tree(value: Any, check_strings: bool, may_be_deep: bool) -> None:
    """Refuse a parsed body nested too deeply or holding a lone UTF-16 surrogate (a string
    that no UTF-8 encoder can write). Iterative: the input decides the depth."""
    if not (check_strings or may_be_deep):
        return
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            items: Any = node.values()
            if check_strings:
                for key in node:
                    _check_text(key)
        elif isinstance(node, list):
            items = node
        else:
            if check_strings and isinstance(node, str):
                _check_text(node)
            continue
        if depth > MAX_JSON_DEPTH:
            raise bad_json(f"nesting deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((child, depth + 1) for child in items)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise bad_json("a string holds a lone UTF-16 surrogate") from None


def bad_json(reason: str) -> ApiError:
    """Databricks' answer to a body that is not a JSON object: ``MALFORMED_REQUEST`` with HTTP 400,
    which neither client retries (the SDK maps it by status to ``BadRequest``)."""
    return ApiError("MALFORMED_REQUEST", f"Invalid JSON given in the body of the request - {reason}", 400)
