"""Whole-workspace snapshots (in memory) and exports (on disk): every service's state, the
files and artifacts, the id generator and the clock, so a test can restore a prepared
workspace, or a later session can open the one a test left (``mlemu.Workspace.load``).

What a snapshot holds: each service's state object graph, pickled with the workspace and its
shared parts (storage, ids, clock, journal, lock) replaced by references, so restoring
rebuilds the services around the same live workspace; the storage's files as bytes; the id
generator's PRNG state; the clock; the accepted tokens. Not held: the journal (a test's
record of calls, not workspace state), fault rules, and the workspace's identity
(``workspace_id``, host, token, user), which a snapshot must match to be restored.

The export format (version :data:`FORMAT_VERSION`, docs/persistence.md) is a ZIP archive with
fixed timestamps and sorted entries, so the same scenario exports to the same bytes:

- ``manifest.json``: ``{"format": "mlemu-workspace", "format_version", "mlemu_version",
  "python", "workspace": {"workspace_id", "user_name", "host", "seed"}, "services": [...],
  "files": N}``;
- ``state.pickle``: ``{"services": <the snapshot's pickled service state>, "storage": {"dirs",
  "files", "mtime"}}`` (Python pickle, protocol 5: open trusted files only);
- ``files/<namespace>/<path>``: a readable copy of every stored file (``files/files/Volumes/...``,
  ``files/dbfs/databricks/mlflow-tracking/...``), for people and other tools; the blob is what
  :func:`load` reads.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlemu.core.workspace import WorkspaceState

FORMAT = "mlemu-workspace"
FORMAT_VERSION = 1
#: The names of the workspace's shared parts that pickles refer to instead of copying.
_SHARED = ("storage", "ids", "clock", "calls", "lock", "faults")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Snapshot:
    """A workspace's state at one moment (immutable; restore it any number of times)."""

    workspace_id: str
    services: tuple[str, ...]
    blob: bytes
    #: The storage's files (:meth:`mlemu.core.storage.Storage.dump`): in memory they are
    #: shared with the workspace, not copied (a write replaces a file, never changes it).
    storage: dict[str, Any]

    def __len__(self) -> int:
        return len(self.blob)


class _Pickler(pickle.Pickler):
    """Pickles service state with the workspace and its shared parts as references, and
    sets in sorted order (their iteration order depends on the process's hash seed)."""

    def __init__(self, file: Any, ws: "WorkspaceState") -> None:
        super().__init__(file, protocol=5)
        self._refs = {id(ws): "ws"}
        for name in _SHARED:
            part = ws.__dict__.get(name) if name != "storage" else ws.storage
            if part is not None:
                self._refs[id(part)] = name

    def persistent_id(self, obj: Any) -> str | None:
        return self._refs.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) in (set, frozenset):
            try:
                return type(obj), (sorted(obj),)
            except TypeError:  # unorderable members: pickle as usual
                return NotImplemented
        return NotImplemented


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, ws: "WorkspaceState") -> None:
        super().__init__(file)
        self._ws = ws

    def persistent_load(self, pid: str) -> Any:
        if pid == "ws":
            return self._ws
        return self._ws.storage if pid == "storage" else self._ws.__dict__[pid]


def service_names(ws: "WorkspaceState") -> list[str]:
    """The services whose state exists in ``ws`` (created on first use), sorted."""
    return sorted(n for n in ws._state_factories if n in ws.__dict__)


def snapshot(ws: "WorkspaceState") -> Snapshot:
    """The state of ``ws`` now (see the module docstring for what it holds)."""
    with ws.lock:
        names = service_names(ws)
        state = {
            "services": {n: ws.__dict__[n] for n in names},
            "ids": ws.ids._rng.getstate(),
            "clock": (ws.clock._pinned_ms, ws.clock._offset_ms),
            "tokens": sorted(ws.tokens),
        }
        buf = io.BytesIO()
        _Pickler(buf, ws).dump(state)
        return Snapshot(ws.workspace_id, tuple(names), buf.getvalue(), ws.storage.dump())


def restore(ws: "WorkspaceState", snap: Snapshot) -> None:
    """Put ``ws`` back to the state ``snap`` holds (its journal and faults are kept)."""
    if snap.workspace_id != ws.workspace_id:
        raise ValueError(f"this snapshot is of workspace {snap.workspace_id}, not {ws.workspace_id}")
    with ws.lock:
        state = _Unpickler(io.BytesIO(snap.blob), ws).load()
        for name in service_names(ws):
            if name not in state["services"]:
                del ws.__dict__[name]
        ws.__dict__.update(state["services"])
        ws.storage.load(snap.storage)
        ws.ids._rng.setstate(state["ids"])
        ws.clock._pinned_ms, ws.clock._offset_ms = state["clock"]
        ws.tokens.clear()
        ws.tokens.update(state["tokens"])


# -- on disk -------------------------------------------------------------------------------
def manifest(ws: "WorkspaceState", snap: Snapshot, files: int) -> dict[str, Any]:
    from mlemu import __version__
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "mlemu_version": __version__,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "workspace": {"workspace_id": ws.workspace_id, "user_name": ws.user.user_name,
                          "host": ws.host, "seed": getattr(ws, "seed", None)},
            "services": list(snap.services), "files": files}


def export(ws: "WorkspaceState", path: str | os.PathLike[str]) -> str:
    """Write ``ws`` to ``path`` (a ZIP archive; written to a temporary file, then renamed, so a
    reader never sees half an export). Returns the path."""
    snap = snapshot(ws)
    storage = ws.storage.dump(portable=True)
    files = storage["files"]
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mlemu-export-", dir=parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                def put(name: str, data: bytes) -> None:
                    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    zf.writestr(info, data)
                body = json.dumps(manifest(ws, snap, len(files)), indent=2, sort_keys=True)
                put("manifest.json", body.encode() + b"\n")
                put("state.pickle", pickle.dumps({"services": snap.blob, "storage": storage}, protocol=5))
                for name, data in files.items():  # type: ignore[union-attr]
                    put("files" + name, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_export(path: str | os.PathLike[str]) -> tuple[dict[str, Any], Snapshot]:
    """The manifest and snapshot of an export; refuses another format or a newer version."""
    with zipfile.ZipFile(os.fspath(path)) as zf:
        meta = json.loads(zf.read("manifest.json"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path} is not an mlemu workspace export")
        if int(meta.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(f"{path} has format version {meta['format_version']}; this mlemu "
                             f"reads up to {FORMAT_VERSION}")
        state = pickle.loads(zf.read("state.pickle"))
    return meta, Snapshot(meta["workspace"]["workspace_id"], tuple(meta["services"]),
                          state["services"], state["storage"])

