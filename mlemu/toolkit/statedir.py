"""A durable workspace for ``mlemu serve --state-dir DIR``: a write-ahead log of the requests
that changed state, replayed over the last checkpoint when the server starts again.

**What is logged.** Requests run one at a time; each is appended to ``DIR/wal.log`` and
fsynced *before* its answer is sent when it changed state: every write (any method but
GET/HEAD), and every read that did (drew an id, changed a file, created a service's state, or
moved state on: a poll of a SQL statement, a serving endpoint, a registration or a monitor
refresh, which the services report with ``ws.note_change()``). A read runs once, never again
to be logged. Replay is exact because the workspace is deterministic: ids come from the seeded
generator, and each request runs, live and in replay, with the wall clock held at the reading
its record keeps (:meth:`mlemu.server.core.clock.Clock.hold`). So a restart rebuilds exactly
what was acknowledged, object for object (tests/toolkit/test_state_dir_replay.py).

**What is not logged.** Token headers (``Authorization``, cookies, anything naming a token,
secret or key): a record says only whether the request carried a valid token, and replay
presents the workspace's own. Fault rules, the journal and control-plane exports are not
state; a request a fault answered is not logged.

On start the server replays, then checkpoints: ``DIR/checkpoint-<seq>.zip`` (an export,
docs/persistence.md, covering the log up to ``seq``) is written, ``DIR/meta.json`` is
atomically switched to it, and only then are the old checkpoint and the log dropped.
``meta.json`` also keeps the workspace's identity, token and URL-signing secret, so clients
keep working across restarts. Records: :mod:`mlemu.toolkit.wal`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
from typing import TYPE_CHECKING, Any, Callable

from mlemu.toolkit import wal

if TYPE_CHECKING:
    from mlemu.workspace import Workspace

FORMAT_VERSION = 2
#: Header names never written to the log (and any name containing one of :data:`_SECRET_PARTS`).
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SECRET_PARTS = ("token", "secret", "password", "api-key", "apikey", "credential", "auth")
#: What replay sends for a request whose token was not accepted (so it is refused again).
_REFUSED_TOKEN = "Bearer mlemu-replay-refused-token"

Answer = tuple[int, dict[str, str], bytes]


def _write_atomic(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
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


class BlobStore:
    """``DIR/blobs/<sha256>``: file contents and large request bodies, each stored once (mode
    0600), so neither the log nor the checkpoints copy them (issue 17, defect 11). Checkpoints
    refer to them by SHA-256 (:func:`mlemu.toolkit.persistence.export` with ``blobs``)."""

    def __init__(self, directory: str) -> None:
        self.directory = os.path.join(directory, "blobs")
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)
        #: Digests a checkpoint used since :meth:`track` (the rest are dropped after it).
        self.used: set[str] | None = None

    def _path(self, digest: str) -> str:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"not a SHA-256 digest: {digest[:80]!r}")
        return os.path.join(self.directory, digest)

    def has(self, digest: str) -> bool:
        if self.used is not None:
            self.used.add(digest)
        return os.path.isfile(self._path(digest))

    def put(self, digest: str, data: Any) -> None:
        if self.used is not None:
            self.used.add(digest)
        path = self._path(digest)
        tmp = f"{path}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.directory)

    def size(self, digest: str) -> int | None:
        try:
            return os.path.getsize(self._path(digest))
        except (OSError, ValueError):
            return None

    def get(self, digest: str, size: int) -> bytes:
        from mlemu.toolkit.persistence import UnreadableExport
        path = self._path(digest)
        try:
            with open(path, "rb") as fh:
                return fh.read(size + 1)  # the caller checks size and digest
        except OSError as e:
            raise UnreadableExport(path, f"a stored file's contents are missing ({e.strerror})") from None

    def drop_unused(self) -> None:
        """After a checkpoint: remove the blobs it does not refer to (and stray temp files)."""
        used = self.used or set()
        for name in os.listdir(self.directory):
            if name not in used:
                os.unlink(os.path.join(self.directory, name))
        self.used = None


def scrub_headers(headers: dict[str, str] | None) -> dict[str, str]:
    """The headers a record may keep: none that carries a credential."""
    out = {}
    for k, v in (headers or {}).items():
        name = k.lower()
        if name in _SECRET_HEADERS or any(p in name for p in _SECRET_PARTS):
            continue
        out[k] = v
    return out


def _auth_of(ws: "Workspace", headers: dict[str, str] | None) -> str:
    """``"none"``, ``"valid"`` or ``"refused"``: what the request's Authorization header was."""
    values = [v for k, v in (headers or {}).items() if k.lower() == "authorization"]
    if not values:
        return "none"
    scheme, _, token = values[0].partition(" ")
    ok = len(values) == 1 and "," not in values[0] and scheme.lower() == "bearer" and token.strip() in ws.tokens
    return "valid" if ok else "refused"


