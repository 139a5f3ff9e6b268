"""The record format of a ``--state-dir`` write-ahead log (``wal.log``), and reading it back
strictly: a torn tail (a write the crash cut short, never acknowledged) ends the log; any
other damage is reported, naming the record, never skipped silently.

A record is ``<4-byte big-endian length><4-byte CRC-32 of the JSON><4-byte CRC-32 of the first
eight bytes><JSON>`` (the header's own checksum tells a damaged length from a torn tail;
format-1 logs have no header checksum); the JSON is an
object with at least ``seq`` (consecutive), ``wall_ms``, ``clock``, ``method``, ``path``,
``query``, ``headers``, ``auth``, ``base_url`` and the body (``body``: base64, or
``body_sha256`` + ``body_size`` for a body kept in the blob store).
"""
from __future__ import annotations

import json
import os
import stat
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

HEAD = struct.Struct(">III")
_HEAD_V1 = struct.Struct(">II")
#: The largest record a server writes (bodies over :data:`INLINE_BODY_MAX` go to the blob
#: store); a length field above it is damage, not a record.
MAX_RECORD = 1 << 20
#: Request bodies up to this size are kept in the record itself (base64).
INLINE_BODY_MAX = 64 * 1024

#: The keys every record has, with their JSON types.
_KEYS: dict[str, tuple[type, ...]] = {
    "seq": (int,), "clock": (dict,), "method": (str,), "path": (str,), "query": (str,),
    "headers": (dict,), "base_url": (str, type(None)),
}


class WalDamage(ValueError):
    """``wal.log`` holds a damaged record (not a torn tail): ``path``, ``record`` (1-based),
    ``offset`` (its first byte) and ``reason``. Records before it are valid."""

    def __init__(self, path: str, record: int, offset: int, reason: str) -> None:
        super().__init__(f"{path}: record {record} (byte {offset}) is damaged: {reason}")
        self.path, self.record, self.offset, self.reason = path, record, offset, reason


@dataclass
class Log:
    """What :func:`read_log` found: the valid records, where they end, and the damage after
    them if any (``damage`` is None for a clean log or one with only a torn tail)."""

    records: list[dict[str, Any]]
    end: int
    damage: WalDamage | None = None
    torn_bytes: int = 0
    #: Where each record starts in the file.
    offsets: list[int] = field(default_factory=list)


def encode(record: dict[str, Any]) -> bytes:
    payload = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    head = _HEAD_V1.pack(len(payload), zlib.crc32(payload))
    return head + struct.pack(">I", zlib.crc32(head)) + payload


def read_log(path: str, first_seq: int | None = None, version: int = 2) -> Log:
    """Read ``path`` record by record (``version`` 1: the older header without its own
    checksum). Raises :class:`OSError` (with a message naming the file) when it cannot be read
    as a regular file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return Log([], 0)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path} is not a regular file")
    with open(path, "rb") as fh:
        data = fh.read()
    out: list[dict[str, Any]] = []
    starts: list[int] = []
    pos = 0
    expected = first_seq
    size = HEAD.size if version >= 2 else _HEAD_V1.size

    def torn() -> Log:  # the last write, cut short by the crash: never acknowledged
        return Log(out, pos, None, len(data) - pos, starts)

    def damaged(reason: str) -> Log:
        rest = len(data) - pos
        if rest <= HEAD.size + MAX_RECORD and data.count(0, pos) == rest:
            return torn()  # zeros a crash left where the last (unsynced) write was under way
        return Log(out, pos, offsets=starts, damage=WalDamage(path, len(out) + 1, pos, reason))

    while pos < len(data):
        if len(data) - pos < size:
            return torn()
        length, crc = _HEAD_V1.unpack_from(data, pos)
        if version >= 2 and zlib.crc32(data[pos:pos + 8]) != HEAD.unpack_from(data, pos)[2]:
            return damaged("its header checksum does not match")
        if length > MAX_RECORD or length < 2:
            return damaged(f"its length field says {length} bytes (a record has 2 to {MAX_RECORD})")
        body = data[pos + size: pos + size + length]
        if len(body) < length:
            return torn()
        if zlib.crc32(body) != crc:
            return damaged("its checksum does not match its bytes")
        try:
            rec = json.loads(body)
        except (ValueError, RecursionError) as e:
            return damaged(f"it is not valid JSON ({type(e).__name__})")
        problem = _check(rec, expected)
        if problem:
            return damaged(problem)
        expected = rec["seq"] + 1
        out.append(rec)
        starts.append(pos)
        pos += size + length
    return Log(out, pos, offsets=starts)


def _check(rec: Any, expected: int | None) -> str | None:
    if not isinstance(rec, dict):
        return "it is not a JSON object"
    for key, types in _KEYS.items():
        if key not in rec:
            return f"it has no {key!r}"
        if not isinstance(rec[key], types) or isinstance(rec[key], bool):
            return f"its {key!r} has the wrong type"
    if expected is not None and rec["seq"] != expected:
        return f"its seq is {rec['seq']}, {expected} was expected next"
    clock = rec["clock"]
    if not (type(clock.get("offset_ms")) is int and (clock.get("pinned_ms") is None
                                                    or type(clock.get("pinned_ms")) is int)):
        return "its clock is malformed"
    if type(rec.get("wall_ms", clock.get("now_ms"))) is not int:
        return "it has no wall-clock reading"
    if "body_sha256" in rec:
        if not (isinstance(rec["body_sha256"], str) and len(rec["body_sha256"]) == 64
                and type(rec.get("body_size")) is int):
            return "its body reference is malformed"
    elif not isinstance(rec.get("body"), str):
        return "it has no body"
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in rec["headers"].items()):
        return "its headers are malformed"
    return None
