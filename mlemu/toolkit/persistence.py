"""Whole-workspace snapshots (in memory) and exports (on disk): every service's state, the
files and artifacts, the id generator and the clock, so a test can restore a prepared
workspace, or a later session can open the one a test left (``mlemu.Workspace.load``).

What a snapshot holds: each service's state object graph, pickled with the workspace and its
shared parts (storage, ids, clock, journal, lock, faults: matched by type) replaced by
references, so restoring rebuilds the services around the same live workspace; the storage's
files (in memory: the file objects themselves, shared, since a write replaces a file and never
changes one; on disk: bytes); the id generator's PRNG state; the clock; the accepted tokens. Not held: the journal (a test's
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

import contextlib
import copyreg
import functools
import gc
import io
import json
import os
import pickle
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

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
    #: The storage's files (:meth:`mlemu.server.core.storage.Storage.dump`): in memory they are
    #: shared with the workspace, not copied (a write replaces a file, never changes it).
    storage: dict[str, Any]
    #: In-memory snapshots only: the values of the services' :class:`SharedDict` s (runs), held
    #: by reference and copied on access by whoever reads them later; ``blob`` refers to them.
    shared: tuple[dict[Any, Any], ...] = ()

    def __len__(self) -> int:
        return len(self.blob)


_target = threading.local()


def _thaw(index: int) -> Any:
    """Unpickling an in-memory snapshot's shared dict: a live dict over its values."""
    from mlemu.server.core.shared_dict import SharedDict
    return SharedDict.thaw(_target.shared[index])


def _resolve(name: str) -> Any:
    """Unpickling a reference to the workspace (or one of its shared parts): the workspace
    being restored."""
    ws = _target.ws
    if name == "ws":
        return ws
    return ws.storage if name == "storage" else ws.__dict__[name]


def _sorted_set(obj: Any) -> Any:
    try:
        return type(obj), (sorted(obj),)
    except TypeError:  # unorderable members: as pickle would
        return type(obj), (list(obj),)


def _dumps(ws: "WorkspaceState", obj: Any, sort_sets: bool,
           shared: list[dict[Any, Any]] | None = None) -> bytes:
    """Pickle ``obj`` with the workspace and its shared parts as references. The references go
    through a per-pickler ``dispatch_table`` (looked up in C by type), not ``persistent_id``
    (a Python call per pickled object: several times slower)."""
    table: dict[type, Any] = dict(copyreg.dispatch_table)
    table[type(ws)] = lambda _: (_resolve, ("ws",))
    for name in _SHARED:
        part = ws.storage if name == "storage" else ws.__dict__.get(name)
        if part is not None and type(part) not in table:
            table[type(part)] = functools.partial(lambda n, _: (_resolve, (n,)), name)
    if sort_sets:
        table[set] = table[frozenset] = _sorted_set
    if shared is not None:  # in memory: SharedDicts by reference (copy on access), not pickled
        from mlemu.server.core.shared_dict import SharedDict

        def by_reference(d: SharedDict) -> Any:
            shared.append(d.freeze())
            return (_thaw, (len(shared) - 1,))
        table[SharedDict] = by_reference
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    pickler.dispatch_table = table
    with _no_gc():
        pickler.dump(obj)
    return buf.getvalue()


def _loads(ws: "WorkspaceState", blob: bytes, shared: tuple[dict[Any, Any], ...] = ()) -> Any:
    _target.ws = ws
    _target.shared = shared
    try:
        with _no_gc():
            return pickle.loads(blob)
    finally:
        del _target.ws
        del _target.shared


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """The cyclic collector off while (un)pickling: the tens of thousands of objects a
    restore creates would otherwise trigger collections that walk the whole heap, again and
    again (1,000 runs cost 35x what 100 do instead of 10x)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def service_names(ws: "WorkspaceState") -> list[str]:
    """The services whose state exists in ``ws`` (created on first use), sorted."""
    return sorted(n for n in ws._state_factories if n in ws.__dict__)


def snapshot(ws: "WorkspaceState", sort_sets: bool = False, share: bool = False) -> Snapshot:
    """The state of ``ws`` now (see the module docstring for what it holds). ``sort_sets``
    pickles sets in sorted order (exports: their order otherwise depends on the hash seed).
    ``share`` (in-memory snapshots) keeps the values of ``SharedDict`` s (the runs) by
    reference, copied when next read, instead of pickling them: the cost of a snapshot then
    no longer grows with the number of runs."""
    with ws.lock:
        names = service_names(ws)
        state = {
            "services": {n: ws.__dict__[n] for n in names},
            "ids": ws.ids._rng.getstate(),
            "clock": (ws.clock._pinned_ms, ws.clock._offset_ms),
            "tokens": sorted(ws.tokens),
        }
        shared: list[dict[Any, Any]] | None = [] if share else None
        blob = _dumps(ws, state, sort_sets, shared)
        return Snapshot(ws.workspace_id, tuple(names), blob, ws.storage.dump(), tuple(shared or ()))


def restore(ws: "WorkspaceState", snap: Snapshot) -> None:
    """Put ``ws`` back to the state ``snap`` holds (its journal and faults are kept)."""
    if snap.workspace_id != ws.workspace_id:
        raise ValueError(f"this snapshot is of workspace {snap.workspace_id}, not {ws.workspace_id}")
    with ws.lock:
        state = _loads(ws, snap.blob, snap.shared)
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
    snap = snapshot(ws, sort_sets=True)
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

