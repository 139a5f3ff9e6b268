"""The control plane: drive a workspace from another process or language (``mlemu serve``)
under the reserved prefix ``/__mlemu__/`` (no Databricks path starts with it), with the
workspace's token; and :class:`ControlClient`, a small Python client for it.

    POST   /__mlemu__/reset                      back to the state at start; journal, faults cleared
    POST   /__mlemu__/snapshots                  -> {"snapshot_id"}
    POST   /__mlemu__/snapshots/{id}/restore
    DELETE /__mlemu__/snapshots/{id}
    GET    /__mlemu__/journal?offset=0&limit=100 -> {"calls": [...], "total", "next_offset"?}
    DELETE /__mlemu__/journal
    GET    /__mlemu__/faults                     -> {"faults": [{"fault_id", ...}]}
    POST   /__mlemu__/faults  {operation, path, method, status, error_code, message,
                               retry_after, delay, drop, times, fraction} -> {"fault_id"}
    DELETE /__mlemu__/faults  |  /__mlemu__/faults/{id}
    GET    /__mlemu__/clock                      -> {"now_ms", "frozen"}
    POST   /__mlemu__/clock   {"freeze_ms": N} | {"advance_seconds": S} | {"unfreeze": true}
    POST   /__mlemu__/export  {"path": "name.zip"}     under the server's export directory

Errors are Databricks-shaped JSON (``INVALID_PARAMETER_VALUE``, ``RESOURCE_DOES_NOT_EXIST``,
``MALFORMED_REQUEST``), never a dropped connection or an exception out of ``ws.handle``: clock
values outside :mod:`mlemu.server.core.clock`'s range are refused, bodies go through the REST
APIs' JSON checks (depth, surrogates), and exports are written only under the directory the
server was started with (``Workspace.export_dir``, ``mlemu serve --export-dir``; none: refused).
Control calls are not journalled and never hit faults.
"""
from __future__ import annotations

import json
import os
import re
import traceback
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import parse_qs

from mlemu.server.core.clock import check_ms, check_seconds
from mlemu.server.core.errors import ApiError
from mlemu.server.core.json_body import parse_json

if TYPE_CHECKING:
    from mlemu.workspace import Workspace

PREFIX = "/__mlemu__/"
_FAULT_FIELDS = ("operation", "path", "method", "status", "error_code", "message", "retry_after",
                 "delay", "drop", "times", "fraction")
_MAX_PAGE = 1000

Answer = tuple[int, dict[str, str], bytes]


def handle(ws: "Workspace", method: str, path: str, query_string: str, headers: dict[str, str],
           body: bytes) -> Answer:
    """Answer one control-plane request (what ``Workspace.handle`` calls for the prefix)."""
    try:
        ws.authenticate(headers.get("authorization"))
        payload = parse_json(body) if body.strip() else {}
        if not isinstance(payload, dict):
            raise ApiError("MALFORMED_REQUEST", "The request body must be a JSON object.")
        query = {k: v[-1] for k, v in parse_qs(query_string).items()}
        result = _dispatch(ws, method, path[len(PREFIX):].strip("/"), query, payload)
        return 200, {"content-type": "application/json"}, json.dumps(result or {}).encode()
    except ApiError as e:
        return e.status, {"content-type": "application/json"}, json.dumps(e.to_wire()).encode()
    except Exception as e:  # an mlemu bug: the same JSON 500 as the REST APIs give, never a raise
        ws.internal_errors.append(traceback.format_exc())
        err = ApiError("INTERNAL_ERROR", f"mlemu internal error: {type(e).__name__}: {e}", 500)
        return 500, {"content-type": "application/json"}, json.dumps(err.to_wire()).encode()


def _int(value: Any, name: str, default: int) -> int:
    if value is None:
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ApiError("INVALID_PARAMETER_VALUE", f"{name} must be an integer, not {value!r}.") from None
    if n < 0:
        raise ApiError("INVALID_PARAMETER_VALUE", f"{name} must be >= 0.")
    return n


