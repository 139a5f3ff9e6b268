"""The one application both transports call: match the route, authenticate, validate,
run the handler under the workspace lock, render the answer or the error, journal it."""
from __future__ import annotations

import json
import traceback
import typing
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import parse_qs, unquote

from mlemu.server.core.errors import ApiError
from mlemu.server.core.journal import Call, LazyJson
from mlemu.server.wire.jsonenc import dumps
from mlemu.server.wire.matcher import DynamicRoutes
from mlemu.server.wire.request import Reply, Request
from mlemu.server.wire.routing import Route

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

Answer = tuple[int, dict[str, str], bytes]

_JSON = "application/json"

#: Appended to ENDPOINT_NOT_FOUND: the endpoint may exist on Databricks, mlemu just does not answer it.
NOT_EMULATED_HINT = ("mlemu does not emulate this endpoint; the emulated endpoints and client calls "
                     "are listed in docs/coverage.md (`mlemu coverage`).")


class App:
    """Routes for every registered service, compiled once per process."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self.routes: list[Route] = list(routes)
        self._static: dict[tuple[str, str], Route] = {}
        dynamic: list[tuple[str, str, int]] = []
        for i, r in enumerate(self.routes):
            if r.is_static:
                self._static[(r.method, r.rule)] = r
            else:
                dynamic.append((r.method, r.rule, i))
        self._dynamic = DynamicRoutes(dynamic)
        self._list_fields: dict[type, frozenset[str]] = {}
        #: Static GET routes with a fixed answer, by path (see :meth:`fixed_answer`).
        self.fixed: dict[str, Route] = {r.rule: r for r in self.routes
                                        if r.fixed is not None and r.method == "GET" and r.is_static}

    # -- routing ---------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Route, dict[str, Any]]:
        route = self._static.get((method, path))
        if route is None and path.endswith("/") and len(path) > 1:
            route = self._static.get((method, path.rstrip("/")))
        if route is not None:
            return route, {}
        found = self._dynamic.match(method, path)
        if found is not None:
            return self.routes[found[0]], found[1]
        raise ApiError("ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'. {NOT_EMULATED_HINT}")

    # -- dispatch --------------------------------------------------------------------------
    @staticmethod
    def fixed_answer(ws: "WorkspaceState", route: Route, base_url: str) -> Answer:
        """What :meth:`handle` answers a plain GET of a route with a fixed answer (no query
        string, no fault, not journalled), made without a request: the same status, headers
        and bytes (``tests/server/wire/test_app.py`` compares them)."""
        return 200, {"x-databricks-org-id": ws.workspace_id, "content-type": _JSON}, route.fixed(ws, base_url)

    def handle(self, ws: "WorkspaceState", method: str, raw_path: str, query_string: str,
               headers: Mapping[str, str], body: bytes, base_url: str,
               raise_internal: bool = False) -> Answer:
        """Answer one request. ``headers`` must have lower-case names."""
        method = method.upper()
        path = unquote(raw_path) if "%" in raw_path else raw_path
        query = parse_qs(query_string, keep_blank_values=True) if query_string else {}
        req = Request(ws, method, path, query, headers, body, base_url)
        operation = "unknown"
        try:
            try:
                route, path_args = self.match(method, path)
            except ApiError:
                ws.authenticate(headers.get("authorization"))  # Databricks checks the token first
                raise
            operation = route.operation
            if route.auth:
                ws.authenticate(headers.get("authorization"))
            req.path_args = path_args
            req.args = self._validate(route, req)
            if route.locked:
                with ws.lock:
                    result = route.handler(req, **path_args)
            else:
                result = route.handler(req, **path_args)
            status, out_headers, out_body, journal_body = self._render(ws, result)
        except ApiError as e:
            status, out_headers, out_body, journal_body = self._render_error(ws, e)
        except Exception as e:  # a bug in mlemu, never the client's fault
            ws.internal_errors.append(traceback.format_exc())
            if raise_internal:
                ws.calls.record(Call(method, path, operation, _journal_request(req), 500, None))
                raise
            err = ApiError("INTERNAL_ERROR", f"mlemu internal error: {type(e).__name__}: {e}")
            status, out_headers, out_body, journal_body = self._render_error(ws, err)
        if method == "HEAD":
            # No body, but the length GET would send (a handler may state it for raw files).
            out_headers.setdefault("content-length", str(len(out_body)))
            out_body = b""
        if ws.calls.keeps(operation):
            ws.calls.record(Call(method, path, operation, _journal_request(req), status, journal_body))
        return status, out_headers, out_body

    def _validate(self, route: Route, req: Request) -> Any:
        model = route.body
        if model is None:
            return None
        fields = self._list_fields.get(model)
        if fields is None:
            fields = self._list_fields[model] = _list_fields_of(model)
        params = req.raw_params(fields)
        try:
            return model.model_validate(params)
        except Exception as e:
            from pydantic import ValidationError  # imported on a refusal only, not per request
            if isinstance(e, ValidationError):
                raise validation_error(e) from None
            raise

    @staticmethod
    def _render(ws: "WorkspaceState", result: Any) -> tuple[int, dict[str, str], bytes, Any]:
        headers = {"x-databricks-org-id": ws.workspace_id}
        if isinstance(result, Reply):
            headers.update(result.headers)
            return result.status, headers, result.body, result.journal_body
        if result is None:
            result = {}
        headers["content-type"] = _JSON
        body = dumps(result)
        return 200, headers, body, LazyJson(body)  # the journal keeps bytes, not the tree

    @staticmethod
    def _render_error(ws: "WorkspaceState", e: ApiError) -> tuple[int, dict[str, str], bytes, Any]:
        body = e.to_wire()
        headers = {"content-type": _JSON, "x-databricks-org-id": ws.workspace_id, **e.headers}
        return e.status, headers, dumps(body), body


def _journal_request(req: Request) -> Any:
    if req.method in ("GET", "HEAD"):
        return {k: v[0] if len(v) == 1 else v for k, v in req.query.items()} or None
    j = req._json
    if isinstance(j, (dict, list)):
        return LazyJson(req.body)  # parsed again only if a test reads it
    return None


def _list_fields_of(model: type) -> frozenset[str]:
    names = set()
    for name, f in model.model_fields.items():  # type: ignore[attr-defined]
        origin = typing.get_origin(f.annotation)
        if origin in (list, tuple, set) or (
                origin is typing.Union and any(typing.get_origin(a) is list for a in typing.get_args(f.annotation))):
            names.add(f.alias or name)
    return frozenset(names)


def validation_error(e: Any) -> ApiError:
    """A refused request body in the words of Databricks' (and mlflow's) servers: the request's
    own field path (``metrics[0].key``), never pydantic's wording or internal names."""
    err = e.errors(include_url=False)[0]
    loc = tuple(err.get("loc", ()))
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if err.get("type") == "proto3_type" and "field" in ctx:  # WireArgs' check names the field
        loc, value = loc + (ctx["field"],), ctx.get("value")
    path = _param_path(loc)
    if err.get("type") == "missing" or value is None:
        return ApiError("INVALID_PARAMETER_VALUE", f"Missing value for required parameter '{path}'.")
    shown = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    if len(shown) > 200:  # a 1 MB value is not echoed back
        shown = shown[:200] + "..."
    return ApiError("INVALID_PARAMETER_VALUE",
                    f"Invalid value {shown} for parameter '{path}' supplied: {_reason(err, value)} "
                    "See the API docs for more information about request parameters.")


def _param_path(loc: Iterable[Any]) -> str:
    """``("metrics", 0, "key")`` -> ``metrics[0].key``, the protobuf field-path notation."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not isinstance(part, str) or part.startswith(("function-", "list[", "dict[", "union[")):
            continue  # pydantic's own markers for validators and union members
        else:
            out += f".{part}" if out else part
    return out or "body"


_RANGE_TYPES = frozenset({"greater_than", "greater_than_equal", "less_than", "less_than_equal"})


def _reason(err: Mapping[str, Any], value: Any) -> str:
    kind = err.get("type", "")
    if kind == "value_error":  # our own validators' sentences
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
    if kind in _RANGE_TYPES:
        return "Value is out of range."
    if kind == "enum" or kind == "literal_error":
        return f"Value must be one of {err.get('ctx', {}).get('expected', 'the documented values')}."
    return f"Hint: Value was of type '{type(value).__name__}'."
