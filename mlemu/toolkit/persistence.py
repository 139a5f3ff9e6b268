"""Whole-workspace snapshots (in memory) and exports (on disk): every service's state, the
files and artifacts, the id generator and the clock, so a test can restore a prepared
workspace, or a later session can open the one a test left (``mlemu.Workspace.load``).

**In memory** (:func:`snapshot` / :func:`restore`, never leaves the process): each service's
state object graph, pickled with the workspace and its shared parts (storage, ids, clock,
journal, lock, faults: matched by type) replaced by references, so restoring rebuilds the
services around the same live workspace; the storage's files (the file objects themselves,
shared, since a write replaces a file and never changes one); the id generator's PRNG state;
the clock; the accepted tokens. Not held: the journal (a test's record of calls, not workspace
state), fault rules, and the workspace's identity (``workspace_id``, host, token, user), which a
snapshot must match to be restored.

**On disk** (:func:`export` / :func:`read_export` + :func:`restore_data`): the same state as
*data only*, format version :data:`FORMAT_VERSION` (docs/persistence.md): a ZIP archive with
fixed timestamps and sorted entries, so the same scenario exports to the same bytes:

- ``manifest.json``: ``{"format": "mlemu-workspace", "format_version", "mlemu_version",
  "python", "workspace": {"workspace_id", "user_name", "host", "seed"}, "services": [...],
  "files": N, "file_store": "archive" | "blobs"}``;
- ``state.json``: ``{"format_version", "ids": PRNG state, "clock": {"pinned_ms", "offset_ms"},
  "tokens": [...], "services": {name: <that service's persist.dump>}, "storage": {"dirs",
  "files": [{"path", "size", "sha256"}], "mtime"}}``;
- ``files/<namespace>/<path>``: every stored file's bytes (``files/files/Volumes/...``,
  ``files/dbfs/databricks/mlflow-tracking/...``), checked against its SHA-256 when loaded.
  ``--state-dir`` checkpoints keep them in the state directory's blob store instead.

Loading builds only the classes each service's ``persist.load`` names; a pickle (format 1) or
anything malformed is refused with :class:`UnreadableExport`, never run.
"""
from __future__ import annotations

import contextlib
import copyreg
import functools
import gc
import hashlib
import io
import json
import os
import pickle
import sys
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Protocol

from mlemu.server.core.persist import StateDataError, decode_rng, encode_rng, field, load_as

if TYPE_CHECKING:
    from mlemu.server.core.workspace import WorkspaceState

FORMAT = "mlemu-workspace"
FORMAT_VERSION = 2
#: Pickle-based exports of earlier mlemu versions: refused (unpickling runs code).
_PICKLE_FORMAT = 1
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


# -- on disk: data only -----------------------------------------------------------------
class UnreadableExport(ValueError):
    """A workspace export (or ``--state-dir`` checkpoint) that cannot be loaded: an older
    pickle-based format, another file, or data that is not a valid workspace. ``path`` and
    ``reason`` say which and why; nothing in the file was run."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot load {path}: {reason}")
        self.path = path
        self.reason = reason


class BlobStore(Protocol):
    """Where a ``--state-dir`` checkpoint keeps file contents, by SHA-256 (not in the ZIP)."""

    def has(self, digest: str) -> bool: ...

    def put(self, digest: str, data: Any) -> None: ...

    def get(self, digest: str, size: int) -> bytes: ...


@dataclass(frozen=True)
class Archive:
    """A read export: its manifest, its ``state.json`` data, and where its file bytes are."""

    path: str
    manifest: dict[str, Any]
    data: dict[str, Any]
    _read: Callable[[str, str, int], bytes]

    def read_file(self, path: str, digest: str, size: int) -> bytes:
        """The bytes of stored file ``path``, checked against ``digest`` and ``size``."""
        data = self._read(path, digest, size)
        if len(data) != size or hashlib.sha256(data).hexdigest() != digest:
            raise UnreadableExport(self.path, f"the stored file {path} does not match its SHA-256")
        return data


def _persisters() -> dict[str, Any]:
    from mlemu.server import plugins
    return {name: s.persist for name, s in plugins.services().items()}


def to_data(ws: "WorkspaceState") -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """The workspace as ``state.json`` data, and its files as ``(path, buffer)`` (hold
    ``ws.lock`` while using the buffers: in memory they are views of the stored bytes)."""
    persisters = _persisters()
    services: dict[str, Any] = {}
    for name in service_names(ws):
        persister = persisters.get(name)
        if persister is None:
            raise StateDataError(name, "this service has no persister (Service(persist=...)): its "
                                 "state cannot be saved")
        services[name] = persister.dump(ws.__dict__[name])
    dirs, files, mtime = ws.storage.contents()
    listing = []
    for path, buf in files:
        listing.append({"path": path, "size": len(buf) if isinstance(buf, bytes) else buf.nbytes,
                        "sha256": hashlib.sha256(buf).hexdigest()})
    data = {"format_version": FORMAT_VERSION,
            "ids": encode_rng(ws.ids._rng),
            "clock": {"pinned_ms": ws.clock._pinned_ms, "offset_ms": ws.clock._offset_ms},
            "tokens": sorted(ws.tokens),
            "services": services,
            "storage": {"dirs": dirs, "files": listing, "mtime": mtime}}
    return data, files


def manifest(ws: "WorkspaceState", services: list[str], files: int, file_store: str) -> dict[str, Any]:
    from mlemu import __version__
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "mlemu_version": __version__,
            "python": f"{sys.version_info.major}.{sys.version_info.minor}",
            "workspace": {"workspace_id": ws.workspace_id, "user_name": ws.user.user_name,
                          "host": ws.host, "seed": getattr(ws, "seed", None)},
            "services": services, "files": files, "file_store": file_store}


def dumps_json(data: Any) -> bytes:
    """The JSON text of saved data: compact, ASCII, keys in the order the state keeps them;
    NaN and Infinity as Python's json writes them (metric values may be either)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=True).encode("ascii")


