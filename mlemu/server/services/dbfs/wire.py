"""Request models and the ``FileInfo`` shape of the DBFS API."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs
from mlemu.server.core.storage import FileInfo


class _Args(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class PathArgs(_Args):
    path: str


class DeleteArgs(_Args):
    path: str
    recursive: bool = False


class PutArgs(_Args):
    path: str
    contents: Optional[str] = None
    overwrite: bool = False


class CreateArgs(_Args):
    path: str
    overwrite: bool = False


class AddBlockArgs(_Args):
    handle: int
    data: str


class CloseArgs(_Args):
    handle: int


class ReadArgs(_Args):
    path: str
    offset: Optional[int] = None
    length: Optional[int] = None


class MoveArgs(_Args):
    source_path: str
    destination_path: str


def file_info(f: FileInfo) -> dict[str, Any]:
    """``path`` is absolute and has no ``dbfs:`` prefix (mlflow strips the artifact root off it)."""
    return {"path": f.path, "is_dir": f.is_dir, "file_size": 0 if f.is_dir else f.size,
            "modification_time": f.mtime_ms}