def _replay_headers(ws: "Workspace", rec: dict[str, Any]) -> dict[str, str]:
    headers = dict(rec["headers"])
    auth = rec.get("auth")
    if auth is None:  # a format-1 record: it kept the header itself
        return headers
    headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    if auth == "valid":
        headers["Authorization"] = f"Bearer {ws.token}"
    elif auth == "refused":
        headers["Authorization"] = _REFUSED_TOKEN
    return headers


class _Marks:
    """The cheap signs that a request changed state (see the module docstring)."""

    @staticmethod
    def take(ws: "Workspace") -> tuple[int, ...]:
        from mlemu.toolkit.persistence import service_names
        return (ws.ids.draws, ws.storage.changes, ws.read_changes, len(service_names(ws)))


def run_held(ws: "Workspace", wall_ms: int, call: Callable[[], Answer]) -> Answer:
    """Run ``call`` with the workspace's wall clock held at ``wall_ms`` (live and in replay)."""
    with ws.clock.hold(wall_ms):
        return call()


class DurableWorkspace:
    """What the loopback server answers with: the workspace, with every request that changed
    state logged durably before its answer leaves (see the module docstring).

    ``verify=True`` (tests) also compares the whole state before and after every request it
    does not log, and lists in :attr:`unlogged_changes` the operations that changed it anyway
    (then logs them): a read that moves state on without saying so."""

    def __init__(self, ws: "Workspace", directory: str, next_seq: int, verify: bool = False,
                 blobs: BlobStore | None = None) -> None:
        self.workspace = ws
        self.directory = directory
        self.blobs = blobs or BlobStore(directory)
        self._lock = threading.Lock()
        self._seq = next_seq
        fd = os.open(os.path.join(directory, "wal.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)
        self._wal = os.fdopen(fd, "ab")
        self.verify = verify
        self.unlogged_changes: list[str] = []
        #: What opening the directory had to say (``--recover-prefix``: what was dropped).
        self.notes: list[str] = []

    @property
    def host(self) -> str:
        return self.workspace.host

    def handle(self, method: str, path: str, query_string: str = "",
               headers: dict[str, str] | None = None, body: bytes = b"",
               base_url: str | None = None, raise_internal: bool = False) -> Answer:
        ws = self.workspace
        write = method.upper() not in ("GET", "HEAD")
        with self._lock:
            clock = {"pinned_ms": ws.clock._pinned_ms, "offset_ms": ws.clock._offset_ms}
            wall_ms = ws.clock.wall_ms()
            auth = _auth_of(ws, headers)
            marks = _Marks.take(ws)
            hits = sum(f.hits for f in ws.faults)
            before = _fingerprint(ws) if self.verify and not write else None
            answer = run_held(ws, wall_ms, lambda: ws.handle(method, path, query_string, headers, body,
                                                               base_url, raise_internal))
            if (hits != sum(f.hits for f in ws.faults) and answer[0] >= 400) or _not_state(path):
                return answer
            changed = write or _Marks.take(ws) != marks
            if before is not None and not changed and _fingerprint(ws) != before:
                self.unlogged_changes.append(f"{method.upper()} {path}")
                changed = True
            if not changed:
                return answer
            record = {"seq": self._seq, "wall_ms": wall_ms, "clock": clock, "method": method,
                      "path": path, "query": query_string, "headers": scrub_headers(headers),
                      "auth": auth, "base_url": base_url}
            if len(body) > wal.INLINE_BODY_MAX:  # the bytes go to the blob store, once
                digest = hashlib.sha256(body).hexdigest()
                if self.blobs.size(digest) != len(body):
                    self.blobs.put(digest, body)
                record["body_sha256"], record["body_size"] = digest, len(body)
            else:
                record["body"] = base64.b64encode(body).decode()
            self._wal.write(wal.encode(record))
            self._wal.flush()
            os.fsync(self._wal.fileno())
            self._seq += 1
        return answer

    def close(self) -> None:
        self._wal.close()


def _fingerprint(ws: "Workspace") -> bytes:
    """The whole state as saved data (for ``verify``: slow)."""
    from mlemu.toolkit import persistence

    with ws.lock:
        data, files = persistence.to_data(ws)
        for _, buf in files:
            if isinstance(buf, memoryview):
                buf.release()
    return persistence.dumps_json(data)


def _not_state(path: str) -> bool:
    """Control-plane calls that change no workspace state (faults, the journal, exports)."""
    return path.startswith(("/__mlemu__/faults", "/__mlemu__/journal", "/__mlemu__/export"))


def _missing_body(blobs: BlobStore, log: wal.Log, path: str) -> wal.WalDamage | None:
    """The first record whose body the blob store lacks (or holds truncated)."""
    for i, rec in enumerate(log.records):
        if "body_sha256" in rec and blobs.size(rec["body_sha256"]) != rec["body_size"]:
            return wal.WalDamage(path, i + 1, log.offsets[i], f"its body (blobs/{rec['body_sha256']}, "
                                 f"{rec['body_size']} bytes) is missing or has another size")
    return None


def _body(rec: dict[str, Any], blobs: BlobStore) -> bytes:
    if "body_sha256" in rec:
        data = blobs.get(rec["body_sha256"], rec["body_size"])
        if hashlib.sha256(data).hexdigest() != rec["body_sha256"]:
            raise StateDirError(f"{blobs.directory}/{rec['body_sha256']} (the body of log record seq "
                                f"{rec['seq']}) does not match its SHA-256")
        return data
    try:
        return base64.b64decode(rec["body"], validate=True)
    except ValueError:
        raise StateDirError(f"the body of log record seq {rec['seq']} is not base64") from None


def replay(ws: "Workspace", records: list[dict[str, Any]], after_seq: int,
           blobs: BlobStore | None = None) -> int:
    """Apply logged requests with ``seq > after_seq`` to ``ws``; return the last seq seen."""
    last = after_seq
    for rec in records:
        if rec["seq"] <= after_seq:
            continue
        c = rec["clock"]
        ws.clock._pinned_ms, ws.clock._offset_ms = c["pinned_ms"], c["offset_ms"]
        wall_ms = rec["wall_ms"] if "wall_ms" in rec else c["now_ms"] - c["offset_ms"]
        body = _body(rec, blobs) if blobs is not None else base64.b64decode(rec["body"])
        run_held(ws, wall_ms, lambda: ws.handle(rec["method"], rec["path"], rec["query"],
                                                _replay_headers(ws, rec), body, rec["base_url"]))
        last = rec["seq"]
    return last


class StateDirError(Exception):
    """The state directory cannot be opened as it is (damaged, or not mlemu's): the message
    names the file (and the log record) and what to do; nothing in the directory was changed."""


def _meta(directory: str, meta_path: str) -> dict[str, Any] | None:
    """``meta.json``, checked; None for a new directory."""
    if not os.path.lexists(meta_path):
        leftovers = [n for n in os.listdir(directory)
                     if n.startswith("checkpoint-") or (n == "wal.log" and os.path.getsize(os.path.join(directory, n)))]
        if leftovers:
            raise StateDirError(f"{meta_path} is missing, but {directory} holds {', '.join(sorted(leftovers))}: "
                                "it is a damaged mlemu state directory (restore meta.json from a backup), "
                                "or not mlemu's")
        return None
    try:
        with open(meta_path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError, RecursionError) as e:
        raise StateDirError(f"{meta_path} cannot be read ({type(e).__name__}: {str(e)[:200]}); "
                            "restore it from a backup") from None
    problem = None
    if not isinstance(meta, dict):
        problem = "it is not a JSON object"
    elif "checksum" in meta and meta["checksum"] != _meta_checksum(meta):
        problem = "its checksum does not match its content (it was changed or damaged)"
    elif type(meta.get("format_version")) is not int or meta["format_version"] < 1:
        problem = "it has no valid format_version"
    elif meta["format_version"] > FORMAT_VERSION:
        problem = (f"it was written by a newer mlemu (format {meta['format_version']}; this one reads up "
                   f"to {FORMAT_VERSION})")
    else:
        ws_meta = meta.get("workspace")
        if not (isinstance(ws_meta, dict) and type(ws_meta.get("seed")) is int
                and all(isinstance(ws_meta.get(k), str) for k in ("workspace_id", "user_name", "token"))):
            problem = "its workspace (seed, workspace_id, user_name, token) is missing or malformed"
        elif not isinstance(meta.get("secret"), str) or not _is_hex(meta["secret"]):
            problem = "its secret is missing or not hexadecimal"
        elif (type(meta.get("checkpoint_seq")) is not int or "checkpoint" not in meta
              or not isinstance(meta["checkpoint"], (str, type(None)))):
            problem = "its checkpoint or checkpoint_seq is missing or malformed"
        elif meta["checkpoint"] is not None and (os.path.basename(meta["checkpoint"]) != meta["checkpoint"]
                                                 or not meta["checkpoint"].startswith("checkpoint-")):
            problem = "its checkpoint is not a checkpoint file name"
        elif meta["checkpoint"] is not None and meta["checkpoint"] != f"checkpoint-{meta['checkpoint_seq']}.zip":
            problem = "its checkpoint and checkpoint_seq disagree"
    if problem:
        raise StateDirError(f"{meta_path}: {problem}")
    return meta


def _meta_checksum(meta: dict[str, Any]) -> str:
    """SHA-256 of ``meta.json``'s content but the checksum itself (a changed seq, token or
    identity is refused, not trusted)."""
    rest = {k: v for k, v in meta.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True).encode()).hexdigest()


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
    except ValueError:
        return False
    return True


def _set_aside(path: str) -> str:
    """Rename the damaged log out of the way, unchanged; return its new name."""
    n = 1
    while os.path.lexists(f"{path}.damaged-{n}"):
        n += 1
    os.replace(path, f"{path}.damaged-{n}")
    return f"{path}.damaged-{n}"


def open_state_dir(directory: str, factory: Callable[..., "Workspace"], verify: bool = False,
                   recover_prefix: bool = False, **kwargs: Any) -> DurableWorkspace:
    """The workspace kept in ``directory``: created (``kwargs`` go to ``factory``) or
    recovered (identity, token and secret from ``meta.json``; checkpoint, then the log),
    then checkpointed so the log starts empty.

    Raises :class:`StateDirError` when the directory is damaged (nothing is changed then).
    A damaged log record is refused unless ``recover_prefix`` (``--recover-prefix``): then
    the records before it are kept, the log is renamed ``wal.log.damaged-N`` (unchanged),
    and :attr:`DurableWorkspace.notes` says what was dropped."""
    from mlemu.toolkit import persistence

    if os.path.lexists(directory) and not os.path.isdir(directory):
        raise StateDirError(f"{directory} is not a directory")
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if os.stat(directory).st_uid == os.getuid():
        os.chmod(directory, 0o700)
    meta_path = os.path.join(directory, "meta.json")
    wal_path = os.path.join(directory, "wal.log")
    meta = _meta(directory, meta_path)
    notes: list[str] = []
    if meta is not None:
        kwargs.update(meta["workspace"])
        kwargs["secret"] = bytes.fromhex(meta["secret"])
        log_version = 1 if meta["format_version"] < 2 else 2
    else:
        kwargs.setdefault("secret", secrets.token_bytes(32))
        meta = {"format_version": FORMAT_VERSION, "checkpoint_seq": 0, "checkpoint": None}
        log_version = 2
    try:
        log = wal.read_log(wal_path, version=log_version)
    except OSError as e:
        raise StateDirError(f"{wal_path} cannot be read: {e}") from None
    blobs = BlobStore(directory)
    missing = _missing_body(blobs, log, wal_path)
    if missing is not None and (log.damage is None or missing.record < log.damage.record):
        del log.records[missing.record - 1:]
        log.damage = missing
    if log.damage is not None and not recover_prefix:
        d = log.damage
        raise StateDirError(f"{d}. The server did not start and changed nothing. The {len(log.records)} "
                            f"records before it are valid: to keep only those (and lose record {d.record} "
                            "and every later one), start again with --recover-prefix; the damaged log is "
                            "then kept as wal.log.damaged-N")
    ws = factory(**kwargs)
    ws.inline_work = True  # statements run inside their request: replay meets them at the same point
    meta["format_version"] = FORMAT_VERSION
    meta["workspace"] = {"seed": ws.seed, "workspace_id": ws.workspace_id,
                         "user_name": ws.user.user_name, "token": ws.token}
    meta["secret"] = ws.secret.hex()
    covered = int(meta.get("checkpoint_seq", 0))
    old = meta.get("checkpoint")
    checkpoint_files: list[dict[str, Any]] = []
    if old:
        path = os.path.join(directory, old)
        if not os.path.isfile(path):
            raise StateDirError(f"{path} (the checkpoint meta.json names) is missing; restore it from a backup")
        try:
            archive = persistence.read_export(path, blobs=blobs)
            persistence.restore_data(ws, archive)
            checkpoint_files = archive.data["storage"]["files"]
        except persistence.UnreadableExport as e:
            raise StateDirError(f"the checkpoint {e}; restore it from a backup") from None
        ws.tokens.add(ws.token)  # the token meta.json gives out is accepted, whatever the checkpoint says
    last = replay(ws, log.records, covered, blobs)
    if log.damage is not None:
        kept = _set_aside(wal_path)
        notes.append(f"--recover-prefix: kept the {len(log.records)} valid records of {wal_path}; "
                     f"{log.damage.reason} at record {log.damage.record}, so it and every later record "
                     f"were dropped; the damaged log is kept as {kept}")
    # Checkpoint under a new name, then point meta.json at it (the atomic switch), then drop
    # the old one and the log: a crash at any step leaves a consistent checkpoint + log.
    blobs.used = set()
    if last > covered or not old:
        name = f"checkpoint-{last}.zip"
        persistence.export(ws, os.path.join(directory, name), blobs=blobs)
        meta["checkpoint"], meta["checkpoint_seq"] = name, last
    else:  # the checkpoint stays: keep what it refers to
        blobs.used.update(f.get("sha256") for f in checkpoint_files)
    meta["checksum"] = _meta_checksum(meta)
    _write_atomic(meta_path, json.dumps(meta, indent=2, sort_keys=True).encode())
    for stale in os.listdir(directory):
        if stale.startswith("checkpoint-") and stale != meta["checkpoint"]:
            os.unlink(os.path.join(directory, stale))
    _write_atomic(wal_path, b"")  # every record is now in the checkpoint
    blobs.drop_unused()  # after the log is empty: no record refers to a body blob any more
    durable = DurableWorkspace(ws, directory, last + 1, verify=verify, blobs=blobs)
    durable.notes = notes
    return durable
