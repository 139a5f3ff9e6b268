"""The request a handler sees and the reply it may return, independent of transport."""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Mapping

from mlemu.server.core.errors import ApiError
from mlemu.server.core.journal import LazyJson

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState


class Request:
    """A parsed HTTP request. ``args`` holds the validated parameters (query string for
    GET, JSON body otherwise, merged with the query string), ``path_args`` the rule's
    variables."""

    __slots__ = ("ws", "method", "path", "query", "headers", "body", "path_args", "args",
                 "_json", "base_url")

    def __init__(self, ws: "WorkspaceState", method: str, path: str, query: Mapping[str, list[str]],
                 headers: Mapping[str, str], body: bytes, base_url: str) -> None:
        self.ws = ws
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers  # lower-cased names
        self.body = body
        self.base_url = base_url
        self.path_args: dict[str, Any] = {}
        self.args: Any = None
        self._json: Any = _UNSET

    def json(self) -> Any:
        """The body parsed as JSON (None when empty); a malformed body is a 400 BAD_REQUEST,
        and so is one nested deeper than :data:`MAX_JSON_DEPTH` or holding a lone surrogate."""
        if self._json is _UNSET:
            if not self.body or not self.body.strip():
                self._json = None
            else:
                self._json = parse_json(self.body)
        return self._json

    def raw_params(self, list_fields: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Query string (single values, unless the field is a list) merged with a JSON body."""
        params: dict[str, Any] = {
            k: (v if k in list_fields else v[0]) for k, v in self.query.items() if v}
        if self.method != "GET" and self.method != "HEAD":
            body = self.json()
            if body is not None:
                if not isinstance(body, dict):
                    raise _bad_json("expected a map")
                params.update(body)
        return params


class Reply:
    """A non-JSON or non-200 answer: raw bytes with headers (files, 204s, presigned PUTs)."""

    __slots__ = ("status", "body", "headers", "journal_body")

    def __init__(self, status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None,
                 journal_body: Any = None) -> None:
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.journal_body = journal_body

    @classmethod
    def json(cls, body: bytes) -> "Reply":
        """A 200 JSON answer already encoded (a large page written from fragments), answered
        and journalled exactly as the same dict returned by the handler would be."""
        return cls(200, body, {"content-type": "application/json"}, LazyJson(body))


#: Deepest JSON nesting accepted. Request bodies of the Databricks APIs nest a few levels;
#: deeper input would only exhaust the interpreter's recursion limit further down.
MAX_JSON_DEPTH = 100
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def parse_json(body: bytes) -> Any:
    """A request body parsed as JSON, or a 400 BAD_REQUEST naming what is wrong with it."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise _bad_json(f"nesting deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:  # also bad UTF-8 and integers over 4,300 digits
        raise _bad_json(str(e)[:200]) from None
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
            raise _bad_json(f"nesting deeper than {MAX_JSON_DEPTH} levels")
        stack.extend((child, depth + 1) for child in items)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad_json("a string holds a lone UTF-16 surrogate") from None


def _bad_json(reason: str) -> ApiError:
    """Databricks' answer to a body that is not a JSON object: ``MALFORMED_REQUEST`` with HTTP 400,
    which neither client retries (the SDK maps it by status to ``BadRequest``)."""
    return ApiError("MALFORMED_REQUEST", f"Invalid JSON given in the body of the request - {reason}", 400)


class _Unset:
    pass


_UNSET = _Unset()