def export(ws: "WorkspaceState", path: str | os.PathLike[str], blobs: "BlobStore | None" = None) -> str:
    """Write ``ws`` to ``path`` (a ZIP archive, mode 0600; written to a temporary file, then
    renamed, so a reader never sees half an export). With ``blobs`` (``--state-dir``) the file
    bytes go to that store instead of the archive. Returns the path."""
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".mlemu-export-", dir=parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as fh, ws.lock:
            data, files = to_data(ws)
            try:
                with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
                    def put(name: str, content: Any) -> None:
                        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                        info.compress_type = zipfile.ZIP_DEFLATED
                        info.external_attr = 0o600 << 16
                        zf.writestr(info, content)
                    meta = manifest(ws, sorted(data["services"]), len(files),
                                    "archive" if blobs is None else "blobs")
                    put("manifest.json", json.dumps(meta, indent=2, sort_keys=True).encode() + b"\n")
                    put("state.json", dumps_json(data))
                    for (name, buf), entry in zip(files, data["storage"]["files"]):
                        if blobs is None:
                            put("files" + name, buf)
                        elif not blobs.has(entry["sha256"]):
                            blobs.put(entry["sha256"], buf)
            finally:
                for _, buf in files:
                    if isinstance(buf, memoryview):
                        buf.release()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def read_export(path: str | os.PathLike[str], blobs: "BlobStore | None" = None) -> Archive:
    """Read and check an export's manifest and state (no service is built yet: see
    :func:`restore_data`). Refuses, with :class:`UnreadableExport`, anything but a
    data-only mlemu export of this format version or older: never unpickles."""
    path = os.fspath(path)
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile, ValueError, NotImplementedError) as e:
        raise UnreadableExport(path, f"not a readable ZIP archive ({e})") from None
    with zf:
        names = set(zf.namelist())
        if "manifest.json" not in names:
            raise UnreadableExport(path, "not an mlemu workspace export (no manifest.json)")
        meta = _json_entry(zf, path, "manifest.json", 1 << 20)
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise UnreadableExport(path, "not an mlemu workspace export (manifest.json has another format)")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise UnreadableExport(path, "manifest.json has no integer format_version")
        if version > FORMAT_VERSION:
            raise UnreadableExport(path, f"it has format version {version}; this mlemu reads up to "
                                   f"{FORMAT_VERSION}")
        if version <= _PICKLE_FORMAT or "state.pickle" in names:
            raise UnreadableExport(path, f"it is in format version {version}, which holds a Python pickle; "
                                   "pickles run code when loaded, so this mlemu does not read them. "
                                   "Export the workspace again with this mlemu (from the scenario that "
                                   "built it), or open it with the mlemu version that wrote it")
        if "state.json" not in names:
            raise UnreadableExport(path, "state.json is missing")
        data = _json_entry(zf, path, "state.json", None)
        if not isinstance(data, dict) or data.get("format_version") != version:
            raise UnreadableExport(path, "state.json does not match the manifest's format version")
        ident = meta.get("workspace")
        if not (isinstance(ident, dict) and isinstance(ident.get("workspace_id"), str)
                and isinstance(ident.get("user_name"), str)
                and isinstance(ident.get("host"), (str, type(None)))
                and (ident.get("seed") is None or type(ident.get("seed")) is int)):
            raise UnreadableExport(path, "manifest.json has no valid workspace identity "
                                   "(workspace_id, user_name, host, seed)")
    external = meta.get("file_store") == "blobs"
    if external and blobs is None:
        raise UnreadableExport(path, "its files are kept in a --state-dir blob store (a checkpoint, not an "
                               "export); open the state directory with mlemu serve --state-dir")

    def read(name: str, digest: str, size: int) -> bytes:
        if external:
            assert blobs is not None
            return blobs.get(digest, size)
        with zipfile.ZipFile(path) as z:
            try:
                info = z.getinfo("files" + name)
            except KeyError:
                raise UnreadableExport(path, f"the stored file {name} is missing from the archive") from None
            if info.file_size != size:
                raise UnreadableExport(path, f"the stored file {name} has another size than state.json says")
            try:
                return z.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as e:
                raise UnreadableExport(path, f"the stored file {name} cannot be read ({e})") from None
    return Archive(path, meta, data, read)


