"""The request a handler sees and the reply it may return, independent of transport."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from mlemu.server.core.errors import ApiError
from mlemu.server.core.journal import LazyJson
from mlemu.server.core.json_body import MAX_JSON_DEPTH, bad_json, check_json_tree, parse_json  # noqa: F401

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
                    raise bad_json("expected a map")
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


class _Unset:
    pass


_UNSET = _Unset()
