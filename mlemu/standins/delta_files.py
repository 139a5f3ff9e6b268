"""Delta tables stored as files in the emulated DBFS or a Unity Catalog volume, for Spark reads
by path: ``spark.read.format("delta").load("/databricks-datasets/...")`` and
``SELECT * FROM delta.`dbfs:/...``` (what MLOps Stacks' notebooks do with the taxi dataset).

Open-source Spark has no Delta reader without Delta's jars, so the table's snapshot is replayed
here from its JSON commits (``_delta_log/<version>.json``: ``add`` and ``remove`` actions, in
version order) and its live parquet files are handed to Spark's parquet reader. Paths follow
Databricks: ``dbfs:/x`` and bare ``/x`` are DBFS, ``/Volumes/...`` are volume files.

Limits: parquet checkpoints are not read (a log whose earlier commits were removed after a
checkpoint is refused as incomplete), nor deletion vectors or column mapping (refused), nor
partition values kept only in the log (partition columns must be in the files, as a
``partitionBy`` write by Delta keeps them in the path only: refused).
"""
from __future__ import annotations

import json
import posixpath
import re
import tempfile
from typing import Any

from mlemu.server.core.storage import dbfs_location

#: ``delta.`<path>``` in SQL text.
DELTA_PATH_IN_SQL = re.compile(r"(?i)(?<![\w.`])delta\s*\.\s*`([^`]+)`")
_COMMIT = re.compile(r"^(\d{20})\.json$")

#: Copies of the files Spark reads, kept until exit (Spark reads lazily).
_copies: list[tempfile.TemporaryDirectory] = []


class DeltaPathError(Exception):
    """A path that is not a readable Delta table; ``str()`` is Spark's message."""


def shown(path: str) -> str:
    """The path as Databricks' errors show it (``dbfs:/...``)."""
    return path if path.startswith(("dbfs:", "/Volumes/")) else f"dbfs:{path}"


def live_files(storage: Any, path: str) -> tuple[str, list[str]]:
    """The table's storage namespace and the storage paths of the parquet files of its latest
    snapshot; DeltaPathError when ``path`` is missing or not a Delta table."""
    ns, root = dbfs_location(path)
    if not storage.exists(ns, root):
        raise DeltaPathError(f"[PATH_NOT_FOUND] Path does not exist: {shown(path)}. SQLSTATE: 42K03")
    log_dir = posixpath.join(root, "_delta_log")
    entries = storage.list(ns, log_dir) or []
    commits = sorted((int(m.group(1)), e.path) for e in entries if (m := _COMMIT.match(e.name)))
    if not commits:
        raise DeltaPathError(f"[DELTA_MISSING_DELTA_TABLE] `{shown(path)}` is not a Delta table.")
    if [v for v, _ in commits] != list(range(len(commits))):
        raise DeltaPathError(f"[DELTA_VERSIONS_NOT_CONTIGUOUS] The Delta log of `{shown(path)}` does not "
                             "start at version 0 or has a gap (mlemu does not read parquet checkpoints).")
    live: dict[str, None] = {}
    for _, commit in commits:
        for line in storage.read(ns, commit).decode("utf-8").splitlines():
            if not line.strip():
                continue
            action = json.loads(line)
            meta = action.get("metaData")
            if meta and meta.get("partitionColumns"):
                raise DeltaPathError(f"mlemu does not read partitioned Delta tables by path: `{shown(path)}`.")
            if meta and (meta.get("configuration") or {}).get("delta.columnMapping.mode", "none") != "none":
                raise DeltaPathError(f"mlemu does not read Delta tables with column mapping: `{shown(path)}`.")
            if "add" in action:
                if action["add"].get("deletionVector"):
                    raise DeltaPathError(f"mlemu does not read Delta deletion vectors: `{shown(path)}`.")
                live[action["add"]["path"]] = None
            elif "remove" in action:
                live.pop(action["remove"]["path"], None)
    return ns, [posixpath.join(root, rel) for rel in live]


def read(spark: Any, storage: Any, path: str) -> Any:
    """The Delta table at ``path`` as a Spark DataFrame (its live files, copied to local disk)."""
    ns, files = live_files(storage, path)
    if not files:
        raise DeltaPathError(f"[DELTA_READ_TABLE_WITHOUT_COLUMNS] `{shown(path)}` has no data files; "
                             "mlemu reads the schema from the files.")
    copy = tempfile.TemporaryDirectory(prefix="mlemu-delta-", ignore_cleanup_errors=True)
    _copies.append(copy)
    local = []
    for i, f in enumerate(files):
        target = posixpath.join(copy.name, f"{i:05d}-{posixpath.basename(f)}")
        with open(target, "wb") as out:
            out.write(storage.read(ns, f))
        local.append(target)
    return spark.read.format("parquet").load(local)