def _json_entry(zf: zipfile.ZipFile, path: str, name: str, limit: int | None) -> Any:
    info = zf.getinfo(name)
    if limit is not None and info.file_size > limit:
        raise UnreadableExport(path, f"{name} is larger than {limit} bytes")
    try:
        return json.loads(zf.read(info))
    except (ValueError, RecursionError, zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as e:
        raise UnreadableExport(path, f"{name} is not valid JSON ({type(e).__name__}: {str(e)[:200]})") from None


def restore_data(ws: "WorkspaceState", archive: Archive) -> None:
    """Put the state of ``archive`` into ``ws``, a workspace just created for it (a failure
    leaves ``ws`` half-built: discard it). Each service's ``persist.load`` builds its state."""
    try:
        _restore_data(ws, archive)
    except StateDataError as e:
        raise UnreadableExport(archive.path, f"state.json: {e}") from None


def _restore_data(ws: "WorkspaceState", archive: Archive) -> None:
    data = archive.data
    services = field(data, "services", dict, "state")
    persisters = _persisters()
    missing = sorted(n for n in services if persisters.get(n) is None or n not in ws._state_factories)
    if missing:
        raise StateDataError("services", f"service {missing[0]!r} is not installed here (a plugin?), or "
                             "cannot load saved state")
    storage = field(data, "storage", dict, "state")
    listing = field(storage, "files", list, "storage")
    with ws.lock:
        for name in service_names(ws):
            del ws.__dict__[name]
        for name in _load_order(services, persisters):
            ws.__dict__[name] = persisters[name].load(ws, services[name])
        for name in service_names(ws):  # made on the side by a loader, but not saved
            if name not in services:
                del ws.__dict__[name]
        files = {}
        for i, entry in enumerate(listing):
            where = f"storage.files[{i}]"
            name = field(entry, "path", str, where)
            files[name] = archive.read_file(name, field(entry, "sha256", str, where), field(entry, "size", int, where))
        mtime = load_as(dict[str, int], field(storage, "mtime", dict, "storage"), "storage.mtime")
        dirs = load_as(list[str], field(storage, "dirs", list, "storage"), "storage.dirs")
        try:
            ws.storage.load({"dirs": dirs, "files": files, "mtime": mtime})
        except ValueError as e:
            raise StateDataError("storage", str(e)) from None
        ws.ids._rng = decode_rng(field(data, "ids", list, "state"), "ids")
        clock = field(data, "clock", dict, "state")
        ws.clock._pinned_ms = load_as(int | None, clock.get("pinned_ms"), "clock.pinned_ms")
        ws.clock._offset_ms = load_as(int, clock.get("offset_ms", 0), "clock.offset_ms")
        ws.tokens.clear()
        ws.tokens.update(load_as(list[str], field(data, "tokens", list, "state"), "tokens"))


def _load_order(services: dict[str, Any], persisters: dict[str, Any]) -> list[str]:
    """Service names with each after the ones its persister names in ``AFTER``."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in seen or name not in services:
            return
        if name in path:
            raise StateDataError("services", f"persisters wait on each other: {' -> '.join(path)}")
        for dep in getattr(persisters[name], "AFTER", ()):
            visit(dep, (*path, name))
        seen.add(name)
        order.append(name)

    for name in sorted(services):
        visit(name, ())
    return order