def _dispatch(ws: "Workspace", method: str, route: str, query: dict[str, str],
              payload: dict[str, Any]) -> Any:
    if (method, route) == ("POST", "reset"):
        ws.reset()
        return {}
    if (method, route) == ("POST", "snapshots"):
        sid = f"s{len(ws.snapshots) + 1}"
        while sid in ws.snapshots:
            sid += "x"
        ws.snapshots[sid] = ws.snapshot()
        return {"snapshot_id": sid}
    m = re.fullmatch(r"snapshots/([^/]+)(/restore)?", route)
    if m and ((method == "POST" and m.group(2)) or (method == "DELETE" and not m.group(2))):
        snap = ws.snapshots.get(m.group(1))
        if snap is None:
            raise ApiError("RESOURCE_DOES_NOT_EXIST", f"No snapshot {m.group(1)!r}.")
        if method == "DELETE":
            del ws.snapshots[m.group(1)]
        else:
            ws.restore(snap)
        return {}
    if route == "journal" and method == "GET":
        offset = _int(query.get("offset"), "offset", 0)
        limit = min(_int(query.get("limit"), "limit", 100), _MAX_PAGE)
        calls = list(ws.calls)
        page = calls[offset:offset + limit]
        out: dict[str, Any] = {"calls": [_call(c) for c in page], "total": len(calls)}
        if offset + limit < len(calls):
            out["next_offset"] = offset + limit
        return out
    if route == "journal" and method == "DELETE":
        ws.calls.clear()
        return {}
    if route == "faults":
        if method == "GET":
            return {"faults": [{"fault_id": i, **f.to_dict()} for i, f in _fault_ids(ws)]}
        if method == "DELETE":
            ws.faults.clear()
            return {}
        if method == "POST":
            unknown = sorted(set(payload) - set(_FAULT_FIELDS))
            if unknown:
                raise ApiError("INVALID_PARAMETER_VALUE", f"Unknown fault fields: {unknown}.")
            try:
                fault = ws.faults.add(**payload)
            except (ValueError, TypeError) as e:
                raise ApiError("INVALID_PARAMETER_VALUE", str(e)) from None
            return {"fault_id": next(i for i, f in _fault_ids(ws) if f is fault)}
    m = re.fullmatch(r"faults/(\d+)", route)
    if m and method == "DELETE":
        for i, f in _fault_ids(ws):
            if i == int(m.group(1)):
                f.remove()
                return {}
        raise ApiError("RESOURCE_DOES_NOT_EXIST", f"No fault {m.group(1)}.")
    if route == "clock":
        if method == "POST":
            _set_clock(ws, payload)
        if method in ("GET", "POST"):
            return {"now_ms": ws.clock.now_ms(), "frozen": ws.clock._pinned_ms is not None}
    if (method, route) == ("POST", "export"):
        target = export_target(ws.export_dir, payload.get("path"))
        try:
            return {"path": ws.export(target)}
        except OSError as e:
            raise ApiError("INVALID_PARAMETER_VALUE", f"Cannot write the export to {target}: "
                           f"{e.strerror or e}.") from None
    raise ApiError("ENDPOINT_NOT_FOUND", f"No control-plane API for '{method} {PREFIX}{route}'.", 404)


def _set_clock(ws: "Workspace", payload: dict[str, Any]) -> None:
    """Validate every clock field before changing anything (a refused call changes nothing)."""
    unknown = sorted(set(payload) - {"freeze_ms", "advance_seconds", "unfreeze"})
    if unknown:
        raise ApiError("INVALID_PARAMETER_VALUE", f"Unknown clock fields: {unknown}.")
    try:
        freeze = check_ms(payload["freeze_ms"], "freeze_ms") if "freeze_ms" in payload else None
        advance = (check_seconds(payload["advance_seconds"], "advance_seconds")
                   if "advance_seconds" in payload else None)
    except ValueError as e:
        raise ApiError("INVALID_PARAMETER_VALUE", str(e)) from None
    unfreeze = payload.get("unfreeze", False)
    if not isinstance(unfreeze, bool):
        raise ApiError("INVALID_PARAMETER_VALUE", f"unfreeze must be true or false, not {unfreeze!r}.")
    saved = (ws.clock._pinned_ms, ws.clock._offset_ms)
    try:
        if freeze is not None:
            ws.clock.freeze(freeze)
        if advance is not None:
            ws.clock.advance(advance)
    except ValueError as e:  # out of range once applied: put the clock back as it was
        ws.clock._pinned_ms, ws.clock._offset_ms = saved
        raise ApiError("INVALID_PARAMETER_VALUE", str(e)) from None
    if unfreeze:
        ws.clock.unfreeze()


