"""Request bodies parse exactly as ``json.loads`` parses them (values and refusals), through
the shortcut for UTF-8 objects too; the REST front end's own checks (depth, lone surrogates)."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlemu.server.core.errors import ApiError
from mlemu.server.core.json_body import MAX_JSON_DEPTH, parse_json

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
_trees = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=5), inner, max_size=4), max_leaves=20)


def _stdlib(body: bytes) -> tuple[str, object]:
    try:
        return "ok", json.loads(body)
    except ValueError as e:
        return "refused", str(e)[:200]


def _ours(body: bytes) -> tuple[str, object]:
    try:
        return "ok", parse_json(body)
    except ApiError as e:
        assert (e.code, e.status) == ("MALFORMED_REQUEST", 400)
        return "refused", e.message.removeprefix("Invalid JSON given in the body of the request - ")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _trees, max_size=5), st.sampled_from(["utf-8", "utf-16", "utf-32"]),
       st.booleans())
def test_an_object_body_parses_as_json_loads_parses_it(tree, encoding, ascii_only):
    body = json.dumps(tree, ensure_ascii=ascii_only).encode(encoding)  # no lone surrogates
    assert _ours(body) == _stdlib(body) == ("ok", tree)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40).map(lambda b: b"{" + b))
def test_a_malformed_object_body_is_refused_with_json_loads_words(body):
    expected = _stdlib(body)
    if expected[0] == "refused":
        assert _ours(body) == expected


def test_the_front_ends_own_refusals():
    with pytest.raises(ApiError, match="nesting deeper"):
        parse_json(b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(ApiError, match="lone UTF-16 surrogate"):
        parse_json(b'{"a": "\\ud800"}')
    assert parse_json(b'{"a": "\\ud83d\\ude00"}') == {"a": "\U0001F600"}
    assert parse_json(b'{"a": NaN}')["a"] != parse_json(b'{"a": NaN}')["a"]  # NaN, as json.loads
