"""Wire shapes of the Files API: request models, directory entries, HTTP header helpers
(RFC 1123 dates, ``Range``), and the S3-style answers of pre-signed URLs."""
from __future__ import annotations

import json
import re
from email.utils import formatdate, parsedate_to_datetime
from typing import Any, Optional

from pydantic import ConfigDict

from mlemu.server.wire.fields import WireArgs
from mlemu.server.core.errors import ApiError, invalid
from mlemu.server.core.storage import FileInfo

OCTET_STREAM = "application/octet-stream"


class CreateUrlArgs(WireArgs):
    """``create-download-url`` / ``create-upload-url``: the SDK sends query parameters,
    mlflow's pre-signed repository a JSON body; the app merges both."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    path: str
    expire_time: Optional[str] = None


class ListDirectoryArgs(WireArgs):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    page_size: Optional[int] = None
    page_token: Optional[str] = None


def directory_entry(e: FileInfo) -> dict[str, Any]:
    """One ``contents[]`` item: ``path`` is absolute (mlflow takes relpaths of it)."""
    if e.is_dir:
        return {"path": e.path, "name": e.name, "is_directory": True}
    return {"path": e.path, "name": e.name, "is_directory": False, "file_size": e.size,
            "last_modified": e.mtime_ms}


def http_date(ms: int) -> str:
    """RFC 1123 (``Last-Modified``), e.g. ``Fri, 27 Nov 2026 04:16:26 GMT``."""
    return formatdate(ms / 1000.0, usegmt=True)


def parse_http_date(value: str) -> float | None:
    """Seconds since the epoch of an HTTP date, or None when unparseable."""
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def parse_bool(value: str | None, name: str, default: bool) -> bool:
    if value is None or value == "":
        return default
    v = value.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    raise invalid(f"Invalid value {json.dumps(value)} for parameter '{name}': expected true or false.")


def check_expire_time(value: str | None) -> None:
    """``expire_time`` must be an RFC 3339 timestamp when given (mlemu's URLs last an hour)."""
    if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise invalid(f"Invalid value {json.dumps(value)} for parameter 'expire_time': expected RFC 3339.")


_RANGE = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")  # longer numbers: malformed, ignored


class Unsatisfiable(Exception):
    """A ``Range`` that starts beyond the end of the file (HTTP 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a ``Range`` header asks for, or None for the whole file.

    Malformed and multi-range headers are ignored (RFC 9110 lets a server send it all)."""
    if not header or size == 0:
        return None
    m = _RANGE.match(header.strip())
    if m is None:
        return None
    first, last = m.group(1), m.group(2)
    if first == "" and last == "":
        return None
    if first == "":  # suffix: the last N bytes
        n = int(last)
        if n == 0:
            raise Unsatisfiable()
        return max(0, size - n), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        raise Unsatisfiable()
    return start, end


def json_error(code: str, message: str) -> tuple[bytes, dict[str, Any]]:
    body = ApiError(code, message).to_wire()
    return json.dumps(body, separators=(",", ":")).encode(), body


def s3_error_xml(code: str, message: str) -> bytes:
    """The XML error body of an S3 pre-signed request (the SDK parses it for expiry)."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>").encode()