def export_target(export_dir: str | None, path: Any) -> str:
    """Where ``POST /__mlemu__/export`` may write ``path``: a file name (or relative path)
    under ``export_dir``, or an absolute path that resolves (symbolic links followed) inside
    it; never an existing directory. Without an export directory every export is refused."""
    if export_dir is None:
        raise ApiError("INVALID_PARAMETER_VALUE", "Exports through the control plane are off: start the "
                       "server with --export-dir DIR (Workspace.export_dir) to allow them under DIR.")
    if not isinstance(path, str) or not path.strip() or "\0" in path:
        raise ApiError("INVALID_PARAMETER_VALUE", "path must be a file name under the export directory.")
    root = os.path.realpath(export_dir)
    target = os.path.realpath(os.path.join(root, path))
    if os.path.commonpath([root, target]) != root or target == root:
        raise ApiError("INVALID_PARAMETER_VALUE", f"path {path!r} is outside the export directory {root}.")
    if os.path.isdir(target):
        raise ApiError("INVALID_PARAMETER_VALUE", f"path {path!r} is a directory; name a file.")
    if not os.path.isdir(os.path.dirname(target)):
        raise ApiError("INVALID_PARAMETER_VALUE", f"The directory of {path!r} does not exist under {root}.")
    return target


def _fault_ids(ws: "Workspace") -> Iterator[tuple[int, Any]]:
    """Faults with stable ids: their position among every fault the workspace was given."""
    registry: dict[int, int] = ws.__dict__.setdefault("_fault_ids", {})
    for f in ws.faults:
        if id(f) not in registry:
            registry[id(f)] = len(registry) + 1
        yield registry[id(f)], f


def _call(c: Any) -> dict[str, Any]:
    return {"method": c.method, "path": c.path, "operation": c.operation, "status": c.status,
            "request": c.request, "response": c.response}


class ControlClient:
    """A small client for the control plane of a served workspace.

        ctl = ControlClient.from_env()            # DATABRICKS_HOST / DATABRICKS_TOKEN
        ctl.add_fault("tracking.runs.log_batch", status=429, retry_after=0, times=1)
        snap = ctl.snapshot(); ...; ctl.restore(snap)
        [c["operation"] for c in ctl.calls()]
    """

    def __init__(self, host: str, token: str, timeout: float = 30.0) -> None:
        import requests

        self.base = host.rstrip("/") + PREFIX.rstrip("/")
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout

    @classmethod
    def from_env(cls) -> "ControlClient":
        return cls(os.environ["DATABRICKS_HOST"], os.environ["DATABRICKS_TOKEN"])

    def _call(self, method: str, route: str, body: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None) -> Any:
        resp = self._session.request(method, f"{self.base}/{route}", json=body, params=params,
                                     timeout=self.timeout)
        data = resp.json() if resp.content else {}
        if resp.status_code >= 400:
            raise ApiError(data.get("error_code", "INTERNAL_ERROR"), data.get("message", resp.text),
                           resp.status_code)
        return data

    def reset(self) -> None:
        self._call("POST", "reset")

    def snapshot(self) -> str:
        return str(self._call("POST", "snapshots")["snapshot_id"])

    def restore(self, snapshot_id: str) -> None:
        self._call("POST", f"snapshots/{snapshot_id}/restore")

    def delete_snapshot(self, snapshot_id: str) -> None:
        self._call("DELETE", f"snapshots/{snapshot_id}")

    def calls(self, offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Every journalled call from ``offset`` on, fetched ``limit`` at a time."""
        out: list[dict[str, Any]] = []
        next_offset: int | None = offset
        while next_offset is not None:
            page = self._call("GET", "journal", params={"offset": next_offset, "limit": limit})
            out += page["calls"]
            next_offset = page.get("next_offset")
        return out

    def clear_calls(self) -> None:
        self._call("DELETE", "journal")

    def add_fault(self, operation: str | None = None, **options: Any) -> int:
        body = {"operation": operation, **options} if operation is not None else dict(options)
        return int(self._call("POST", "faults", body)["fault_id"])

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "faults")["faults"])

    def remove_fault(self, fault_id: int) -> None:
        self._call("DELETE", f"faults/{fault_id}")

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def clock(self) -> dict[str, Any]:
        return dict(self._call("GET", "clock"))

    def freeze(self, epoch_ms: int) -> dict[str, Any]:
        return dict(self._call("POST", "clock", {"freeze_ms": epoch_ms}))

    def advance(self, seconds: float) -> dict[str, Any]:
        return dict(self._call("POST", "clock", {"advance_seconds": seconds}))

    def unfreeze(self) -> dict[str, Any]:
        return dict(self._call("POST", "clock", {"unfreeze": True}))

    def export(self, path: str) -> str:
        return str(self._call("POST", "export", {"path": path})["path"])
