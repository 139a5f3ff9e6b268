"""A durable workspace for ``mlemu serve --state-dir DIR``: a write-ahead log of requests,
replayed over the last checkpoint when the server starts again.

Every request that can change state (any method but GET/HEAD, and a read that drew an id)
is appended to ``DIR/wal.log`` and fsynced *before* its answer is sent, so an answer a client
received is never lost, even to SIGKILL. Replay is exact because the workspace is
deterministic: ids come from the seeded generator, and each record carries the workspace
clock's reading, which replay pins while the request runs again. A record torn by a crash
(never acknowledged) ends the replay.

On start the server replays, then checkpoints: ``DIR/checkpoint-<seq>.zip`` (an export,
docs/persistence.md, covering the log up to ``seq``) is written, ``DIR/meta.json`` is
atomically switched to it, and only then are the old checkpoint and the log dropped.
``meta.json`` also keeps the workspace's identity, token and URL-signing secret, so clients
keep working across restarts. Fault rules and the journal are not state: they are not kept,
and a request a fault answered is not logged.

Layout: ``meta.json``, ``checkpoint-<seq>.zip``, ``wal.log``: records of
``<4-byte big-endian length><4-byte CRC-32><JSON>``, the JSON holding ``seq``, ``clock``
(``now_ms``, ``pinned_ms``, ``offset_ms``), ``method``, ``path``, ``query``, ``headers``,
``base_url`` and ``body`` (base64).
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import struct
import threading
import zlib
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from mlemu.workspace import Workspace

FORMAT_VERSION = 1
_HEAD = struct.Struct(">II")


def _write_atomic(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


def _fsync_dir(path: str) -> None:
    fd = os.open(path or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_records(path: str) -> list[dict[str, Any]]:
    """The whole records of a log, in order; a torn or corrupt tail is left out."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as fh:
        data = fh.read()
    out, pos = [], 0
    while pos + _HEAD.size <= len(data):
        length, crc = _HEAD.unpack_from(data, pos)
        body = data[pos + _HEAD.size: pos + _HEAD.size + length]
        if len(body) < length or zlib.crc32(body) != crc:
            break
        out.append(json.loads(body))
        pos += _HEAD.size + length
    return out


class DurableWorkspace:
    """What the loopback server answers with: the workspace, with every state-changing
    request logged durably before its answer leaves (see the module docstring)."""

    def __init__(self, ws: "Workspace", directory: str, next_seq: int) -> None:
        self.workspace = ws
        self.directory = directory
        self._lock = threading.Lock()
        self._seq = next_seq
        self._wal = open(os.path.join(directory, "wal.log"), "ab")

    @property
    def host(self) -> str:
        return self.workspace.host

    def handle(self, method: str, path: str, query_string: str = "",
               headers: dict[str, str] | None = None, body: bytes = b"",
               base_url: str | None = None, raise_internal: bool = False) -> tuple[int, dict[str, str], bytes]:
        ws = self.workspace
        if method.upper() in ("GET", "HEAD") and not ws.faults:
            draws = ws.ids.draws
            answer = ws.handle(method, path, query_string, headers, body, base_url, raise_internal)
            if ws.ids.draws == draws:
                return answer
            # a read that drew an id: rare; log it after the fact under the lock
        with self._lock:
            clock = {"now_ms": ws.clock.now_ms(), "pinned_ms": ws.clock._pinned_ms,
                     "offset_ms": ws.clock._offset_ms}
            hits = sum(f.hits for f in ws.faults)
            answer = ws.handle(method, path, query_string, headers, body, base_url, raise_internal)
            if (hits != sum(f.hits for f in ws.faults) and answer[0] >= 400) or _not_state(path):
                return answer
            record = {"seq": self._seq, "clock": clock, "method": method, "path": path,
                      "query": query_string, "headers": dict(headers or {}), "base_url": base_url,
                      "body": base64.b64encode(body).decode()}
            payload = json.dumps(record, sort_keys=True).encode()
            self._wal.write(_HEAD.pack(len(payload), zlib.crc32(payload)) + payload)
            self._wal.flush()
            os.fsync(self._wal.fileno())
            self._seq += 1
        return answer

    def close(self) -> None:
        self._wal.close()


def _not_state(path: str) -> bool:
    """Control-plane calls that change no workspace state (faults, the journal)."""
    return path.startswith(("/__mlemu__/faults", "/__mlemu__/journal"))


def replay(ws: "Workspace", records: list[dict[str, Any]], after_seq: int) -> int:
    """Apply logged requests with ``seq > after_seq`` to ``ws``; return the last seq seen."""
    last = after_seq
    clock = ws.clock
    for rec in records:
        if rec["seq"] <= after_seq:
            continue
        c = rec["clock"]
        clock._pinned_ms, clock._offset_ms = c["now_ms"], 0
        ws.handle(rec["method"], rec["path"], rec["query"], rec["headers"],
                  base64.b64decode(rec["body"]), rec["base_url"])
        last = rec["seq"]
        clock._pinned_ms, clock._offset_ms = c["pinned_ms"], c["offset_ms"]
    return last


def open_state_dir(directory: str, factory: Callable[..., "Workspace"], **kwargs: Any) -> DurableWorkspace:
    """The workspace kept in ``directory``: created (``kwargs`` go to ``factory``) or
    recovered (identity, token and secret from ``meta.json``; checkpoint, then the log),
    then checkpointed so the log starts empty."""
    from mlemu.toolkit import persistence

    os.makedirs(directory, exist_ok=True)
    meta_path = os.path.join(directory, "meta.json")
    wal = os.path.join(directory, "wal.log")
    if os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as fh:
            meta = json.load(fh)
        if meta.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{directory} was written by a newer mlemu (format {meta['format_version']})")
        kwargs.update(meta["workspace"])
        kwargs["secret"] = bytes.fromhex(meta["secret"])
    else:
        kwargs.setdefault("secret", secrets.token_bytes(32))
        meta = {"format_version": FORMAT_VERSION, "checkpoint_seq": 0, "checkpoint": None}
    ws = factory(**kwargs)
    meta["workspace"] = {"seed": ws.seed, "workspace_id": ws.workspace_id,
                         "user_name": ws.user.user_name, "token": ws.token}
    meta["secret"] = ws.secret.hex()
    covered = int(meta.get("checkpoint_seq", 0))
    old = meta.get("checkpoint")
    if old:
        persistence.restore_data(ws, persistence.read_export(os.path.join(directory, old)))
    last = replay(ws, read_records(wal), covered)
    # Checkpoint under a new name, then point meta.json at it (the atomic switch), then drop
    # the old one and the log: a crash at any step leaves a consistent checkpoint + log.
    if last > covered or not old:
        name = f"checkpoint-{last}.zip"
        ws.export(os.path.join(directory, name))
        meta["checkpoint"], meta["checkpoint_seq"] = name, last
    _write_atomic(meta_path, json.dumps(meta, indent=2, sort_keys=True).encode())
    for stale in os.listdir(directory):
        if stale.startswith("checkpoint-") and stale != meta["checkpoint"]:
            os.unlink(os.path.join(directory, stale))
    _write_atomic(wal, b"")  # every record is now in the checkpoint
    return DurableWorkspace(ws, directory, last + 1)
