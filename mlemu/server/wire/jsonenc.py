"""JSON encoding of every answer: byte-for-byte what ``json.dumps(obj, separators=(",", ":"),
check_circular=False)`` writes (``NaN``/``Infinity`` and float ``repr`` as the stdlib), faster.

The stdlib builds a C encoder on every ``dumps`` call; mlemu builds it once and calls it
directly (``json.encoder.c_make_encoder``, falling back to ``json.JSONEncoder`` where the C
accelerator is missing). Large pages are written from pre-encoded fragments
(:func:`string`, :func:`double`, :func:`join_page`) so they never become a tree of dicts; a
property test (``tests/server/wire/test_jsonenc.py``) checks both against the stdlib encoder.
"""
from __future__ import annotations

import json
import json.encoder as _stdlib
from typing import Any, Callable, Iterable

#: The stdlib's answer, the reference every fast path must equal.
REFERENCE = json.JSONEncoder(separators=(",", ":"), check_circular=False)

string: Callable[[str], str] = _stdlib.encode_basestring_ascii  # '"text"', ASCII-escaped as dumps does


def _make() -> Callable[[Any], str]:
    make = getattr(_stdlib, "c_make_encoder", None)
    if make is None:  # no C accelerator: the stdlib's own (pure-Python) path
        return REFERENCE.encode
    # (markers, default, encoder, indent, key_sep, item_sep, sort_keys, skipkeys, allow_nan):
    # the arguments JSONEncoder.iterencode passes for the options above.
    chunks = make(None, REFERENCE.default, string, None, ":", ",", False, False, True)

    def encode(obj: Any) -> str:
        if isinstance(obj, str):  # the stdlib's own shortcut for a bare string
            return string(obj)
        return "".join(chunks(obj, 0))

    return encode


encode: Callable[[Any], str] = _make()


def dumps(obj: Any) -> bytes:
    """``obj`` as compact JSON bytes (ASCII), as every emulated answer is written."""
    return encode(obj).encode()


_CONSTANTS = {None: "null", True: "true", False: "false"}


def value(v: Any) -> str:
    """``encode(v)``, quicker for the scalars pages are made of (str, int, float)."""
    t = type(v)
    if t is str:
        return string(v)
    if t is int:
        return int.__repr__(v)
    if t is float and v - v == 0:
        return float.__repr__(v)
    return encode(v)


def join_page(key: str, fragments: Iterable[str], token: str | None) -> bytes:
    """The bytes of ``page_body(key, items, token)`` (mlemu.server.wire.paging) whose items are
    already encoded: an empty page leaves ``key`` out, no token no ``next_page_token``."""
    items = ",".join(fragments)
    parts = ["{" + string(key) + ":[" + items + "]"] if items else ["{"]
    if token:
        parts.append(("," if items else "") + '"next_page_token":' + string(token))
    parts.append("}")
    return "".join(parts).encode()
