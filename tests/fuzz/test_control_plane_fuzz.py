"""Hostile-input fuzzing of the control plane (``/__mlemu__/...``, issue 17): generated bodies
and query strings for the clock, reset, snapshots, journal, faults and export go through
``Workspace.handle``, the code both transports call.

Every answer must be a success or a JSON error with an ``error_code`` (never a 500, never an
exception out of ``handle``); the clock must stay inside the range Databricks timestamps
allow; a file uploaded before must still answer; and an export may only ever appear inside
the export directory given at start.

Budget: ``MLEMU_FUZZ_EXAMPLES`` examples per control route (default 12, derandomized);
``scripts/fuzz.sh`` runs a long, random campaign.
"""
from __future__ import annotations

import json
import os
from urllib.parse import urlencode

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mlemu import Workspace  # noqa: E402
from mlemu.server.core.clock import check_ms  # noqa: E402

EXAMPLES = int(os.environ.get("MLEMU_FUZZ_EXAMPLES", "12"))
RANDOM = os.environ.get("MLEMU_FUZZ_RANDOM", "") == "1"
KNOWN_FILE = "/Volumes/main/default/vol/known.txt"

#: (method, path, the body fields it reads)
ROUTES = [
    ("POST", "/__mlemu__/clock", ("freeze_ms", "advance_seconds", "unfreeze")),
    ("GET", "/__mlemu__/clock", ()),
    ("POST", "/__mlemu__/reset", ()),
    ("POST", "/__mlemu__/snapshots", ()),
    ("POST", "/__mlemu__/snapshots/s1/restore", ()),
    ("DELETE", "/__mlemu__/snapshots/s1", ()),
    ("GET", "/__mlemu__/journal", ()),
    ("DELETE", "/__mlemu__/journal", ()),
    ("GET", "/__mlemu__/faults", ()),
    ("POST", "/__mlemu__/faults", ("operation", "path", "method", "status", "error_code", "message",
                                   "retry_after", "delay", "drop", "times", "fraction")),
    ("DELETE", "/__mlemu__/faults/1", ()),
    ("POST", "/__mlemu__/export", ("path",)),
    ("POST", "/__mlemu__/nope", ()),
]

_NASTY = st.sampled_from([
    "inf", "-inf", "nan", "1e300", "-1e12", 10 ** 30, -(10 ** 30), 2 ** 63, -(2 ** 63) - 1, 1e308, -1.0, 0,
    "", " ", "/", "/proc/x.zip", "../x.zip", "..", "a\x00b.zip", "x" * 300, "dir", "dir/", "ok.zip",
    "sub/ok.zip", "/etc/passwd", "\r\nX: 1", None, True, False, [], {}, [1, 2], {"a": 1},
])
_SCALAR = st.one_of(_NASTY, st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))


@st.composite
def _request(draw, method: str, fields: tuple[str, ...]):  # type: ignore[no-untyped-def]
    chosen = draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields))) if fields else []
    payload = {name: draw(_SCALAR) for name in chosen}
    payload.update(draw(st.dictionaries(st.text(max_size=6), _SCALAR, max_size=2)))
    query = draw(st.sampled_from(["", "offset=-1", "limit=abc", "offset=99999999999999999999", "limit=0",
                                  urlencode({"offset": draw(st.text(max_size=8))})]))
    kind = draw(st.sampled_from(["json", "json", "json", "garbage", "deep", "scalar", "empty"]))
    if method == "GET" or kind == "empty":
        body = b""
    elif kind == "json":
        body = json.dumps(payload, allow_nan=True).encode()
    elif kind == "garbage":
        body = draw(st.binary(max_size=64))
    elif kind == "deep":
        depth = draw(st.integers(min_value=50, max_value=100_000))
        body = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    else:
        body = json.dumps(draw(_SCALAR), allow_nan=True).encode()
    return query, body


def _workspace(tmp_path) -> tuple[Workspace, str]:
    ws = Workspace()
    exports = tmp_path / "exports"
    (exports / "dir").mkdir(parents=True)
    (exports / "sub").mkdir()
    ws.export_dir = str(exports)
    auth = {"authorization": f"Bearer {ws.token}"}
    status, _, _ = ws.handle("PUT", "/api/2.0/fs/files" + KNOWN_FILE, "", auth, b"keep")
    assert status < 300
    return ws, str(exports)


def _files_outside(root: str, exports: str) -> set[str]:
    found = set()
    for folder, _, names in os.walk(root):
        if not os.path.realpath(folder).startswith(os.path.realpath(exports)):
            found.update(os.path.join(folder, n) for n in names)
    return found


@pytest.mark.parametrize("method,path,fields", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_control_plane_bodies_never_break_the_workspace(tmp_path, method, path, fields):
    ws, exports = _workspace(tmp_path)
    auth = {"authorization": f"Bearer {ws.token}"}
    before = _files_outside(str(tmp_path), exports)

    @settings(max_examples=EXAMPLES, derandomize=not RANDOM, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(_request(method, fields))
    def run(request):  # type: ignore[no-untyped-def]
        query, body = request
        status, headers, out = ws.handle(method, path, query, auth, body)
        where = f"{method} {path}?{query} {body[:120]!r} -> {status} {out[:300]!r}"
        assert status < 500, where
        if status >= 400:
            assert headers.get("content-type") == "application/json", where
            err = json.loads(out)
            assert isinstance(err.get("error_code"), str) and err["error_code"], where
        check_ms(ws.clock.now_ms(), "now")  # still a Databricks timestamp
        if path == "/__mlemu__/reset" and status == 200:  # the known file went with the reset
            assert ws.handle("PUT", "/api/2.0/fs/files" + KNOWN_FILE, "", auth, b"keep")[0] < 300
        got, _, data = ws.handle("GET", "/api/2.0/fs/files" + KNOWN_FILE, "", auth, b"")
        assert got == 200 and data == b"keep", where
        got, _, _ = ws.handle("HEAD", "/api/2.0/fs/files" + KNOWN_FILE, "", auth, b"")
        assert got == 200, where

    run()
    assert not ws.internal_errors, ws.internal_errors[:1]
    assert _files_outside(str(tmp_path), exports) == before
